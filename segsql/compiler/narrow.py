"""Narrowing in SQL (plan/narrow.py says when and why it is exact): the ids of the
entities that can have changed between runs at P and T, a signature of each entity-table
row, and an evaluation query restricted to those ids."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from ..dialects.base import Dialect
from ..model.types import Project, Source
from ..plan.incremental import Horizon
from ..plan.narrow import Edges
from .incremental import unsettled
from .nodes import ENTITY, KEY, and_, coalesce, isin, or_, present, select, table_alias
from .render import Renderer

AFFECTED_ID = "entity_id"  # the column of the affected ids (text)
SIGNATURE = "signature"


def affected_query(
    project: Project,
    entity: str,
    d: Dialect,
    edges: Edges,
    horizons: dict[str, Horizon],
    previous: datetime,
    as_of: datetime,
    changed: exp.Table,
) -> exp.Query:
    """The ids (as text, never NULL) of the `entity` entities whose membership can differ
    at `previous` and at `as_of`: events at an edge, events at or before T that are not
    settled at the previous run's `horizons` (source -> what it saw), entity rows whose
    test relative to T differs, and the ids in `changed` (rows whose signature changed:
    `signature_rows`)."""
    at_p, at_t = Renderer(d, previous), Renderer(d, as_of)
    parts: list[exp.Query] = []
    for src in project.event_sources(entity):
        ours = [e for e in edges.shifts if e.source == src.name]
        if not ours:
            continue  # no condition reads its rows
        ts = at_t.read(src, src.timestamp)  # type: ignore[arg-type]
        hits = [
            and_(
                exp.Between(
                    this=ts.copy(),
                    low=d.timestamp(previous - _s(e.seconds)),
                    high=d.timestamp(as_of - _s(e.seconds)),
                ),
                _of(at_t, src, e.events),
            )
            for e in ours
        ]
        read = next(e.events for e in ours if e.seconds == 0)  # every event read at all
        new = and_(
            unsettled(at_t, src, horizons.get(src.name)),
            exp.LTE(this=ts, expression=at_t.T),
            _of(at_t, src, read),
        )
        # a query per edge: a range each engine can skip to (an OR of them is a full scan)
        parts += [_ids(at_t, d, src.table, src.key, None, hit) for hit in [*hits, new]]
    src = project.entity_source(entity)
    flips = []
    if src.created_at:  # entities that exist at T but not at P
        flips.append((at_p.exists(src), at_t.exists(src)))
    for cond in edges.timed:
        a, b = (
            r.property_tests(cond.prop, cond.tests, ENTITY, src.zone_aware) for r in (at_p, at_t)
        )
        flips.append((a, b))
    differ = [
        exp.NEQ(this=coalesce(a, exp.false()), expression=coalesce(b, exp.false()))
        for a, b in flips
    ]
    for parent, column in edges.parents:  # children of a parent that exists at T only
        up = project.entity_source(parent)
        if up.created_at:  # (its ENTITY alias shadows the child's)
            created = exp.NEQ(this=at_p.exists(up), expression=at_t.exists(up))
            of = select(at_t.col(up.key, ENTITY)).from_(
                table_alias(d.table(*up.table), ENTITY), copy=False
            )
            differ.append(at_t.col(column, ENTITY).isin(query=of.where(created, copy=False)))
    if differ:
        parts.append(_ids(at_t, d, src.table, src.key, ENTITY, or_(*differ)))
    parts.append(select(exp.column(d.ident(AFFECTED_ID))).from_(changed.copy(), copy=False))
    return exp.union(*parts, distinct=True, copy=False)


def _of(r: Renderer, src: Source, events: tuple[str, ...] | None) -> exp.Expression | None:
    return None if events is None else isin(r.col(src.event), events)  # type: ignore[arg-type]


def _s(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def _ids(
    r: Renderer,
    d: Dialect,
    table: tuple[str, ...],
    key: str,
    alias: str | None,
    where: exp.Expression,
) -> exp.Select:
    column = r.col(key, alias)
    rel = table_alias(d.table(*table), alias) if alias else d.table(*table)
    return (
        select(r.alias(d.to_text(column), AFFECTED_ID))
        .from_(rel, copy=False)
        .where(and_(present(column.copy()), where), copy=False)
    )


def signature_rows(
    project: Project,
    entity: str,
    d: Dialect,
    columns: dict[str, list[str]],
    edges: Edges,
) -> exp.Select:
    """(entity_id text, signature) per keyed row of the entity table: the dialect's
    `row_signature` of the edges' basis (the definitions the signatures depend on), every
    column of the row, and, per `parent` condition, every column of the parent's rows
    with the row's parent key. `columns`: entity type -> the columns of its table."""
    src = project.entity_source(entity)
    r = Renderer(d, None)
    key = r.col(src.key, ENTITY)
    values: list[exp.Expression] = [r.col(name, ENTITY) for name in columns[entity]]
    query = select().from_(table_alias(d.table(*src.table), ENTITY), copy=False)
    for i, (parent, column) in enumerate(edges.parents, 1):
        alias = f"_p{i}"
        query = query.join(
            table_alias(_parent_rows(project, parent, d, columns[parent]), alias),
            on=exp.EQ(this=r.col(KEY, alias), expression=r.col(column, ENTITY)),
            join_type="left",
            copy=False,
        )
        values.append(r.col(SIGNATURE, alias))
    signature = d.row_signature(edges.basis, values)
    return query.select(
        r.alias(d.to_text(key), AFFECTED_ID), r.alias(signature, SIGNATURE), copy=False
    ).where(present(key.copy()), copy=False)


def _parent_rows(project: Project, parent: str, d: Dialect, columns: list[str]) -> exp.Select:
    """(KEY, signature) per parent key: the row signatures of its rows, in order."""
    src = project.entity_source(parent)
    r = Renderer(d, None)
    row = d.row_signature("", [r.col(name, ENTITY) for name in columns])
    ordered = exp.Order(this=row, expressions=[exp.Ordered(this=row.copy())])
    key = r.col(src.key, ENTITY)
    return (
        select(
            r.alias(key, KEY),
            r.alias(exp.GroupConcat(this=ordered, separator=exp.Literal.string(",")), SIGNATURE),
        )
        .from_(table_alias(d.table(*src.table), ENTITY), copy=False)
        .where(present(key.copy()), copy=False)
        .group_by(key.copy(), copy=False)
    )


def restrict(
    query: exp.Query, d: Dialect, reads: dict[tuple[str, ...], str], ids: exp.Table
) -> exp.Query:
    """`query` with every read of a table of `reads` (its parts, as `Dialect.table` takes
    them -> its key column) restricted to the rows whose key, as text, is in `ids`."""
    wanted = {_parts(d.table(*parts)): key for parts, key in reads.items()}

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or _parts(node) not in wanted:
            return node
        inner = exp.Table(
            this=node.this.copy(), db=node.args.get("db"), catalog=node.args.get("catalog")
        )
        key = d.to_text(exp.column(d.ident(wanted[_parts(node)])))
        ours = select(exp.column(d.ident(AFFECTED_ID))).from_(ids.copy(), copy=False)
        rows = select(exp.Star()).from_(inner, copy=False).where(key.isin(query=ours), copy=False)
        name = node.alias or node.name
        return exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier(name)))

    return query.transform(rewrite, copy=False)


def _parts(table: exp.Table) -> tuple[str, ...]:
    return tuple(p.name for p in (table.args.get("catalog"), table.args.get("db"), table.this) if p)
