"""What a project reads from each source: columns and event names (for `validate` and for
the tables of `segsql test` fixtures)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from .guards import guarded
from .types import (
    NUMERIC_OPS,
    Condition,
    EventCond,
    MembersCond,
    ParentCond,
    Project,
    PropertyCond,
    Segment,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    SqlCond,
)
from .walk import children, walk, with_references


class Usage:
    def __init__(self) -> None:
        # source -> column -> "where it is used" (for messages)
        self.columns: dict[str, dict[str, str]] = defaultdict(dict)
        # (sources searched, event names, where) for event-name checks
        self.events: list[tuple[tuple[str, ...], tuple[str, ...], str]] = []
        # (source, column) -> SQL type the conditions imply (for fixture tables)
        self.types: dict[tuple[str, str], str] = {}

    def hint(self, source: str, column: str, where: str, kind: str | None) -> None:
        self.columns[source].setdefault(column, where)
        if kind:
            self.types.setdefault((source, column), kind)


def project_usage(project: Project, segments: list[Segment] | None = None) -> Usage:
    """What the enabled segments read from every source; or what `segments` and those they
    reference read, from the sources they read only."""
    usage = Usage()
    walked = (
        project.enabled.values()
        if segments is None
        else with_references(segments, project.segments)
    )
    for seg in walked:
        usage.columns[project.entity_source(seg.entity).name]  # noqa: B018 - marks it read
        # suppressions and outranking segments are read too (model/guards.py)
        _walk(project, usage, seg.entity, guarded(project, seg), f"segment '{seg.name}'")
        if seg.goal is not None:  # `segsql report` reads the goal's events
            for s in seg.goal.sources:
                usage.columns[s]  # noqa: B018 - marks it read
                _filter_columns(usage, s, seg.goal.where, f"segment '{seg.name}' goal")
            if seg.goal.events is not None:
                usage.events.append(
                    (seg.goal.sources, seg.goal.events, f"segment '{seg.name}' goal")
                )
    for s in project.sources.values():
        if segments is not None and s.name not in usage.columns:
            continue
        cols = usage.columns[s.name]
        for role in ("key", "event", "timestamp", "created_at", "loaded_at"):
            if getattr(s, role):
                cols.setdefault(getattr(s, role), f"source '{s.name}' {role}")
        if segments is not None:
            continue  # json and parent columns are listed where conditions read them
        for column in s.json:
            cols.setdefault(column, f"source '{s.name}' json")
        for parent, column in s.parents:
            cols.setdefault(column, f"source '{s.name}' parent {parent}")
    return usage


def _walk(project: Project, usage: Usage, entity: str, cond: Condition, ctx: str) -> None:
    """Record what `cond` (on entities of `entity`) reads, its sub-conditions too."""
    record = _RECORD.get(type(cond))
    if record is not None:
        record(project, usage, entity, cond, ctx)
    for child in children(cond):
        _walk(project, usage, entity, child, ctx)


def _property(project: Project, usage: Usage, entity: str, cond: PropertyCond, ctx: str) -> None:
    entity_src = project.entity_source(entity).name
    usage.hint(entity_src, cond.prop.column, f"{ctx} ({cond.loc})", _implied_type(cond))


def _sql(project: Project, usage: Usage, entity: str, cond: SqlCond, ctx: str) -> None:
    entity_src = project.entity_source(entity).name
    for column in sqlglot.parse_one(cond.sql, read=cond.dialect).find_all(exp.Column):
        usage.columns[entity_src].setdefault(column.name, f"{ctx} sql ({cond.loc})")


def _event(project: Project, usage: Usage, entity: str, cond: EventCond, ctx: str) -> None:
    where = f"{ctx} ({cond.loc})"
    for s in cond.sources:
        usage.columns[s]  # noqa: B018 - the source is read, whatever its columns
        _filter_columns(usage, s, cond.where, where)
        of = cond.measure.of
        if of is not None:
            numeric = not of.path and cond.measure.kind in ("sum", "avg", "min", "max")
            usage.hint(s, of.column, where, "DOUBLE" if numeric else None)
    if cond.events is not None:
        usage.events.append((cond.sources, cond.events, where))
    if isinstance(cond.window, SinceProperty):
        prop = cond.window.prop
        entity_src = project.entity_source(entity).name
        usage.hint(entity_src, prop.column, where, None if prop.path else "TIMESTAMP")
    if isinstance(cond.window, SinceNthLast):
        for s in cond.window.sources:
            usage.columns[s]  # noqa: B018
        if cond.window.events is not None:
            usage.events.append((cond.window.sources, cond.window.events, where))


def _sequence(project: Project, usage: Usage, entity: str, cond: SequenceCond, ctx: str) -> None:
    for step in cond.steps:
        for s in step.sources:
            usage.columns[s]  # noqa: B018
            _filter_columns(usage, s, step.where, f"{ctx} ({cond.loc})")
        if step.events is not None:
            usage.events.append((step.sources, step.events, f"{ctx} ({cond.loc})"))


def _parent(project: Project, usage: Usage, entity: str, cond: ParentCond, ctx: str) -> None:
    usage.columns[project.entity_source(cond.parent).name]  # noqa: B018
    usage.hint(project.entity_source(entity).name, cond.column, f"{ctx} ({cond.loc})", None)
    if cond.where is not None:
        _walk(project, usage, cond.parent, cond.where, ctx)


def _members(project: Project, usage: Usage, entity: str, cond: MembersCond, ctx: str) -> None:
    usage.hint(project.entity_source(cond.child).name, cond.column, f"{ctx} ({cond.loc})", None)
    if cond.where is not None:
        _walk(project, usage, cond.child, cond.where, ctx)


_RECORD: dict[type, Callable[..., None]] = {
    PropertyCond: _property,
    SqlCond: _sql,
    EventCond: _event,
    SequenceCond: _sequence,
    ParentCond: _parent,
    MembersCond: _members,
}


def _filter_columns(usage: Usage, source: str, cond: Condition | None, where: str) -> None:
    """The columns of `source` an event filter reads (properties under combinators)."""
    if cond is None:
        return
    for node in walk(cond, nested=False):
        if isinstance(node, PropertyCond):
            usage.hint(source, node.prop.column, where, _implied_type(node))


def _implied_type(cond: PropertyCond) -> str | None:
    """The column type a property test implies (None: text will do)."""
    if cond.prop.path:
        return None
    for test in cond.tests:
        if test.op in ("within", "older_than", "before", "after"):
            return "TIMESTAMP"
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        if (
            test.op in NUMERIC_OPS
            and values
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        ):
            return "DOUBLE"
    return None
