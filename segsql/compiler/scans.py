"""Scans: one GROUP BY entity over event rows computing a plan scan's aggregates, and the
anchors of `since_nth_last` windows."""

from __future__ import annotations

from typing import NamedTuple

from sqlglot import exp

from ..model.types import SinceNthLast, Source, Window, Within
from ..plan.planner import Aggregate, EntityPlan, RowSet, Scan, ScanKind
from .nodes import (
    EV,
    EVENT,
    KEY,
    SRC,
    TS,
    and_,
    isin,
    join,
    or_,
    paren,
    present,
    select,
    table_alias,
)
from .relations import Relations

AGGREGATES = {
    "count": exp.Count,
    "sum": exp.Sum,
    "avg": exp.Avg,
    "min": exp.Min,
    "max": exp.Max,
    "first": exp.Min,
    "last": exp.Max,
}


class Shared(NamedTuple):
    """Which parts of its aggregates' filters a scan's WHERE applies to every row."""

    events: bool
    where: bool
    window: bool
    sources: bool


class SharedValue(NamedTuple):
    """A JSON value several aggregates of a scan read, extracted once per row."""

    expression: exp.Expression
    column: str


class Scans(Relations):
    def scan(self, plan: EntityPlan, scan: Scan) -> exp.Select:
        """One GROUP BY entity over the scan's rows computing all its aggregates."""
        if scan.kind == ScanKind.ANCHOR:
            return self.anchor_scan(plan, scan)
        if scan.kind == ScanKind.STATE:
            from .incremental import state_scan  # it renders its rows with this method

            return state_scan(self, plan, scan)
        single = self._single(plan, scan.sources)
        where, shared = self._scan_filters(plan, scan, single)
        common = scan.lower_bound()
        projections: list[exp.Expression] = [self.alias(self.rel_cols(single).key, KEY)]
        values = self._shared_values(plan, scan) if scan.kind != ScanKind.SINCE else {}
        for agg, column in scan.columns.items():
            conds = self._agg_filters(plan, scan, agg, single, shared, common)
            value = self.aggregate(plan, scan, agg, single, conds, values)
            projections.append(self.alias(value, column))
        extracted = [self.alias(v.expression, v.column) for v in values.values()]
        names = {self.name(v.column) for v in values.values()}
        columns: dict[str, set[str]] = {}  # column -> the sources whose rows read it
        for agg, projection in zip(scan.columns, projections[1:], strict=True):
            for c in self.ev_columns(projection) - names:
                columns.setdefault(c, set()).update(agg.sources or scan.sources)
        for c in self.ev_columns(*where, *extracted):
            columns.setdefault(c, set()).update(scan.sources)
        tagged = columns.pop(self.name(SRC), None) is not None
        rel = self.relation(plan, scan.sources, columns, tagged=tagged)
        if extracted:  # each shared value once per row, then aggregated
            rows = select(exp.Column(this=exp.Star(), table=exp.to_identifier(EV)), *extracted)
            rel = table_alias(rows.from_(rel, copy=False).where(and_(*where), copy=False), EV)
            where = []
        query = select(*projections).from_(rel, copy=False)
        if scan.kind == ScanKind.SINCE:
            src = plan.project.entity_source(plan.entity)
            join(
                query,
                table_alias(self._table(src), "en"),
                exp.EQ(this=self.col(src.key, "en"), expression=self.rel_cols(single).key),
            )
        if where:
            query.where(and_(*where), copy=False)
        return query.group_by(self.rel_cols(single).key, copy=False)

    # ------------------------------------------------------------------ filters
    def _scan_filters(
        self, plan: EntityPlan, scan: Scan, single: Source | None
    ) -> tuple[list[exp.Expression], Shared]:
        """The WHERE of a scan (exactly the rows its aggregates read) and which parts of
        the aggregates' own filters it already applies to every row (shared)."""
        aggs = list(scan.columns)
        first = aggs[0]
        shared = Shared(
            events=all(a.events == first.events for a in aggs),
            where=all(a.where == first.where for a in aggs),
            window=all(a.window == first.window for a in aggs),
            sources=all(set(a.sources or scan.sources) == set(scan.sources) for a in aggs),
        )
        cols = self.rel_cols(single)
        where: list[exp.Expression] = [exp.LTE(this=cols.ts, expression=self.T)]
        names = scan.event_names()
        if names is not None:
            where.append(isin(cols.event, names))
        if shared.window and scan.kind != ScanKind.ANCHOR:
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
        if shared.where and first.where is not None:
            where.append(self.event_boolean(first.where, self._instants(single)))
        return where, shared

    def _row_set_test(
        self, scan: Scan, rows: RowSet, single: Source | None
    ) -> exp.Expression | None:
        """The rows of a row set among the scan's (None: all of them)."""
        parts = []
        if set(rows.sources) != set(scan.sources):
            parts.append(self._source_test(scan, rows.sources))
        if rows.names is not None:
            parts.append(isin(self.rel_cols(single).event, rows.names))
        if rows.bounds:
            parts.append(self._lower_bounds(rows.bounds, single))
        return and_(*parts) if parts else None

    def _source_test(self, scan: Scan, sources: tuple[str, ...]) -> exp.Expression:
        """The rows of `sources` in a (tagged) union of the scan's sources."""
        tags = [exp.Literal.number(scan.sources.index(s)) for s in sources]
        if len(tags) == 1:
            return exp.EQ(this=self.col(SRC, EV), expression=tags[0])
        return exp.In(this=self.col(SRC, EV), expressions=tags)

    def _agg_filters(
        self,
        plan: EntityPlan,
        scan: Scan,
        agg: Aggregate,
        single: Source | None,
        shared: Shared,
        common: list[Window],
    ) -> list[exp.Expression]:
        """What an aggregate must test on each row beyond the scan's WHERE."""
        conds = []
        if not shared.sources and set(agg.sources) != set(scan.sources):
            conds.append(self._source_test(scan, agg.sources))
        if not shared.events and agg.events is not None:
            conds.append(isin(self.rel_cols(single).event, agg.events))
        # (a `within` that is the scan's only lower bound is implied by its WHERE)
        implied = isinstance(agg.window, Within) and common == [agg.window]
        if (not shared.window or scan.kind == ScanKind.ANCHOR) and not implied:
            conds += self.window_filter(plan, agg.window, single)
        if not shared.where and agg.where is not None:  # last: JSON only for rows in time
            conds.append(self.event_boolean(agg.where, self._instants(single)))
        return conds

    # ------------------------------------------------------------------ aggregates
    def _shared_values(self, plan: EntityPlan, scan: Scan) -> dict[tuple, SharedValue]:
        """JSON values that several aggregates of a scan read (`sum`, `avg`, `min` of one
        amount): (prop, numeric) -> its expression and column, extracted once per row
        instead of once per aggregate. Only where every row of the scan is of the same
        names and sources (a fused scan would extract it from every row)."""
        if len({(a.events, a.sources) for a in scan.columns}) > 1:
            return {}
        uses: dict[tuple, int] = {}
        for agg in scan.columns:
            if agg.of is not None and agg.of.path:
                key = (agg.of, agg.kind != "count_distinct")
                uses[key] = uses.get(key, 0) + 1
        instants = self._instants(self._single(plan, scan.sources))
        shared = [key for key, n in uses.items() if n > 1]
        return {
            (prop, numeric): SharedValue(
                self.prop_value(prop, EV, instants, as_number=numeric), f"segsql_v{i}"
            )
            for i, (prop, numeric) in enumerate(shared, start=1)
        }

    def aggregate(
        self,
        plan: EntityPlan,
        scan: Scan,
        agg: Aggregate,
        single: Source | None,
        conds: list[exp.Expression],
        values: dict[tuple, SharedValue] | None = None,
    ) -> exp.Expression:
        """The aggregate over the rows passing `conds`; a value in `values` (see
        `_shared_values`) is read from its column."""
        ts = self.rel_cols(single).ts
        instants = self._instants(single)
        numeric = agg.kind != "count_distinct"
        if values and (agg.of, numeric) in values:
            shared: exp.Expression | None = self.col(values[(agg.of, numeric)].column, EV)
        else:
            shared = None
        if agg.kind == "count":
            # an anchor scan has one NULL row for an entity with no events after its anchor
            value: exp.Expression = ts if scan.kind == ScanKind.ANCHOR else exp.Literal.number(1)
            if not conds and scan.kind != ScanKind.ANCHOR:
                return exp.Count(this=exp.Star())
        elif agg.kind in ("first", "last"):
            value = ts
        elif shared is not None:
            value = shared
        elif agg.kind == "count_distinct":
            value = self.prop_value(agg.of, EV, instants)  # type: ignore[arg-type]
        else:
            value = self.prop_value(agg.of, EV, instants, as_number=True)  # type: ignore
        if conds:
            value = exp.Case(ifs=[exp.If(this=and_(*conds), true=value)])
        if agg.kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        return AGGREGATES[agg.kind](this=value)

    # ------------------------------------------------------------------ anchors
    def anchor(self, plan: EntityPlan, anchor: SinceNthLast) -> exp.Select:
        """Per entity, the timestamp of the n-th most recent anchor event at or before T:
        of its anchor events ranked oldest first, the one ranked c - n + 1, c the count of
        those at or before T. The ranking does not depend on T: a backfill's steps
        (compiler/steps.py) rank each entity's events once, not once per step."""
        single = self._single(plan, anchor.sources)

        def rows(*columns: exp.Expression, at_t: bool) -> exp.Select:
            """The anchor events with a time (at or before T: `at_t`), key and `columns`."""
            cols = self.rel_cols(single)
            when = exp.LTE(this=cols.ts, expression=self.T) if at_t else present(cols.ts)
            where = [when, *self.event_filter(plan, anchor.sources, anchor.events, None, single)]
            query = select(self.alias(cols.key, KEY), *columns)
            query.from_(self.relation(plan, anchor.sources, set()), copy=False)
            return query.where(and_(*where), copy=False)

        cols = self.rel_cols(single)
        oldest_first = exp.Order(expressions=[exp.Ordered(this=cols.ts)])
        rank = exp.Window(this=exp.RowNumber(), partition_by=[cols.key], order=oldest_first)
        ts = self.alias(self.rel_cols(single).ts, "ts")
        ranked = rows(ts, self.alias(rank, "rn"), at_t=False)
        counts = rows(self.alias(exp.Count(this=exp.Star()), "n"), at_t=True)
        counts.group_by(self.rel_cols(single).key, copy=False)
        nth = exp.Sub(this=self.col("n", "c"), expression=exp.Literal.number(anchor.n - 1))
        on = and_(
            exp.EQ(this=self.col(KEY, "r"), expression=self.col(KEY, "c")),
            exp.EQ(this=self.col("rn", "r"), expression=nth),
        )
        query = select(self.col(KEY, "r"), self.alias(self.col("ts", "r"), "anchor"))
        query.from_(table_alias(ranked, "r"), copy=False)
        return join(query, table_alias(counts, "c"), on)

    def anchor_scan(self, plan: EntityPlan, scan: Scan) -> exp.Select:
        """Entities with n anchors (the n-th most recent computed once), LEFT JOINed with
        their rows from the anchor on, grouped: every entity with an anchor is in it."""
        assert isinstance(scan.window, SinceNthLast)
        where, shared = self._scan_filters(plan, scan, None)
        projections: list[exp.Expression] = [self.alias(self.col(KEY, "a"), KEY)]
        for agg, column in scan.columns.items():
            conds = self._agg_filters(plan, scan, agg, None, shared, [])
            projections.append(self.alias(self.aggregate(plan, scan, agg, None, conds), column))
        needed = self.ev_columns(*projections, *where)
        rel = self.relation(plan, scan.sources, needed, standard=True)
        rows = (
            select(
                self.col(KEY, EV),
                self.col(EVENT, EV),
                self.col(TS, EV),
                *(self.col(c, EV) for c in sorted(needed)),
            )
            .from_(rel, copy=False)
            .where(and_(*where), copy=False)
        )
        on = and_(
            exp.EQ(this=self.col(KEY, EV), expression=self.col(KEY, "a")),
            exp.GTE(this=self.col(TS, EV), expression=self.col("anchor", "a")),
        )
        query = select(*projections).from_(
            table_alias(self.anchor(plan, scan.window), "a"), copy=False
        )
        return join(query, table_alias(rows, EV), on, "LEFT").group_by(
            self.col(KEY, "a"), copy=False
        )
