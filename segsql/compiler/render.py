"""Render an EntityPlan into one sqlglot SELECT over the entity table.

Three-valued logic: SQL comparisons with NULL give NULL, which acts like FALSE under AND,
OR and WHERE (they are monotonic). Only `not` could turn that NULL into a wrong answer,
so `not x` is rendered `NOT COALESCE(x, FALSE)`: "a comparison with NULL is FALSE, and `not`
turns FALSE into TRUE" (docs/language.md, Conditions) with one COALESCE per `not`.

Trees are built from node constructors and never copied: sqlglot's convenience builders
(`exp.alias_`, `exp.func`, operators, `.subquery()`) deep-copy their arguments by default,
which made compiling a thousand segments take seconds. Every node here is fresh, so a
subtree that appears twice is built twice (see `Renderer.T`).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlglot
from sqlglot import exp

from ..dialects.base import Dialect, lit
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
from ..plan.planner import Aggregate, EntityPlan, RowSet, Scan

KEY = "segsql_k"  # the entity key column of every feature subquery
EVENT = "segsql_event"
TS = "segsql_ts"
ENTITY = "e"  # alias of the entity table
EV = "ev"  # alias of event rows
SRC = "segsql_src"  # which source a row of a tagged union comes from (its index)
ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")
AGGREGATES = {
    "count": exp.Count,
    "sum": exp.Sum,
    "avg": exp.Avg,
    "min": exp.Min,
    "max": exp.Max,
    "first": exp.Min,
    "last": exp.Max,
}


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(
        this=ident(name), table=exp.Identifier(this=table, quoted=False) if table else None
    )


def alias(node: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=node, alias=ident(name))


def table_alias(node: exp.Expression, name: str) -> exp.Expression:
    """`node AS name` for a table or a subquery (no copy)."""
    if isinstance(node, exp.Query):
        return exp.Subquery(this=node, alias=exp.TableAlias(this=exp.to_identifier(name)))
    node.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
    return node


def coalesce(node: exp.Expression, default: exp.Expression) -> exp.Coalesce:
    return exp.Coalesce(this=node, expressions=[default])


def and_(*parts: exp.Expression) -> exp.Expression:
    return exp.and_(*parts, copy=False)


def or_(*parts: exp.Expression) -> exp.Expression:
    return exp.or_(*parts, copy=False)


def not_(node: exp.Expression) -> exp.Expression:
    return exp.Not(this=node)


def paren(node: exp.Expression) -> exp.Expression:
    return exp.Paren(this=node)


def is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=node, expression=exp.Null())


def present(node: exp.Expression) -> exp.Expression:
    """NOT node IS NULL."""
    return exp.Not(this=is_null(node))


def isin(node: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
    return exp.In(this=node, expressions=[exp.Literal.string(v) for v in values])


def select(*projections: exp.Expression) -> exp.Select:
    return exp.Select(expressions=list(projections))


def join(
    query: exp.Select, other: exp.Expression, on: exp.Expression, side: str | None = None
) -> exp.Select:
    """query [LEFT] JOIN other ON on (the `.join()` builder parses its join type as SQL)."""
    query.append("joins", exp.Join(this=other, on=on, side=side))
    return query


def _ev_columns(*nodes: exp.Expression) -> set[str]:
    """Names of the columns of event rows (`ev`) that `nodes` read, beyond key, event and
    timestamp."""
    return {c.name for n in nodes for c in n.find_all(exp.Column) if c.table == EV} - {
        KEY,
        EVENT,
        TS,
    }


@functools.lru_cache(maxsize=4096)
def _parsed_sql(sql: str, dialect: str) -> exp.Expression:
    """An escape-hatch condition parsed once (callers copy it), bare columns bound to the
    entity table."""
    tree = sqlglot.parse_one(sql, read=dialect)
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(ENTITY))
    return tree


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
        query = select(alias(self.d.to_text(key) if key_as_text else key, "entity_id"))
        for name, cond in plan.outputs.items():
            query.append("expressions", alias(self.boolean(plan, cond, two_valued=True), name))
        for name, value in (columns or {}).items():
            query.append("expressions", alias(value, name))
        query.from_(table_alias(self._table(src), ENTITY), copy=False)
        for scan in plan.scans.values():
            self._left_join(query, self.scan(plan, scan), scan.alias, src.key)
        for seq, name in plan.sequences.items():
            self._left_join(query, self.sequence(plan, seq), name, src.key)
        for cond, (name, sub) in plan.parents.items():
            self._left_join(query, self.parent(sub), name, cond.column)
        for cond, (name, sub) in plan.members.items():
            self._left_join(query, self.members(cond, sub), name, src.key)
        exists = self.exists(src)
        query.where(and_(exists, where) if where is not None else exists, copy=False)
        self.d.share_json(query, ENTITY)
        return query

    def exists(self, src: Source) -> exp.Expression:
        """Rows with a key, created at or before T: a row without a key is nobody (as a
        member it could never be matched with itself on the next run, and would exit and
        enter again each time)."""
        keyed = present(col(src.key, ENTITY))
        if not src.created_at:
            return keyed
        created = col(src.created_at, ENTITY)
        return and_(
            keyed,
            paren(
                or_(is_null(created), exp.LTE(this=col(src.created_at, ENTITY), expression=self.T))
            ),
        )

    def _left_join(self, query: exp.Select, sub: exp.Select, name: str, column: str) -> None:
        on = exp.EQ(this=col(KEY, name), expression=col(column, ENTITY))
        join(query, table_alias(sub, name), on, "LEFT")

    def _table(self, src: Source) -> exp.Table:
        return self.d.table(*src.table)

    # ------------------------------------------------------------------ booleans
    def boolean(
        self, plan: EntityPlan, cond: Condition, *, two_valued: bool = False
    ) -> exp.Expression:
        out = self._boolean(plan, cond)
        return coalesce(out, exp.false()) if two_valued else out

    def _boolean(self, plan: EntityPlan, cond: Condition) -> exp.Expression:
        if isinstance(cond, All):
            items = [self._boolean(plan, c) for c in cond.items]
            return paren(and_(*items)) if items else exp.true()
        if isinstance(cond, AnyOf):
            items = [self._boolean(plan, c) for c in cond.items]
            return paren(or_(*items)) if items else exp.false()
        if isinstance(cond, Not):
            return not_(self.boolean(plan, cond.item, two_valued=True))
        if isinstance(cond, PropertyCond):
            src = plan.project.entity_source(plan.entity)
            return self.property_tests(cond.prop, cond.tests, ENTITY, src.json)
        if isinstance(cond, InSegment):
            return self._boolean(plan, plan.project.segments[cond.segment].where)
        if isinstance(cond, EventCond):
            name, column = plan.aggregate(cond)
            value: exp.Expression = col(column, name)
            if cond.measure.kind in ZERO_WHEN_EMPTY:
                value = coalesce(value, exp.Literal.number(0))
            out = self.tests(value, cond.measure.tests)
            if isinstance(cond.window, SinceNthLast):  # fewer than n anchors: FALSE
                out = and_(present(col(KEY, name)), out)
            return paren(out)
        if isinstance(cond, SequenceCond):
            return present(col(KEY, plan.sequences[cond]))
        if isinstance(cond, ParentCond):
            return present(col(KEY, plan.parents[cond][0]))
        if isinstance(cond, MembersCond):
            count = coalesce(col("n", plan.members[cond][0]), exp.Literal.number(0))
            return paren(self.tests(count, cond.tests))
        if isinstance(cond, SqlCond):
            return self.sql_condition(cond)
        raise TypeError(f"cannot render {type(cond).__name__}")

    def sql_condition(self, cond: SqlCond) -> exp.Expression:
        """The escape hatch: parsed (never pasted), its bare columns bound to the entity."""
        return paren(_parsed_sql(cond.sql, cond.dialect).copy())

    # ------------------------------------------------------------------ comparisons
    def property_tests(
        self, prop: Prop, tests: tuple[Test, ...], table: str, json_columns: tuple[str, ...]
    ) -> exp.Expression:
        """Each comparison key is typed alone (docs/language.md, Sources): JSON is cast per key."""
        parts = [self.test(self.prop_value(prop, table, json_columns, t), t) for t in tests]
        return paren(and_(*parts)) if len(parts) > 1 else parts[0]

    def prop_value(
        self,
        prop: Prop,
        table: str,
        json_columns: tuple[str, ...],
        test: Test | None = None,
        as_number: bool = False,
    ) -> exp.Expression:
        column = col(prop.column, table)
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
        return self.d.timestamp(v) if isinstance(v, datetime) else lit(v)

    def tests(self, x: exp.Expression, tests: tuple[Test, ...]) -> exp.Expression:
        parts = [self.test(x if i == 0 else x.copy(), t) for i, t in enumerate(tests)]
        return and_(*parts)

    def test(self, x: exp.Expression, t: Test) -> exp.Expression:
        """The comparison `t` of `x` (which it takes over: pass a fresh node)."""
        op, v = t.op, t.value
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
            return exp.In(this=x, expressions=[self.value(i) for i in v])
        if op == "not_in":
            return not_(exp.In(this=x, expressions=[self.value(i) for i in v]))
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
            return is_null(x) if v else present(x)
        if op == "within":
            return and_(
                exp.GTE(this=x, expression=self.ago(v)),
                exp.LTE(this=x.copy(), expression=self.T),
            )
        if op == "older_than":
            return exp.LT(this=x, expression=self.ago(v))
        if op == "before":
            return exp.LT(this=x, expression=self.value(v))
        if op == "after":
            return exp.GT(this=x, expression=self.value(v))
        raise ValueError(f"unknown comparison {op}")

    def ago(self, duration: Duration, base: exp.Expression | None = None) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift(base if base is not None else self.T, -amount, unit)

    def later(self, base: exp.Expression, duration: Duration) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift(base, amount, unit)

    # ------------------------------------------------------------------ event relations
    def relation(
        self,
        plan: EntityPlan,
        sources: tuple[str, ...],
        columns: set[str] | dict[str, set[str]],
        standard: bool = False,
        tagged: bool = False,
    ) -> tuple[exp.Expression, Source | None]:
        """The rows of `sources` as one relation aliased `ev`. A single source is used as
        is (its own column names) unless `standard`; several are unioned with standard
        names for key, event and timestamp, plus the `columns` the filters need (or, as
        column -> sources, only where those sources' rows are read: NULL elsewhere), plus,
        when `tagged`, each row's source as its index in `sources` (SRC)."""
        srcs = [plan.project.sources[s] for s in sources]
        if len(srcs) == 1 and not standard:
            return table_alias(self._table(srcs[0]), EV), srcs[0]
        parts = []
        for i, s in enumerate(srcs):
            part = select(
                alias(col(s.key), KEY),
                alias(col(s.event), EVENT),  # type: ignore[arg-type]
                alias(col(s.timestamp), TS),  # type: ignore[arg-type]
                *(
                    col(c)
                    if isinstance(columns, set) or s.name in columns[c]
                    else alias(exp.Null(), c)
                    for c in sorted(columns)
                ),
                *([alias(exp.Literal.number(i), SRC)] if tagged else []),
            ).from_(self._table(s), copy=False)
            parts.append(part)
        union: exp.Query = parts[0]
        for p in parts[1:]:
            union = exp.Union(this=union, expression=p, distinct=False)
        return table_alias(union, EV), None

    @staticmethod
    def _rel_cols(single: Source | None) -> tuple[exp.Column, exp.Column, exp.Column]:
        """Fresh (key, event, timestamp) columns of `ev`."""
        if single is None:
            return col(KEY, EV), col(EVENT, EV), col(TS, EV)
        return col(single.key, EV), col(single.event, EV), col(single.timestamp, EV)  # type: ignore

    def _single(self, plan: EntityPlan, sources: tuple[str, ...]) -> Source | None:
        return plan.project.sources[sources[0]] if len(sources) == 1 else None

    def _json_cols(self, plan: EntityPlan, sources: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({c for s in sources for c in plan.project.sources[s].json}))

    def event_filter(
        self,
        plan: EntityPlan,
        sources: tuple[str, ...],
        events: tuple[str, ...] | None,
        where: Condition | None,
        single: Source | None,
    ) -> list[exp.Expression]:
        parts: list[exp.Expression] = []
        if events is not None:
            parts.append(isin(self._rel_cols(single)[1], events))
        if where is not None:
            parts.append(self.event_boolean(where, self._json_cols(plan, sources)))
        return parts

    def event_boolean(self, cond: Condition, json_cols: tuple[str, ...]) -> exp.Expression:
        """An event `where` filter over `ev` (properties and combinators only)."""
        if isinstance(cond, All):
            items = [self.event_boolean(c, json_cols) for c in cond.items]
            return paren(and_(*items)) if items else exp.true()
        if isinstance(cond, AnyOf):
            items = [self.event_boolean(c, json_cols) for c in cond.items]
            return paren(or_(*items)) if items else exp.false()
        if isinstance(cond, Not):
            return not_(coalesce(self.event_boolean(cond.item, json_cols), exp.false()))
        assert isinstance(cond, PropertyCond)
        return self.property_tests(cond.prop, cond.tests, EV, json_cols)

    def window_filter(
        self, plan: EntityPlan, window: Window | None, single: Source | None
    ) -> list[exp.Expression]:
        """The window's bounds on `ev`'s timestamp (`since_nth_last` is joined, not here)."""
        ts = self._rel_cols(single)[2]
        if window is None or isinstance(window, SinceNthLast):
            return []
        if isinstance(window, Within):
            return [exp.GTE(this=ts, expression=self.ago(window.duration))]
        if isinstance(window, During):
            return [
                exp.GTE(this=ts, expression=self.d.timestamp(window.start)),
                exp.LTE(this=self._rel_cols(single)[2], expression=self.d.timestamp(window.end)),
            ]
        assert isinstance(window, SinceProperty)
        src = plan.project.entity_source(plan.entity)

        def start() -> exp.Expression:
            value = self.prop_value(window.prop, "en", src.json)
            return self.d.to_timestamp(value) if window.prop.path else value

        parts: list[exp.Expression] = [exp.GTE(this=ts, expression=start())]
        if window.duration is not None:
            parts.append(
                exp.LTE(
                    this=self._rel_cols(single)[2], expression=self.later(start(), window.duration)
                )
            )
        return parts

    def _lower_bounds(self, bounds: list[Window], single: Source | None) -> exp.Expression:
        parts = [self.window_filter_lower(b, single) for b in bounds]
        return parts[0] if len(parts) == 1 else paren(or_(*parts))

    def window_filter_lower(self, window: Window, single: Source | None) -> exp.Expression:
        ts = self._rel_cols(single)[2]
        if isinstance(window, Within):
            return exp.GTE(this=ts, expression=self.ago(window.duration))
        assert isinstance(window, During)
        return exp.GTE(this=ts, expression=self.d.timestamp(window.start))

    # ------------------------------------------------------------------ scans
    def _scan_filters(
        self, plan: EntityPlan, scan: Scan, single: Source | None
    ) -> tuple[list[exp.Expression], dict[str, bool]]:
        """The WHERE of a scan (exactly the rows its aggregates read) and which parts of
        the aggregates' own filters it already applies to every row (shared)."""
        aggs = list(scan.columns)
        first = aggs[0]
        shared = {
            "events": all(a.events == first.events for a in aggs),
            "where": all(a.where == first.where for a in aggs),
            "window": all(a.window == first.window for a in aggs),
            "sources": all(set(a.sources or scan.sources) == set(scan.sources) for a in aggs),
        }
        _, name, ts = self._rel_cols(single)
        where: list[exp.Expression] = [exp.LTE(this=ts, expression=self.T)]
        names = scan.event_names()
        if names is not None:
            where.append(isin(name, names))
        if shared["window"] and scan.kind != "anchor":
            where += self.window_filter(plan, first.window, single)
        else:
            common = scan.lower_bound()
            if common:
                where.append(self._lower_bounds(common, single))
            sets = scan.row_sets()
            if len(sets) > 1 and any(
                r.bounds != common or set(r.sources) != set(scan.sources) for r in sets
            ):
                # names (of some sources) read from later than the widest bound: per set
                terms = [self._row_set_test(scan, r, single) for r in sets]
                if all(t is not None for t in terms):
                    where.append(paren(or_(*terms)))
        if shared["where"] and first.where is not None:
            where.append(self.event_boolean(first.where, self._json_cols(plan, scan.sources)))
        return where, shared

    def _row_set_test(
        self, scan: Scan, rows: RowSet, single: Source | None
    ) -> exp.Expression | None:
        """The rows of a row set among the scan's (None: all of them)."""
        parts = []
        if set(rows.sources) != set(scan.sources):
            parts.append(self._source_test(scan, rows.sources))
        if rows.names is not None:
            parts.append(isin(self._rel_cols(single)[1], rows.names))
        if rows.bounds:
            parts.append(self._lower_bounds(rows.bounds, single))
        return and_(*parts) if parts else None

    @staticmethod
    def _source_test(scan: Scan, sources: tuple[str, ...]) -> exp.Expression:
        """The rows of `sources` in a (tagged) union of the scan's sources."""
        tags = [exp.Literal.number(scan.sources.index(s)) for s in sources]
        if len(tags) == 1:
            return exp.EQ(this=col(SRC, EV), expression=tags[0])
        return exp.In(this=col(SRC, EV), expressions=tags)

    def scan(self, plan: EntityPlan, scan: Scan) -> exp.Select:
        """One GROUP BY entity over the scan's rows computing all its aggregates."""
        if scan.kind == "anchor":
            return self.anchor_scan(plan, scan)
        single = self._single(plan, scan.sources)
        where, shared = self._scan_filters(plan, scan, single)
        common = scan.lower_bound()
        projections: list[exp.Expression] = [alias(self._rel_cols(single)[0], KEY)]
        values = self._shared_values(plan, scan) if scan.kind != "since" else {}
        for agg, column in scan.columns.items():
            conds = self._agg_filters(plan, scan, agg, single, shared, common)
            value = self.aggregate(plan, scan, agg, single, conds, values)
            projections.append(alias(value, column))
        extracted = [alias(v, name) for v, name in values.values()]
        names = {name for _, name in values.values()}
        columns: dict[str, set[str]] = {}  # column -> the sources whose rows read it
        for agg, projection in zip(scan.columns, projections[1:], strict=True):
            for c in _ev_columns(projection) - names:
                columns.setdefault(c, set()).update(agg.sources or scan.sources)
        for c in _ev_columns(*where, *extracted):
            columns.setdefault(c, set()).update(scan.sources)
        tagged = columns.pop(SRC, None) is not None
        rel, _ = self.relation(plan, scan.sources, columns, tagged=tagged)
        if extracted:  # each shared value once per row, then aggregated
            rows = select(exp.Column(this=exp.Star(), table=exp.to_identifier(EV)), *extracted)
            rel = table_alias(rows.from_(rel, copy=False).where(and_(*where), copy=False), EV)
            where = []
        query = select(*projections).from_(rel, copy=False)
        if scan.kind == "since":
            src = plan.project.entity_source(plan.entity)
            join(
                query,
                table_alias(self._table(src), "en"),
                exp.EQ(this=col(src.key, "en"), expression=self._rel_cols(single)[0]),
            )
        if where:
            query.where(and_(*where), copy=False)
        return query.group_by(self._rel_cols(single)[0], copy=False)

    def _shared_values(self, plan: EntityPlan, scan: Scan) -> dict[tuple, tuple]:
        """JSON values that several aggregates of a scan read (`sum`, `avg`, `min` of one
        amount): (prop, numeric) -> (expression, column name), extracted once per row
        instead of once per aggregate. Only where every row of the scan is of the same
        names and sources (a fused scan would extract it from every row)."""
        if len({(a.events, a.sources) for a in scan.columns}) > 1:
            return {}
        uses: dict[tuple, int] = {}
        for agg in scan.columns:
            if agg.of is not None and agg.of.path:
                key = (agg.of, agg.kind != "count_distinct")
                uses[key] = uses.get(key, 0) + 1
        json_cols = self._json_cols(plan, scan.sources)
        shared = [key for key, n in uses.items() if n > 1]
        return {
            (prop, numeric): (
                self.prop_value(prop, EV, json_cols, as_number=numeric),
                f"segsql_v{i}",
            )
            for i, (prop, numeric) in enumerate(shared, start=1)
        }

    def _agg_filters(
        self,
        plan: EntityPlan,
        scan: Scan,
        agg: Aggregate,
        single: Source | None,
        shared: dict[str, bool],
        common: list[Window],
    ) -> list[exp.Expression]:
        """What an aggregate must test on each row beyond the scan's WHERE."""
        conds = []
        if not shared["sources"] and set(agg.sources) != set(scan.sources):
            conds.append(self._source_test(scan, agg.sources))
        if not shared["events"] and agg.events is not None:
            conds.append(isin(self._rel_cols(single)[1], agg.events))
        # (a `within` that is the scan's only lower bound is implied by its WHERE)
        implied = isinstance(agg.window, Within) and common == [agg.window]
        if (not shared["window"] or scan.kind == "anchor") and not implied:
            conds += self.window_filter(plan, agg.window, single)
        if not shared["where"] and agg.where is not None:  # last: JSON only for rows in time
            conds.append(self.event_boolean(agg.where, self._json_cols(plan, scan.sources)))
        return conds

    def aggregate(
        self,
        plan: EntityPlan,
        scan: Scan,
        agg: Aggregate,
        single: Source | None,
        conds: list[exp.Expression],
        values: dict[tuple, tuple] | None = None,
    ) -> exp.Expression:
        """The aggregate over the rows passing `conds`; a value in `values` (see
        `_shared_values`) is read from its column."""
        ts = self._rel_cols(single)[2]
        json_cols = self._json_cols(plan, scan.sources)
        numeric = agg.kind != "count_distinct"
        if values and (agg.of, numeric) in values:
            shared: exp.Expression | None = col(values[(agg.of, numeric)][1], EV)
        else:
            shared = None
        if agg.kind == "count":
            # an anchor scan has one NULL row for an entity with no events after its anchor
            value: exp.Expression = ts if scan.kind == "anchor" else exp.Literal.number(1)
            if not conds and scan.kind != "anchor":
                return exp.Count(this=exp.Star())
        elif agg.kind in ("first", "last"):
            value = ts
        elif shared is not None:
            value = shared
        elif agg.kind == "count_distinct":
            value = self.prop_value(agg.of, EV, json_cols)  # type: ignore[arg-type]
        else:
            value = self.prop_value(agg.of, EV, json_cols, as_number=True)  # type: ignore
        if conds:
            value = exp.Case(ifs=[exp.If(this=and_(*conds), true=value)])
        if agg.kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        return AGGREGATES[agg.kind](this=value)

    def anchor(self, plan: EntityPlan, anchor: SinceNthLast) -> exp.Select:
        """Per entity, the timestamp of the n-th most recent anchor event at or before T."""
        single = self._single(plan, anchor.sources)
        rel, _ = self.relation(plan, anchor.sources, set())
        filters = [exp.LTE(this=self._rel_cols(single)[2], expression=self.T)]
        filters += self.event_filter(plan, anchor.sources, anchor.events, None, single)
        key, _, ts = self._rel_cols(single)
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[key],
            order=exp.Order(expressions=[exp.Ordered(this=ts, desc=True)]),
        )
        key2, _, ts2 = self._rel_cols(single)
        ranked = (
            select(alias(key2, KEY), alias(ts2, "ts"), alias(rank, "rn"))
            .from_(rel, copy=False)
            .where(and_(*filters), copy=False)
        )
        return (
            select(col(KEY, "r"), alias(col("ts", "r"), "anchor"))
            .from_(table_alias(ranked, "r"), copy=False)
            .where(exp.EQ(this=col("rn", "r"), expression=exp.Literal.number(anchor.n)), copy=False)
        )

    def anchor_scan(self, plan: EntityPlan, scan: Scan) -> exp.Select:
        """Entities with n anchors (the n-th most recent computed once), LEFT JOINed with
        their rows from the anchor on, grouped: every entity with an anchor is in it."""
        assert isinstance(scan.window, SinceNthLast)
        where, shared = self._scan_filters(plan, scan, None)
        projections: list[exp.Expression] = [alias(col(KEY, "a"), KEY)]
        for agg, column in scan.columns.items():
            conds = self._agg_filters(plan, scan, agg, None, shared, [])
            projections.append(alias(self.aggregate(plan, scan, agg, None, conds), column))
        needed = _ev_columns(*projections, *where)
        rel, _ = self.relation(plan, scan.sources, needed, standard=True)
        rows = (
            select(col(KEY, EV), col(EVENT, EV), col(TS, EV), *(col(c, EV) for c in sorted(needed)))
            .from_(rel, copy=False)
            .where(and_(*where), copy=False)
        )
        on = and_(
            exp.EQ(this=col(KEY, EV), expression=col(KEY, "a")),
            exp.GTE(this=col(TS, EV), expression=col("anchor", "a")),
        )
        query = select(*projections).from_(
            table_alias(self.anchor(plan, scan.window), "a"), copy=False
        )
        return join(query, table_alias(rows, EV), on, "LEFT").group_by(col(KEY, "a"), copy=False)

    # ------------------------------------------------------------------ sequences
    def step_rows(
        self,
        plan: EntityPlan,
        step: Step,
        within: Duration | None = None,
        after: Duration | None = None,
    ) -> exp.Select:
        """SELECT key, ts of the events (at or before T) matching a sequence step, from
        T-`within` on (the first step's window) or after T-`after` (later steps: after the
        first step, which is inside its window)."""
        single = self._single(plan, step.sources)
        key, _, ts = self._rel_cols(single)
        filters = [exp.LTE(this=self._rel_cols(single)[2], expression=self.T)]
        filters += self.event_filter(plan, step.sources, step.events, step.where, single)
        if within is not None:
            filters.append(exp.GTE(this=self._rel_cols(single)[2], expression=self.ago(within)))
        if after is not None:
            filters.append(exp.GT(this=self._rel_cols(single)[2], expression=self.ago(after)))
        rel, _ = self.relation(plan, step.sources, _ev_columns(*filters))
        return (
            select(alias(key, KEY), alias(ts, "ts"))
            .from_(rel, copy=False)
            .where(and_(*filters), copy=False)
        )

    def sequence(self, plan: EntityPlan, seq: SequenceCond) -> exp.Select:
        """Entities with a matching chain. For each first-step event the chain takes the
        earliest next step each time (which leaves the most room for `completed_within`);
        before an absent last step it takes the *latest* last present step instead, which
        leaves the fewest events after it.

        Without `completed_within` only the entity's earliest first step can matter (it
        leaves the most room), or, for a single present step before an absent one, its
        latest: the chain then starts from one row per entity. Every later step (and the
        absent one) is after the first, so it is read from the first step's window on."""
        present = [s for s in seq.steps if not s.absent]
        absent = seq.steps[-1] if seq.steps[-1].absent else None
        first = self.step_rows(plan, present[0], seq.within)
        if seq.completed_within is None:
            pick = "MAX" if absent is not None and len(present) == 1 else "MIN"
            agg = exp.Max if pick == "MAX" else exp.Min
            first = (
                select(alias(col(KEY, "x"), KEY), alias(agg(this=col("ts", "x")), "ts"))
                .from_(table_alias(first, "x"), copy=False)
                .group_by(col(KEY, "x"), copy=False)
            )
        chain = select(
            alias(col(KEY, "x"), KEY),
            alias(col("ts", "x"), "t1"),
            alias(col("ts", "x"), "t"),
        ).from_(table_alias(first, "x"), copy=False)
        for i, step in enumerate(present[1:], start=2):
            rows = self.step_rows(plan, step, after=seq.within)
            if seq.completed_within is not None and not (absent is not None and i == len(present)):
                chain = self._next_step(chain, rows, seq.completed_within)
                continue
            on = [
                exp.EQ(this=col(KEY, "x"), expression=col(KEY, "c")),
                exp.GT(this=col("ts", "x"), expression=col("t", "c")),
            ]
            if seq.completed_within is not None:
                on.append(
                    exp.LTE(
                        this=col("ts", "x"),
                        expression=self.later(col("t1", "c"), seq.completed_within),
                    )
                )
            pick = exp.Max if absent is not None and i == len(present) else exp.Min
            chain = select(
                col(KEY, "c"), col("t1", "c"), alias(pick(this=col("ts", "x")), "t")
            ).from_(table_alias(chain, "c"), copy=False)
            chain = join(chain, table_alias(rows, "x"), and_(*on)).group_by(
                col(KEY, "c"), col("t1", "c"), copy=False
            )
        result = (
            select(col(KEY, "c")).distinct(copy=False).from_(table_alias(chain, "c"), copy=False)
        )
        if absent is not None:
            rows = self.step_rows(plan, absent, after=seq.within)
            last = (
                select(col(KEY, "x"), alias(exp.Max(this=col("ts", "x")), "t"))
                .from_(table_alias(rows, "x"), copy=False)
                .group_by(col(KEY, "x"), copy=False)
            )
            join(
                result,
                table_alias(last, "z"),
                exp.EQ(this=col(KEY, "z"), expression=col(KEY, "c")),
                "LEFT",
            ).where(
                or_(is_null(col("t", "z")), exp.LTE(this=col("t", "z"), expression=col("t", "c"))),
                copy=False,
            )
        return result

    def _next_step(self, chain: exp.Select, rows: exp.Select, within: Duration) -> exp.Select:
        """Each chain (key, t1, t) moves to its earliest next step event after t, if that is
        at most `within` after t1: a window over the chain rows and the step's rows in time
        order (linear in their number, where a join by key is quadratic per entity). At
        equal times the step rows come first, so a step strictly after t is the first step
        row that follows. Chains that reach the same step event keep the latest t1."""
        union = exp.Union(
            this=select(
                col(KEY, "c"),
                col("t1", "c"),
                alias(col("t", "c"), "ts"),
                alias(exp.Literal.number(0), "src"),
            ).from_(table_alias(chain, "c"), copy=False),
            expression=select(
                col(KEY, "x"),
                alias(col("ts", "x"), "t1"),
                col("ts", "x"),
                alias(exp.Literal.number(1), "src"),
            ).from_(table_alias(rows, "x"), copy=False),
            distinct=False,
        )
        following = exp.Window(
            this=exp.Min(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(this=col("src", "u"), expression=exp.Literal.number(1)),
                            true=col("ts", "u"),
                        )
                    ]
                )
            ),
            partition_by=[col(KEY, "u")],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=col("ts", "u")),
                    exp.Ordered(this=col("src", "u"), desc=True),
                ]
            ),
            spec=exp.WindowSpec(
                kind="ROWS",
                start=exp.Literal.number(1),
                start_side="FOLLOWING",
                end="UNBOUNDED",
                end_side="FOLLOWING",
            ),
        )
        ranked = select(
            col(KEY, "u"), col("t1", "u"), col("src", "u"), alias(following, "nxt")
        ).from_(table_alias(union, "u"), copy=False)
        return (
            select(
                col(KEY, "w"),
                alias(exp.Max(this=col("t1", "w")), "t1"),
                alias(col("nxt", "w"), "t"),
            )
            .from_(table_alias(ranked, "w"), copy=False)
            .where(
                and_(
                    exp.EQ(this=col("src", "w"), expression=exp.Literal.number(0)),
                    exp.LTE(this=col("nxt", "w"), expression=self.later(col("t1", "w"), within)),
                ),
                copy=False,
            )
            .group_by(col(KEY, "w"), col("nxt", "w"), copy=False)
        )

    # ------------------------------------------------------------------ other entities
    def parent(self, sub: EntityPlan) -> exp.Select:
        """Keys of the parent entities that exist at T and satisfy the condition."""
        ok = self.boolean(sub, sub.outputs["ok"]) if "ok" in sub.outputs else None
        outputs, sub.outputs = sub.outputs, {}
        try:
            query = self.select(sub, where=ok)
        finally:
            sub.outputs = outputs
        query.expressions[0].set("alias", ident(KEY))
        return query

    def members(self, cond: MembersCond, sub: EntityPlan) -> exp.Select:
        """Per parent key, how many existing child entities satisfy the condition."""
        inner = self.select(sub, columns={"parent": col(cond.column, ENTITY)})
        counted: exp.Expression = exp.Literal.number(1)
        if cond.where is not None:
            counted = exp.Case(ifs=[exp.If(this=col("ok", "c"), true=counted)])
        return (
            select(alias(col("parent", "c"), KEY), alias(exp.Count(this=counted), "n"))
            .from_(table_alias(inner, "c"), copy=False)
            .where(present(col("parent", "c")), copy=False)
            .group_by(col("parent", "c"), copy=False)
        )
