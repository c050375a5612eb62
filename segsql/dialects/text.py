"""Text an engine cannot hold, found in the conditions compiled for it (see
`Dialect.text_allows_nul`): checked for the target dialect, not the one the definitions
were read with."""

from __future__ import annotations

import dataclasses

from ..errors import DefinitionError
from ..model.guards import guarded_where
from ..model.types import Condition, InSegment, Project, Segment


def refuse_nul(project: Project, segments: list[Segment], dialect: str) -> None:
    """A NUL in any string of a condition (a value, an event name, a JSON key, `sql:`
    text ...) of `segments` or of the segments they reference with in_segment is a
    DefinitionError naming that condition's place."""
    todo = [(s.name, s.name) for s in segments]
    seen = set()
    while todo:
        name, via = todo.pop()
        if name in seen or name not in project.segments:
            continue
        seen.add(name)
        refs: list[str] = []
        holder = _nul_holder(guarded_where(project, name), refs)
        if holder is not None:
            used = "" if name == via else f" (referenced by segment '{via}')"
            raise DefinitionError(
                f"text cannot contain the NUL character (\\x00) on {dialect}",
                holder.loc,
                f"segment '{name}'{used}",
            )
        todo += [(ref, via) for ref in refs]


def _nul_holder(cond: Condition, refs: list[str]) -> Condition | None:
    """The innermost condition under `cond` with a NUL in a string of its own fields
    (sub-conditions, event and step filters searched too); the segments it references
    with in_segment are added to `refs`."""
    inner: list[Condition] = []
    fields = [getattr(cond, f.name) for f in dataclasses.fields(cond) if f.name != "loc"]
    own = any([_has_nul(value, inner) for value in fields])
    for sub in inner:
        if (found := _nul_holder(sub, refs)) is not None:
            return found
    if isinstance(cond, InSegment):
        refs.append(cond.segment)
    return cond if own else None


def _has_nul(value: object, inner: list[Condition]) -> bool:
    """A NUL in a string of `value`, searching tuples and dataclasses (Prop, Test, Step,
    windows ...); conditions met on the way go to `inner`, to be searched on their own."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Condition):
        inner.append(value)
        return False
    if isinstance(value, (tuple, list)):
        return any([_has_nul(v, inner) for v in value])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any([_has_nul(getattr(value, f.name), inner) for f in dataclasses.fields(value)])
    return False
