"""dbt-style selection: `name`, `tag:x`, `+name` (with what it depends on), `name+` (with
what depends on it); space-separated selectors are a union, comma-joined an intersection."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import UsageError, did_you_mean
from .types import Project, Segment
from .walk import dependencies


def select(
    project: Project, selectors: Iterable[str] | None, include_disabled: bool = False
) -> list[Segment]:
    """Selected segments in definition order (all enabled ones when nothing is given)."""
    pool = project.segments if include_disabled else project.enabled
    words = [w for s in (selectors or ()) for w in s.split()]
    if not words:
        return list(pool.values())
    chosen: set[str] = set()
    for word in words:
        parts = [_one(project, pool, p) for p in word.split(",")]
        chosen |= set.intersection(*parts)
    return [s for n, s in pool.items() if n in chosen]


def _one(project: Project, pool: dict[str, Segment], selector: str) -> set[str]:
    upstream, downstream = selector.startswith("+"), selector.endswith("+")
    core = selector.strip("+")
    if core.startswith("tag:"):
        tag = core[4:]
        found = {n for n, s in pool.items() if tag in s.tags}
        if not found:
            tags = sorted({t for s in project.segments.values() for t in s.tags})
            raise UsageError(
                f"selector '{selector}' matches no segment: no tag '{tag}'{did_you_mean(tag, tags)}"
            )
    elif core in pool:
        found = {core}
    else:
        state = " (it is disabled)" if core in project.segments else ""
        raise UsageError(
            f"selector '{selector}' matches no segment{state}"
            f"{did_you_mean(core, pool) if not state else ''}"
        )
    if upstream:
        todo = list(found)
        while todo:
            for dep in dependencies(project.segments[todo.pop()]):
                if dep not in found:
                    found.add(dep)
                    todo.append(dep)
    if downstream:
        changed = True
        while changed:
            more = {n for n, s in pool.items() if n not in found and set(dependencies(s)) & found}
            found |= more
            changed = bool(more)
    return found
