"""The counting half of `segsql report` (SPEC section 14): per holdout arm, how many
entities entered a segment in [from, to] and how many of them met its `goal`.

Each entity counts once, at its first `entered` row with `changed_at` in [from, to]
(`entered_at` = that `changed_at`, with that row's holdout flag); it met the goal when
an event of the goal's names (and `where`, `source`) has a timestamp in
[entered_at, entered_at + within]. One query, run in the warehouse:

    entries: first entry per entity (changes JOIN their per-entity MIN(changed_at))
    reached: entries JOIN goal events ON the entity's key text, in the window
    SELECT holdout, COUNT(*), COUNT(reached) FROM entries LEFT JOIN reached GROUP BY holdout
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..dialects.base import Dialect, lit
from ..model.types import Project, Segment
from ..plan import plan_entity
from .nodes import and_, join, select, table_alias
from .render import Renderer


def _c(name: str, table: str | None = None) -> exp.Column:
    """A column of segsql's own tables (quoted as written, like state.tables.c)."""
    return exp.Column(
        this=exp.to_identifier(name, quoted=True),
        table=exp.to_identifier(table) if table else None,
    )


def _entered_rows(seg: Segment) -> exp.Expression:
    """The segment's `entered` rows in the changes table aliased `x`."""
    return and_(
        exp.EQ(this=_c("segment", "x"), expression=lit(seg.name)),
        exp.EQ(this=_c("entity_type", "x"), expression=lit(seg.entity)),
        exp.EQ(this=_c("change", "x"), expression=lit("entered")),
    )


def outcome_query(
    project: Project,
    seg: Segment,
    d: Dialect,
    changes: exp.Table,
    start: datetime,
    end: datetime,
) -> exp.Select:
    """Rows (holdout, entrants, reached) for the segment's entries in [start, end]."""
    goal = seg.goal
    if goal is None:
        raise ValueError(f"segment '{seg.name}' has no goal")
    r = Renderer(d)
    first = (
        select(
            exp.alias_(_c("entity_id", "x"), "entity_id", quoted=True),
            exp.alias_(exp.Min(this=_c("changed_at", "x")), "first_at", quoted=True),
        )
        .from_(table_alias(changes.copy(), "x"), copy=False)
        .where(
            and_(
                _entered_rows(seg),
                exp.GTE(this=_c("changed_at", "x"), expression=d.instant(start)),
                exp.LTE(this=_c("changed_at", "x"), expression=d.instant(end)),
            ),
            copy=False,
        )
        .group_by(_c("entity_id", "x"), copy=False)
    )
    entries = select(
        exp.alias_(_c("entity_id", "x"), "entity_id", quoted=True),
        exp.alias_(d.utc(_c("changed_at", "x")), "entered_at", quoted=True),
        exp.alias_(_c("holdout", "x"), "holdout", quoted=True),
    ).from_(table_alias(changes.copy(), "x"), copy=False)
    join(
        entries,
        table_alias(first, "f"),
        and_(
            exp.EQ(this=_c("entity_id", "x"), expression=_c("entity_id", "f")),
            exp.EQ(this=_c("changed_at", "x"), expression=_c("first_at", "f")),
        ),
    )
    entries.where(_entered_rows(seg), copy=False)

    plan = plan_entity(project, seg.entity, {})
    single = r._single(plan, goal.sources)
    cols = r.rel_cols(single)
    filters = r.event_filter(plan, goal.sources, goal.events, goal.where, single)
    entered = _c("entered_at", "en")
    same = exp.EQ(this=d.to_text(cols.key), expression=_c("entity_id", "en"))
    filters += [
        exp.GTE(this=cols.ts, expression=entered),
        exp.LTE(this=r.rel_cols(single).ts, expression=r.later(entered.copy(), goal.within)),
    ]
    rel = r.relation(plan, goal.sources, r.ev_columns(same, *filters))
    reached = select(exp.alias_(_c("entity_id", "en"), "entity_id", quoted=True)).from_(
        table_alias(entries.copy(), "en"), copy=False
    )
    join(reached, rel, same)
    reached.where(and_(*filters), copy=False).group_by(_c("entity_id", "en"), copy=False)
    out = select(
        exp.alias_(_c("holdout", "en"), "holdout", quoted=True),
        exp.alias_(exp.Count(this=exp.Star()), "entrants", quoted=True),
        exp.alias_(exp.Count(this=_c("entity_id", "g")), "reached", quoted=True),
    ).from_(table_alias(entries, "en"), copy=False)
    join(
        out,
        table_alias(reached, "g"),
        exp.EQ(this=_c("entity_id", "g"), expression=_c("entity_id", "en")),
        "LEFT",
    )
    return out.group_by(_c("holdout", "en"), copy=False)
