"""Narrowing (issue 11, "touch only what changed"), the part decided from the model alone:
can a run at T after one at P evaluate only the entities that can have changed, and
which rows say that an entity can have changed.

Between P and T an entity's membership can change only through
- its event rows with a timestamp in [P - s, T - s], for s = 0 and every duration of a
  condition that reads rows of that event (a row that crossed a window's edge), and the
  rows of the events the conditions read at or before T that the run at P may not have
  seen: later than P - `lookback`, or, for a source with `loaded_at`, loaded after the
  latest row that run saw (SPEC section 10's contract);
- its entity-table row: a changed property (a signature of the row, kept between runs),
  a new or deleted row, or a test relative to T (`signup_at within 30d`, a `created_at`
  after P) whose value differs at P and at T;
- for a `parent` condition on the parent's properties only: its parent's row (part of
  the entity's signature), and the parent's `created_at` after P.
Every comparison with T in the language is one of those: an event's timestamp (or a
first/last time) against T - d, or an entity property against T - d. Where a condition
compares something else with T (an event property `within` a duration, the min of an
amount `older_than`...), reads other entities' events or segments (`members`, a `parent`
condition on more than the parent's properties), or is SQL, the reason
is returned and the entity type is evaluated in full, as are segments with run rules
(their stored members are not their evaluated ones).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..model.guards import guarded, guarded_where
from ..model.types import (
    All,
    AnyOf,
    Condition,
    Duration,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    ParentCond,
    Project,
    PropertyCond,
    Segment,
    SequenceCond,
    SinceNthLast,
    SqlCond,
)
from ..model.walk import walk
from .incremental import source_signature

TIME_MEASURES = ("first", "last")  # measures whose value is an event's timestamp


@dataclass(frozen=True)
class Edge:
    """The rows of `events` (None: any event) of source `source` whose timestamp is in
    [P - seconds, T - seconds] can change a membership."""

    source: str
    seconds: int
    events: tuple[str, ...] | None


@dataclass(frozen=True)
class Edges:
    """What tells the entities that can have changed (see the module's docstring)."""

    shifts: tuple[Edge, ...]  # per source read: 0 and each duration of the conditions
    timed: tuple[PropertyCond, ...]  # entity property tests relative to T
    parents: tuple[tuple[str, str], ...]  # (parent type, column) of `parent` conditions
    basis: str  # the definitions the kept signatures depend on (a change: all entities)


def edges(project: Project, entity: str, segments: list[Segment]) -> Edges | str:
    """The edges of evaluating `segments` (all of type `entity`), or why they cannot be
    narrowed."""
    for seg in segments:
        if seg.reentry_cooldown is not None or seg.min_membership is not None:
            return f"{seg.name} has run rules (its stored members are not its evaluated ones)"
    seen: set[str] = set()
    nodes: list[Condition] = []
    for seg in segments:
        nodes += _nodes(project, guarded(project, seg), seen)
    timed: list[PropertyCond] = []
    for node in nodes:
        why = _blocker(node)
        if why is not None:
            return why
        if isinstance(node, PropertyCond) and _relative_tests(node.tests):
            timed.append(node)
    shifts = _shifts(nodes)
    parents = tuple(sorted({(n.parent, n.column) for n in nodes if isinstance(n, ParentCond)}))
    sources = [project.entity_source(entity), *project.event_sources(entity)]
    sources += [project.entity_source(parent) for parent, _ in parents]
    basis = repr((shifts, parents, tuple(source_signature(project, s.name) for s in sources)))
    return Edges(shifts, tuple(dict.fromkeys(timed)), parents, basis)


def why_not(project: Project, seg: Segment) -> str | None:
    """Why the segment cannot be narrowed; None if it can."""
    found = edges(project, seg.entity, [seg])
    return found if isinstance(found, str) else None


def _shifts(nodes: list[Condition]) -> tuple[Edge, ...]:
    """Per (source, shift), the events whose rows matter: for each condition that reads
    events, the rows it reads at 0 and at each of its durations."""
    found: dict[tuple[str, int], set[str] | None] = {}

    def add(reads: list[tuple[tuple[str, ...], tuple[str, ...] | None]], seconds: set[int]):
        for sources, events in reads:
            for key in ((src, s) for src in sources for s in seconds | {0}):
                if events is None or found.get(key, set()) is None:
                    found[key] = None
                else:
                    found.setdefault(key, set()).update(events)  # type: ignore[union-attr]

    for node in nodes:
        if isinstance(node, EventCond):
            reads = [(node.sources, node.events)]
            if isinstance(node.window, SinceNthLast):  # its anchor: the nth last of these
                reads.append((node.window.sources, node.window.events))
            add(reads, _durations(node, set()))
        elif isinstance(node, SequenceCond):
            add([(step.sources, step.events) for step in node.steps], _durations(node, set()))
    return tuple(
        Edge(src, s, None if events is None else tuple(sorted(events)))
        for (src, s), events in sorted(found.items())
    )


def _nodes(project: Project, cond: Condition, seen: set[str]) -> list[Condition]:
    """Every node the evaluation renders for `cond`, through references (to the referenced
    segment's guarded condition, as the compiler reads it)."""
    out = []
    for node in walk(cond, nested=False):  # a parent's condition: see `_blocker`
        out.append(node)
        if isinstance(node, InSegment) and node.segment not in seen:
            seen.add(node.segment)
            out += _nodes(project, guarded_where(project, node.segment), seen)
    return out


PARENT_ROW = (All, AnyOf, Not, PropertyCond)  # what a parent condition may read


def _blocker(node: Condition) -> str | None:
    if isinstance(node, MembersCond):
        return "a condition reads another entity type's rows"
    if isinstance(node, ParentCond) and node.where is not None:
        for n in walk(node.where, nested=False):
            if not isinstance(n, PARENT_ROW):
                return "a parent condition reads more than the parent's row"
            if isinstance(n, PropertyCond) and _relative_tests(n.tests):
                return "a parent's property is compared with a time relative to T"
    if isinstance(node, SqlCond):
        return "a sql condition can read anything"
    if isinstance(node, EventCond):
        if node.measure.kind not in TIME_MEASURES and _relative_tests(node.measure.tests):
            return f"a {node.measure.kind} is compared with a time relative to T"
        if node.where is not None and _relative_filter(node.where):
            return "an event property is compared with a time relative to T"
    if isinstance(node, SequenceCond) and any(
        s.where is not None and _relative_filter(s.where) for s in node.steps
    ):
        return "an event property is compared with a time relative to T"
    return None


def _relative_tests(tests) -> bool:
    return any(isinstance(t.value, Duration) for t in tests)


def _relative_filter(cond: Condition) -> bool:
    return any(isinstance(n, PropertyCond) and _relative_tests(n.tests) for n in walk(cond))


def _durations(value, found: set[int]) -> set[int]:
    """The seconds of every Duration anywhere in a model value (its windows, tests,
    sequences, filters: every one is a possible edge)."""
    if isinstance(value, Duration):
        found.add(value.seconds)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _durations(getattr(value, f.name), found)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _durations(v, found)
    return found
