"""Render an EntityPlan into one sqlglot SELECT over the entity table.

Three-valued logic: SQL comparisons with NULL give NULL, which acts like FALSE under AND,
OR and WHERE (they are monotonic). Only `not` could turn that NULL into a wrong answer,
so `not x` is rendered `NOT COALESCE(x, FALSE)`: the SPEC's "a comparison with NULL is
FALSE, and `not` turns FALSE into TRUE" with one COALESCE per `not`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp

from ..dialects.base import Dialect
from ..model.types import (
    All,
    AnyOf,
    Condition,
    Duration,
    During,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    ParentCond,
    Prop,
    PropertyCond,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    Source,
    SqlCond,
    Step,
    Test,
    Window,
    Within,
)
from ..plan.planner import Aggregate, EntityPlan, Scan

KEY = "segsql_k"  # the entity key column of every feature subquery
EVENT = "segsql_event"
TS = "segsql_ts"
ENTITY = "e"  # alias of the entity table
EV = "ev"  # alias of event rows
ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(
        exp.to_identifier(name, quoted=True), table=exp.to_identifier(table) if table else None
    )


class Renderer:
    """Turns plans into SQL trees for one dialect and one evaluation time.

    `as_of=None` renders T as the current time (the live views); a datetime renders a
    literal (a run).
    """

    def __init__(self, dialect: Dialect, as_of: datetime | None = None):
        self.d = dialect
        self._T = dialect.timestamp(as_of) if as_of is not None else dialect.now()

    @property
    def T(self) -> exp.Expression:
        """The evaluation time (a fresh node each use: trees are built without copying)."""
        return self._T.copy()

    # ------------------------------------------------------------------ entity level
    def select(
        self,
        plan: EntityPlan,
        *,
        key_as_text: bool = False,
        columns: dict[str, exp.Expression] | None = None,
        where: exp.Expression | None = None,
    ) -> exp.Select:
        """SELECT entity_id, <each output as a two-valued boolean>, <columns> FROM entities."""
        src = plan.project.entity_source(plan.entity)
        key = col(src.key, ENTITY)
        query = exp.select(
            exp.alias_(self.d.to_text(key) if key_as_text else key, "entity_id", quoted=True)
        )
        for name, cond in plan.outputs.items():
            query = query.select(
                exp.alias_(self.boolean(plan, cond, two_valued=True), name, quoted=True), copy=False
            )
        for name, value in (columns or {}).items():
            query = query.select(exp.alias_(value, name, quoted=True), copy=False)
        query = query.from_(exp.alias_(self._table(src), ENTITY), copy=False)
        for scan in plan.scans.values():
            query = self._left_join(query, self.scan(plan, scan), scan.alias, key)
        for anchor, alias in plan.anchors.items():
            query = self._left_join(query, self.anchor(plan, anchor), alias, key)
        for seq, alias in plan.sequences.items():
            query = self._left_join(query, self.sequence(plan, seq), alias, key)
        for cond, (alias, sub) in plan.parents.items():
            query = self._left_join(query, self.parent(sub), alias, col(cond.column, ENTITY))
        for cond, (alias, sub) in plan.members.items():
            query = self._left_join(query, self.members(cond, sub), alias, key)
        exists = self.exists(src)
        if where is not None:
            exists = exp.and_(exists, where, copy=False) if exists is not None else where
        return query.where(exists, copy=False) if exists is not None else query

    def exists(self, src: Source) -> exp.Expression | None:
        """Entities created after T do not exist yet."""
        if not src.created_at:
            return None
        created = col(src.created_at, ENTITY)
        return exp.paren(exp.or_(created.is_(exp.null()), created <= self.T, copy=False))

    def _left_join(
        self, query: exp.Select, sub: exp.Select, alias: str, key: exp.Expression
    ) -> exp.Select:
        on = exp.EQ(this=col(KEY, alias), expression=key.copy())
        return query.join(sub.subquery(alias), on=on, join_type="left", copy=False)

    def _table(self, src: Source) -> exp.Table:
        return self.d.table(*src.table)

    # ------------------------------------------------------------------ booleans
    def boolean(
        self, plan: EntityPlan, cond: Condition, *, two_valued: bool = False
    ) -> exp.Expression:
        out = self._boolean(plan, cond)
        return exp.func("COALESCE", out, exp.false()) if two_valued else out

    def _boolean(self, plan: EntityPlan, cond: Condition) -> exp.Expression:
        if isinstance(cond, All):
            items = [self._boolean(plan, c) for c in cond.items]
            return exp.paren(exp.and_(*items, copy=False)) if items else exp.true()
        if isinstance(cond, AnyOf):
            items = [self._boolean(plan, c) for c in cond.items]
            return exp.paren(exp.or_(*items, copy=False)) if items else exp.false()
        if isinstance(cond, Not):
            return exp.not_(self.boolean(plan, cond.item, two_valued=True), copy=False)
        if isinstance(cond, PropertyCond):
            src = plan.project.entity_source(plan.entity)
            return self.property_tests(cond.prop, cond.tests, ENTITY, src.json)
        if isinstance(cond, InSegment):
            return self._boolean(plan, plan.project.segments[cond.segment].where)
        if isinstance(cond, EventCond):
            alias, column = plan.aggregate(cond)
            value: exp.Expression = col(column, alias)
            if cond.measure.kind in ZERO_WHEN_EMPTY:
                value = exp.func("COALESCE", value, exp.Literal.number(0))
            out = self.tests(value, cond.measure.tests)
            if isinstance(cond.window, SinceNthLast):  # fewer than n anchors: FALSE
                anchor = col(KEY, plan.anchors[cond.window]).is_(exp.null()).not_(copy=False)
                out = exp.and_(anchor, out, copy=False)
            return exp.paren(out)
        if isinstance(cond, SequenceCond):
            return col(KEY, plan.sequences[cond]).is_(exp.null()).not_(copy=False)
        if isinstance(cond, ParentCond):
            return col(KEY, plan.parents[cond][0]).is_(exp.null()).not_(copy=False)
        if isinstance(cond, MembersCond):
            count = exp.func("COALESCE", col("n", plan.members[cond][0]), exp.Literal.number(0))
            return exp.paren(self.tests(count, cond.tests))
        if isinstance(cond, SqlCond):
            return self.sql_condition(cond)
        raise TypeError(f"cannot render {type(cond).__name__}")

    def sql_condition(self, cond: SqlCond) -> exp.Expression:
        """The escape hatch: parsed (never pasted), its bare columns bound to the entity."""
        tree = sqlglot.parse_one(cond.sql, read=cond.dialect)
        for column in tree.find_all(exp.Column):
            if not column.table:
                column.set("table", exp.to_identifier(ENTITY))
        return exp.paren(tree)

    # ------------------------------------------------------------------ comparisons
    def property_tests(
        self, prop: Prop, tests: tuple[Test, ...], alias: str, json_columns: tuple[str, ...]
    ) -> exp.Expression:
        """Each comparison key is typed on its own (SPEC 3): JSON text is cast per key."""
        parts = [self.test(self.prop_value(prop, alias, json_columns, t), t) for t in tests]
        return exp.paren(exp.and_(*parts, copy=False)) if len(parts) > 1 else parts[0]

    def prop_value(
        self,
        prop: Prop,
        alias: str,
        json_columns: tuple[str, ...],
        test: Test | None = None,
        as_number: bool = False,
    ) -> exp.Expression:
        column = col(prop.column, alias)
        if not prop.path:
            return column
        text = self.d.json_text(column, prop.path)
        if as_number:
            return self.d.to_number(text)
        if test is None or test.op == "is_null":
            return text
        if test.op in ("within", "older_than", "before", "after"):
            return self.d.to_timestamp(text)
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        if all(isinstance(v, bool) for v in values):
            return self.d.to_bool(text)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return self.d.to_number(text)
        if all(isinstance(v, datetime) for v in values):
            return self.d.to_timestamp(text)
        return text

    def value(self, v: Any) -> exp.Expression:
        from ..dialects.base import lit

        return self.d.timestamp(v) if isinstance(v, datetime) else lit(v)

    def tests(self, x: exp.Expression, tests: tuple[Test, ...]) -> exp.Expression:
        return exp.and_(*(self.test(x, t) for t in tests), copy=False)

    def test(self, x: exp.Expression, t: Test) -> exp.Expression:
        op, v = t.op, t.value
        x = x.copy()
        simple = {
            "eq": exp.EQ,
            "ne": exp.NEQ,
            "gt": exp.GT,
            "gte": exp.GTE,
            "lt": exp.LT,
            "lte": exp.LTE,
        }
        if op in simple:
            return simple[op](this=x, expression=self.value(v))
        if op == "in":
            return x.isin(*(self.value(i) for i in v), copy=False)
        if op == "not_in":
            return exp.not_(x.isin(*(self.value(i) for i in v)), copy=False)
        if op == "between":
            return exp.Between(this=x, low=self.value(v[0]), high=self.value(v[1]))
        if op == "contains":
            return self.d.contains(x, v)
        if op == "starts_with":
            return self.d.starts_with(x, v)
        if op == "ends_with":
            return self.d.ends_with(x, v)
        if op == "matches":
            return self.d.matches(x, v)
        if op == "is_null":
            return x.is_(exp.null()) if v else x.is_(exp.null()).not_(copy=False)
        if op == "within":
            return exp.and_(x >= self.ago(v), x.copy() <= self.T, copy=False)
        if op == "older_than":
            return x < self.ago(v)
        if op == "before":
            return x < self.value(v)
        if op == "after":
            return x > self.value(v)
        raise ValueError(f"unknown comparison {op}")

    def ago(self, duration: Duration, base: exp.Expression | None = None) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift((base if base is not None else self.T).copy(), -amount, unit)

    def later(self, base: exp.Expression, duration: Duration) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift(base.copy(), amount, unit)

    # ------------------------------------------------------------------ event relations
    def relation(
        self, plan: EntityPlan, sources: tuple[str, ...], columns: set[str]
    ) -> tuple[exp.Expression, Source | None]:
        """The rows of `sources` as one relation aliased `ev`. A single source is used as
        is (its own column names); several are unioned with standard names for key,
        event and timestamp, plus the `columns` the filters need."""
        srcs = [plan.project.sources[s] for s in sources]
        if len(srcs) == 1:
            return exp.alias_(self._table(srcs[0]), EV), srcs[0]
        parts = []
        for s in srcs:
            select = exp.select(
                exp.alias_(col(s.key), KEY, quoted=True),
                exp.alias_(col(s.event), EVENT, quoted=True),
                exp.alias_(col(s.timestamp), TS, quoted=True),
                *(col(c) for c in sorted(columns)),
            ).from_(self._table(s), copy=False)
            parts.append(select)
        union = parts[0]
        for p in parts[1:]:
            union = exp.union(union, p, distinct=False)
        return union.subquery(EV, copy=False), None

    @staticmethod
    def _rel_cols(single: Source | None) -> tuple[exp.Column, exp.Column, exp.Column]:
        if single is None:
            return col(KEY, EV), col(EVENT, EV), col(TS, EV)
        return col(single.key, EV), col(single.event, EV), col(single.timestamp, EV)

    def event_filter(
        self,
        plan: EntityPlan,
        sources: tuple[str, ...],
        events: tuple[str, ...] | None,
        where: Condition | None,
        single: Source | None,
    ) -> list[exp.Expression]:
        _, name, _ = self._rel_cols(single)
        parts: list[exp.Expression] = []
        if events is not None:
            parts.append(name.isin(*(exp.Literal.string(e) for e in events), copy=False))
        if where is not None:
            json_cols = tuple(sorted({c for s in sources for c in plan.project.sources[s].json}))
            parts.append(self.event_boolean(where, json_cols))
        return parts

    def event_boolean(self, cond: Condition, json_cols: tuple[str, ...]) -> exp.Expression:
        """An event `where` filter over `ev` (properties and combinators only)."""
        if isinstance(cond, All):
            items = [self.event_boolean(c, json_cols) for c in cond.items]
            return exp.paren(exp.and_(*items, copy=False)) if items else exp.true()
        if isinstance(cond, AnyOf):
            items = [self.event_boolean(c, json_cols) for c in cond.items]
            return exp.paren(exp.or_(*items, copy=False)) if items else exp.false()
        if isinstance(cond, Not):
            return exp.not_(
                exp.func("COALESCE", self.event_boolean(cond.item, json_cols), exp.false()),
                copy=False,
            )
        assert isinstance(cond, PropertyCond)
        return self.property_tests(cond.prop, cond.tests, EV, json_cols)

    def window_filter(
        self,
        plan: EntityPlan,
        window: Window | None,
        ts: exp.Expression,
        anchor_alias: str | None = None,
    ) -> list[exp.Expression]:
        if window is None:
            return []
        if isinstance(window, Within):
            return [ts >= self.ago(window.duration)]
        if isinstance(window, During):
            return [ts >= self.d.timestamp(window.start), ts.copy() <= self.d.timestamp(window.end)]
        if isinstance(window, SinceProperty):
            src = plan.project.entity_source(plan.entity)
            start = self.prop_value(window.prop, "en", src.json)
            if window.prop.path:
                start = self.d.to_timestamp(start)
            parts = [ts >= start]
            if window.duration is not None:
                parts.append(ts.copy() <= self.later(start, window.duration))
            return parts
        assert anchor_alias is not None
        return [ts >= col("anchor", anchor_alias)]

    # ------------------------------------------------------------------ features
    def scan(self, plan: EntityPlan, scan: Scan) -> exp.Select:
        """One GROUP BY over the scan's event rows computing all its aggregates."""
        single = plan.project.sources[scan.sources[0]] if len(scan.sources) == 1 else None
        key, name, ts = self._rel_cols(single)
        projections = [exp.alias_(key, KEY, quoted=True)]
        for agg, column in scan.columns.items():
            projections.append(
                exp.alias_(self.aggregate(plan, scan, agg, single), column, quoted=True)
            )
        needed = {c.name for p in projections for c in p.find_all(exp.Column) if c.table == EV} - {
            KEY,
            EVENT,
            TS,
        }
        rel, _ = self.relation(plan, scan.sources, needed)
        query = exp.select(*projections).from_(rel, copy=False)
        if any(isinstance(a.window, SinceProperty) for a in scan.columns):
            src = plan.project.entity_source(plan.entity)
            query = query.join(
                exp.alias_(self._table(src), "en"),
                join_type="left",
                on=exp.EQ(this=col(src.key, "en"), expression=key.copy()),
                copy=False,
            )
        for anchor in {a.window for a in scan.columns if isinstance(a.window, SinceNthLast)}:
            alias = plan.anchors[anchor]
            query = query.join(
                self.anchor(plan, anchor).subquery(alias),
                join_type="left",
                on=exp.EQ(this=col(KEY, alias), expression=key.copy()),
                copy=False,
            )
        where = [ts <= self.T]
        names = scan.event_names()
        if names is not None:
            where.append(name.isin(*(exp.Literal.string(n) for n in names), copy=False))
        bound = scan.lower_bound()
        if bound is not None:
            where.append(self.window_filter(plan, bound, ts)[0])
        return query.where(exp.and_(*where), copy=False).group_by(key.copy(), copy=False)

    def aggregate(
        self, plan: EntityPlan, scan: Scan, agg: Aggregate, single: Source | None
    ) -> exp.Expression:
        _, _, ts = self._rel_cols(single)
        anchor_alias = (
            plan.anchors.get(agg.window) if isinstance(agg.window, SinceNthLast) else None
        )
        conds = self.event_filter(plan, scan.sources, agg.events, agg.where, single)
        conds += self.window_filter(plan, agg.window, ts, anchor_alias)
        json_cols = tuple(sorted({c for s in scan.sources for c in plan.project.sources[s].json}))
        if agg.kind == "count":
            value: exp.Expression = exp.Literal.number(1)
        elif agg.kind in ("first", "last"):
            value = ts.copy()
        elif agg.kind == "count_distinct":
            value = self.prop_value(agg.of, EV, json_cols)  # type: ignore[arg-type]
        else:
            value = self.prop_value(agg.of, EV, json_cols, as_number=True)  # type: ignore
        if conds:
            value = exp.Case(ifs=[exp.If(this=exp.and_(*conds, copy=False), true=value)])
        func = {
            "count": "COUNT",
            "count_distinct": "COUNT",
            "sum": "SUM",
            "avg": "AVG",
            "min": "MIN",
            "max": "MAX",
            "first": "MIN",
            "last": "MAX",
        }[agg.kind]
        if agg.kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        return exp.func(func, value)

    def anchor(self, plan: EntityPlan, anchor: SinceNthLast) -> exp.Select:
        """Per entity, the timestamp of the n-th most recent anchor event at or before T."""
        single = plan.project.sources[anchor.sources[0]] if len(anchor.sources) == 1 else None
        key, _, ts = self._rel_cols(single)
        rel, _ = self.relation(plan, anchor.sources, set())
        rank = exp.Window(
            this=exp.func("ROW_NUMBER"),
            partition_by=[key.copy()],
            order=exp.Order(expressions=[exp.Ordered(this=ts.copy(), desc=True)]),
        )
        filters = [ts <= self.T] + self.event_filter(
            plan, anchor.sources, anchor.events, None, single
        )
        ranked = (
            exp.select(
                exp.alias_(key, KEY, quoted=True),
                exp.alias_(ts, "ts", quoted=True),
                exp.alias_(rank, "rn", quoted=True),
            )
            .from_(rel, copy=False)
            .where(exp.and_(*filters), copy=False)
        )
        return (
            exp.select(col(KEY, "r"), exp.alias_(col("ts", "r"), "anchor", quoted=True))
            .from_(ranked.subquery("r"), copy=False)
            .where(exp.EQ(this=col("rn", "r"), expression=exp.Literal.number(anchor.n)), copy=False)
        )

    def step_rows(self, plan: EntityPlan, step: Step, within: Duration | None = None) -> exp.Select:
        """SELECT key, ts of the events (at or before T) matching a sequence step."""
        single = plan.project.sources[step.sources[0]] if len(step.sources) == 1 else None
        key, _, ts = self._rel_cols(single)
        filters = [ts <= self.T] + self.event_filter(
            plan, step.sources, step.events, step.where, single
        )
        if within is not None:
            filters.append(ts.copy() >= self.ago(within))
        needed = {c.name for f in filters for c in f.find_all(exp.Column) if c.table == EV}
        rel, _ = self.relation(plan, step.sources, needed - {KEY, EVENT, TS})
        return (
            exp.select(exp.alias_(key, KEY, quoted=True), exp.alias_(ts, "ts", quoted=True))
            .from_(rel, copy=False)
            .where(exp.and_(*filters), copy=False)
        )

    def sequence(self, plan: EntityPlan, seq: SequenceCond) -> exp.Select:
        """Entities with a matching chain. For each first-step event the chain takes the
        earliest next step each time (which leaves the most room for `completed_within`);
        before an absent last step it takes the *latest* last present step instead, which
        leaves the fewest events after it."""
        present = [s for s in seq.steps if not s.absent]
        absent = seq.steps[-1] if seq.steps[-1].absent else None
        first = self.step_rows(plan, present[0], seq.within)
        chain = exp.select(
            exp.alias_(col(KEY, "x"), KEY, quoted=True),
            exp.alias_(col("ts", "x"), "t1", quoted=True),
            exp.alias_(col("ts", "x"), "t", quoted=True),
        ).from_(first.subquery("x"), copy=False)
        for i, step in enumerate(present[1:], start=2):
            rows = self.step_rows(plan, step)
            on = [
                exp.EQ(this=col(KEY, "x"), expression=col(KEY, "c")),
                col("ts", "x") > col("t", "c"),
            ]
            if seq.completed_within is not None:
                on.append(col("ts", "x") <= self.later(col("t1", "c"), seq.completed_within))
            pick = "MAX" if absent is not None and i == len(present) else "MIN"
            chain = (
                exp.select(
                    col(KEY, "c"),
                    col("t1", "c"),
                    exp.alias_(exp.func(pick, col("ts", "x")), "t", quoted=True),
                )
                .from_(chain.subquery("c"), copy=False)
                .join(rows.subquery("x"), on=exp.and_(*on), copy=False)
                .group_by(col(KEY, "c"), col("t1", "c"), copy=False)
            )
        result = (
            exp.select(col(KEY, "c")).distinct(copy=False).from_(chain.subquery("c"), copy=False)
        )
        if absent is not None:
            rows = self.step_rows(plan, absent)
            last = (
                exp.select(
                    col(KEY, "x"), exp.alias_(exp.func("MAX", col("ts", "x")), "t", quoted=True)
                )
                .from_(rows.subquery("x"), copy=False)
                .group_by(col(KEY, "x"), copy=False)
            )
            result = result.join(
                last.subquery("z"),
                join_type="left",
                on=exp.EQ(this=col(KEY, "z"), expression=col(KEY, "c")),
                copy=False,
            ).where(
                exp.or_(col("t", "z").is_(exp.null()), col("t", "z") <= col("t", "c")), copy=False
            )
        return result

    def parent(self, sub: EntityPlan) -> exp.Select:
        """Keys of the parent entities that exist at T and satisfy the condition."""
        query = exp.select(exp.alias_(col("entity_id", "p"), KEY, quoted=True)).from_(
            self.select(sub).subquery("p")
        )
        return query.where(col("ok", "p"), copy=False) if "ok" in sub.outputs else query

    def members(self, cond: MembersCond, sub: EntityPlan) -> exp.Select:
        """Per parent key, how many existing child entities satisfy the condition."""
        parent_key = col(cond.column, ENTITY)
        inner = self.select(sub, columns={"parent": parent_key})
        ok = col("ok", "c") if cond.where is not None else None
        counted: exp.Expression = exp.Literal.number(1)
        if ok is not None:
            counted = exp.Case(ifs=[exp.If(this=ok, true=counted)])
        return (
            exp.select(
                exp.alias_(col("parent", "c"), KEY, quoted=True),
                exp.alias_(exp.func("COUNT", counted), "n", quoted=True),
            )
            .from_(inner.subquery("c"), copy=False)
            .where(col("parent", "c").is_(exp.null()).not_(), copy=False)
            .group_by(col("parent", "c"), copy=False)
        )
