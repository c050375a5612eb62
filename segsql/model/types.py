"""Model types. Conditions are frozen dataclasses: equal conditions are equal features,
which is how the planner deduplicates work across segments. Locations never take part
in equality (`compare=False`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import Location

__all__ = [
    "Duration",
    "Prop",
    "Test",
    "Condition",
    "All",
    "AnyOf",
    "Not",
    "PropertyCond",
    "Measure",
    "Within",
    "During",
    "SinceProperty",
    "SinceNthLast",
    "Window",
    "EventCond",
    "Step",
    "SequenceCond",
    "InSegment",
    "ParentCond",
    "MembersCond",
    "SqlCond",
    "Source",
    "Segment",
    "Suppression",
    "Goal",
    "Fixture",
    "Project",
    "NUMERIC_OPS",
    "TEXT_OPS",
    "TIME_OPS",
    "COMPARISON_OPS",
    "MEASURES",
]

NUMERIC_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between")
TEXT_OPS = ("contains", "starts_with", "ends_with", "matches")
TIME_OPS = ("within", "older_than", "before", "after")
COMPARISON_OPS = NUMERIC_OPS + TEXT_OPS + ("is_null",) + TIME_OPS
MEASURES = ("count", "count_distinct", "sum", "avg", "min", "max", "first", "last")

_UNITS = {
    "s": ("SECOND", 1),
    "m": ("MINUTE", 60),
    "h": ("HOUR", 3600),
    "d": ("DAY", 86400),
    "w": ("DAY", 7 * 86400),
}


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # s m h d w

    @property
    def seconds(self) -> int:
        return self.amount * _UNITS[self.unit][1]

    @property
    def sql_interval(self) -> tuple[int, str]:
        """(n, UNIT) for an SQL interval; weeks become days."""
        name, _ = _UNITS[self.unit]
        return (self.amount * 7, name) if self.unit == "w" else (self.amount, name)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Prop:
    """A column, or a key path inside a JSON column (`properties.a.b`)."""

    column: str
    path: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ".".join((self.column, *self.path))


@dataclass(frozen=True)
class Test:
    """One comparison: `op` from COMPARISON_OPS and its (normalised) value."""

    op: str
    value: Any  # scalar | tuple of scalars | Duration | datetime | bool


class Condition:
    """Base of every condition node."""

    loc: Location | None


def _loc() -> Any:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class All(Condition):
    items: tuple[Condition, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Not(Condition):
    item: Condition
    loc: Location | None = _loc()


@dataclass(frozen=True)
class PropertyCond(Condition):
    prop: Prop
    tests: tuple[Test, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Measure:
    kind: str  # one of MEASURES
    of: Prop | None = None
    tests: tuple[Test, ...] = (Test("gte", 1),)


@dataclass(frozen=True)
class Within:
    duration: Duration


@dataclass(frozen=True)
class During:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class SinceProperty:
    prop: Prop  # a property of the entity
    duration: Duration | None = None


@dataclass(frozen=True)
class SinceNthLast:
    events: tuple[str, ...] | None  # None: any event
    n: int
    sources: tuple[str, ...]


Window = Within | During | SinceProperty | SinceNthLast


@dataclass(frozen=True)
class EventCond(Condition):
    events: tuple[str, ...] | None  # None: any event ("*")
    sources: tuple[str, ...]  # the event sources searched (resolved)
    where: Condition | None
    window: Window | None
    measure: Measure
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Step:
    events: tuple[str, ...] | None
    sources: tuple[str, ...]
    where: Condition | None
    absent: bool = False


@dataclass(frozen=True)
class SequenceCond(Condition):
    steps: tuple[Step, ...]
    within: Duration | None = None
    completed_within: Duration | None = None
    loc: Location | None = _loc()


@dataclass(frozen=True)
class InSegment(Condition):
    segment: str
    loc: Location | None = _loc()


@dataclass(frozen=True)
class ParentCond(Condition):
    """The entity's parent (via `column`) exists and satisfies `where`."""

    parent: str  # parent entity type
    column: str  # the child's column holding the parent key
    where: Condition | None
    loc: Location | None = _loc()


@dataclass(frozen=True)
class MembersCond(Condition):
    """How many child entities (whose `column` holds this entity's key) satisfy `where`."""

    child: str
    column: str
    where: Condition | None
    tests: tuple[Test, ...]
    loc: Location | None = _loc()


@dataclass(frozen=True)
class SqlCond(Condition):
    sql: str
    dialect: str  # the dialect the text is written in
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Source:
    name: str
    table: tuple[str, ...]  # (catalog?, schema?, table)
    key: str
    entity: str | None = None  # an entity source ...
    events_of: str | None = None  # ... or an event source
    created_at: str | None = None
    event: str | None = None
    timestamp: str | None = None
    json: tuple[str, ...] = ()
    parents: tuple[tuple[str, str], ...] = ()  # (parent type, column)
    loc: Location | None = _loc()
    loaded_at: str | None = None  # event sources: when a row landed (incremental refresh)
    lookback: Duration | None = None  # event sources: how late rows may land (None: 0s)
    # columns of a zone-aware type (TIMESTAMPTZ): read as their instant in UTC. Learnt
    # from the warehouse by `run` before it compiles; empty without a connection
    zone_aware: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def table_name(self) -> str:
        return ".".join(self.table)


@dataclass(frozen=True)
class Suppression:
    """A condition that removes an entity from every segment of its type (SPEC 14)."""

    name: str
    entity: str
    where: Condition
    description: str = ""
    loc: Location | None = _loc()


@dataclass(frozen=True)
class Goal:
    """The outcome a segment's holdout measures: a matching event within `within` after
    the entity entered."""

    events: tuple[str, ...] | None  # None: any event ("*")
    sources: tuple[str, ...]
    where: Condition | None
    within: Duration


@dataclass(frozen=True)
class Segment:
    name: str
    entity: str
    where: Condition
    description: str = ""
    owner: str | None = None
    tags: tuple[str, ...] = ()
    refresh: Duration | None = None
    holdout: int = 0
    enabled: bool = True
    loc: Location | None = _loc()
    # guardrails (SPEC 14); see model/guards.py for how they change the membership
    ignore_suppressions: tuple[str, ...] = ()
    priority_group: str | None = None
    priority: int | None = None
    # the enabled segments of its priority group that win over it (lower priority first);
    # filled in by the project loader
    outranked_by: tuple[str, ...] = ()
    reentry_cooldown: Duration | None = None
    min_membership: Duration | None = None
    max_exit_share: float | None = None
    goal: Goal | None = None
    # where each guardrail key was written (for errors found across files)
    key_locs: tuple[tuple[str, Location], ...] = field(default=(), compare=False, repr=False)

    def loc_of(self, key: str) -> Location | None:
        return next((loc for k, loc in self.key_locs if k == key), self.loc)


@dataclass(frozen=True)
class Fixture:
    name: str
    segment: str
    as_of: datetime
    given: dict[str, list[dict[str, Any]]] = field(hash=False)
    members: tuple[Any, ...]
    loc: Location | None = _loc()


@dataclass
class Project:
    root: str
    sources: dict[str, Source]
    segments: dict[str, Segment]  # every segment, disabled ones too
    fixtures: list[Fixture]
    suppressions: dict[str, Suppression] = field(default_factory=dict)

    def entity_source(self, entity: str) -> Source:
        return next(s for s in self.sources.values() if s.entity == entity)

    def event_sources(self, entity: str) -> list[Source]:
        return [s for s in self.sources.values() if s.events_of == entity]

    @property
    def enabled(self) -> dict[str, Segment]:
        return {n: s for n, s in self.segments.items() if s.enabled}
