"""Incremental refresh in SQL: the kept value of an all-time aggregate combined with the
rows that are not settled yet (a STATE scan), and the rows a run adds to the state
(plan/incremental.py explains what is kept and why the result is exact).

Every query here is one aggregate over the rows of its sources that pass a per-source
row filter (`Relations.row_filters`), rendered by the ordinary scan code, so the value
of the rows since the last run is computed exactly as a full refresh computes it.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from ..model.types import All, Duration, PropertyCond, Source, Test, Within
from ..plan.incremental import KEPT, Horizon, StateRef, moving
from ..plan.planner import Aggregate, EntityPlan, Scan, ScanKind
from .nodes import EV, KEY, and_, or_, paren, select, table_alias

VALUE = "v"  # the aggregate's column in a feature query
STATE_ALIAS = "st"
TYPES = {"n": "BIGINT", "num": "DOUBLE", "ts": "TIMESTAMP", "val": "TEXT"}

# how kept values and the values of new rows combine, per kept column
COMBINE = {
    "count": exp.Sum,
    "sum": exp.Sum,
    "min": exp.Min,
    "max": exp.Max,
    "first": exp.Min,
    "last": exp.Max,
}


def settled(r, src: Source, hz: Horizon | None) -> exp.Expression:
    """The rows of `src` that a kept value at horizon `hz` covers (FALSE for None)."""
    if hz is None:
        return exp.false()
    ts = r.read(src, src.timestamp)
    if src.loaded_at is None:
        return exp.LTE(this=ts, expression=r.d.timestamp(hz.settled_until))
    if hz.loaded_max is None:
        return exp.false()
    loaded = r.read(src, src.loaded_at)
    return and_(
        exp.LTE(this=loaded, expression=r.d.timestamp(hz.loaded_max)),
        exp.LTE(this=r.read(src, src.timestamp), expression=r.d.timestamp(hz.as_of)),
    )


def unsettled(r, src: Source, hz: Horizon | None) -> exp.Expression:
    """Every row with a timestamp that the kept value at `hz` does not cover (a NULL
    `loaded_at` included), as plain comparisons (engines skip blocks by them)."""
    if hz is None or (src.loaded_at is not None and hz.loaded_max is None):
        return exp.true()
    ts = r.read(src, src.timestamp)
    if src.loaded_at is None:
        return exp.GT(this=ts, expression=r.d.timestamp(hz.settled_until))
    loaded = r.read(src, src.loaded_at)
    return paren(
        or_(
            exp.GT(this=loaded, expression=r.d.timestamp(hz.loaded_max)),
            exp.Is(this=r.read(src, src.loaded_at), expression=exp.Null()),
            exp.GT(this=ts, expression=r.d.timestamp(hz.as_of)),
        )
    )


def _filtered_scan(r, plan: EntityPlan, scan: Scan, filters: dict[str, exp.Expression]):
    """`r.scan(plan, scan)` with `filters` as the row filters of its sources."""
    previous, r.row_filters = r.row_filters, filters
    try:
        return r.scan(plan, scan)
    finally:
        r.row_filters = previous


def _cast(r, node: exp.Expression, column: str) -> exp.Expression:
    return exp.Cast(this=node, to=r.d.column_type(TYPES[column]))


def feature_rows(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    agg: Aggregate,
    filters: dict[str, exp.Expression],
) -> exp.Select:
    """(entity_id text, <the kept columns of the aggregate>) over the rows of its sources
    that pass `filters` (source name -> condition on its raw columns), grouped by entity."""
    kept = KEPT[agg.kind]
    if agg.kind == "count_distinct":
        return _value_rows(r, plan, sources, agg, filters)
    inner_agg = replace(agg, kind="sum") if agg.kind == "avg" else agg
    scan = Scan("t", sources, ScanKind.EVENTS, columns={inner_agg: VALUE})
    inner = _filtered_scan(r, plan, scan, filters)
    if agg.kind == "avg":  # the count of the same values
        total = next(
            p for p in inner.expressions if isinstance(p, exp.Alias) and p.alias == VALUE
        ).this
        inner.append("expressions", r.alias(exp.Count(this=total.this.copy()), "n"))
    columns = [r.alias(r.d.to_text(r.col(KEY, "t")), "entity_id")]
    for column in kept:
        source = "n" if agg.kind == "avg" and column == "n" else VALUE
        columns.append(r.alias(_cast(r, r.col(source, "t"), column), column))
    return select(*columns).from_(table_alias(inner, "t"), copy=False)


def _value_rows(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    agg: Aggregate,
    filters: dict[str, exp.Expression],
) -> exp.Select:
    """count_distinct: (entity_id, val, ts) - each value's last time among the rows that
    pass `filters` and the condition's own filters, its window included: the values
    counted at T' >= T are those last seen at or after T' - w, so a value whose rows at T
    are all older than T - w counts again only after a new row, which brings its new last
    time (a rebuild reads the window, not all history)."""
    # rows with a value only; the filter also makes a union of sources carry the column
    present = PropertyCond(agg.of, (Test("is_null", False),))  # type: ignore[arg-type]
    where = present if agg.where is None else All((agg.where, present))
    last = replace(agg, kind="last", of=None, where=where)
    scan = Scan("t", sources, ScanKind.EVENTS, columns={last: VALUE})
    inner = _filtered_scan(r, plan, scan, filters)
    single = r._single(plan, sources)
    value = r.d.to_text(r.prop_value(agg.of, EV, r._instants(single)))
    inner.append("expressions", r.alias(value, "val"))
    inner.group_by(value.copy(), copy=False)
    t = "t"
    return (
        select(
            r.alias(r.d.to_text(r.col(KEY, t)), "entity_id"),
            r.alias(_cast(r, r.col("val", t), "val"), "val"),
            r.alias(_cast(r, r.col(VALUE, t), "ts"), "ts"),
        )
        .from_(table_alias(inner, t), copy=False)
        .where(
            and_(
                exp.Not(this=exp.Is(this=r.col(VALUE, t), expression=exp.Null())),
                exp.Not(this=exp.Is(this=r.col("val", t), expression=exp.Null())),
            ),
            copy=False,
        )
    )


def _distinct_counts(
    r, plan: EntityPlan, scan: Scan, refs: dict[Aggregate, StateRef]
) -> exp.Select:
    """count_distinct features as (entity_id, feature, n, ...) rows: one per value of an
    entity, n = 1 if its last time (kept or new) is in the window."""
    parts: list[exp.Query] = [kept_rows(r, refs)]
    for agg, ref in refs.items():
        read = agg.sources or scan.sources
        filters = {s: unsettled(r, plan.project.sources[s], ref.horizon(s)) for s in read}
        parts.append(
            _tagged(r, feature_rows(r, plan, read, agg, filters), ref.feature, KEPT[agg.kind])
        )
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.Union(this=union, expression=part, distinct=False)
    v = "v"
    keys = [r.col("entity_id", v), r.col("feature", v), r.col("val", v)]
    last = (
        select(*keys, r.alias(exp.Max(this=r.col("ts", v)), "ts"))
        .from_(table_alias(union, v), copy=False)
        .group_by(*(k.copy() for k in keys), copy=False)
    )
    w = "w"
    tests = []
    for agg, ref in refs.items():
        test: exp.Expression = exp.EQ(
            this=r.col("feature", w), expression=exp.Literal.string(ref.feature)
        )
        if isinstance(agg.window, Within):
            test = and_(test, exp.GTE(this=r.col("ts", w), expression=r.ago(agg.window.duration)))
        tests.append(paren(test))
    counted = exp.Case(
        ifs=[exp.If(this=or_(*tests) if len(tests) > 1 else tests[0], true=exp.Literal.number(1))],
        default=exp.Literal.number(0),
    )
    return select(
        r.col("entity_id", w),
        r.col("feature", w),
        r.alias(_cast(r, counted, "n"), "n"),
        *(r.alias(_cast(r, exp.Null(), name), name) for name in ("num", "ts", "val")),
    ).from_(table_alias(last, w), copy=False)


def _leaving_filters(
    r, plan: EntityPlan, sources: tuple[str, ...], w: Duration, previous: dict[str, Horizon]
) -> dict[str, exp.Expression]:
    """The kept rows (settled at `previous`) that left a `within: w` window between the
    state's T and this run's: timestamp in [T_prev - w, T - w)."""
    filters = {}
    for s in sources:
        src, hz = plan.project.sources[s], previous[s]
        ts = r.read(src, src.timestamp)
        filters[s] = and_(
            paren(settled(r, src, hz)),
            exp.GTE(this=ts, expression=r.ago(w, r.d.timestamp(hz.as_of))),
            exp.LT(this=ts.copy(), expression=r.ago(w)),
        )
    return filters


def fused_leaving(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    aggs: list[Aggregate],
    previous: dict[str, Horizon],
) -> list[tuple[exp.Select, list[tuple[Aggregate, dict[str, str]]]]]:
    """The rows that left the windows of moving counts `aggs` (over the same sources,
    kept at `previous`): ONE scan per window width, as `fused_delta` reads the rows a run
    adds (a scan per feature read the events once per feature: on Postgres a sequential
    scan each). Returns per width (its query, [(aggregate, its columns there)]): rows to
    subtract (`subtracted`)."""
    by_width: dict[Duration, list[Aggregate]] = {}
    for agg in aggs:
        assert moving(agg) and isinstance(agg.window, Within)
        by_width.setdefault(agg.window.duration, []).append(agg)
    out = []
    for w, group in by_width.items():
        filters = _leaving_filters(r, plan, sources, w, previous)
        plain = [replace(agg, window=None) for agg in group]
        query, names = fused_delta(r, plan, sources, plain, filters)
        out.append((query, list(zip(group, names, strict=True))))
    return out


def subtracted(r, source: exp.Expression, agg: Aggregate, names: dict[str, str]) -> exp.Select:
    """A moving count's leaving rows (`fused_leaving`) as rows that subtract: -n."""
    q = "l"
    rows = fused_rows(r, source, replace(agg, window=None), names)
    return select(r.col("entity_id", q), r.alias(exp.Neg(this=r.col("n", q)), "n")).from_(
        rows.subquery(q, copy=False), copy=False
    )


def delta_rows(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    agg: Aggregate,
    previous: dict[str, Horizon] | None,
    new: dict[str, Horizon],
) -> exp.Query:
    """What a run adds to a kept count_distinct (a row per value: a scan of its own): its
    rows settled now and not at `previous` (all settled rows when None: a rebuild). The
    other kept features read theirs together (`fused_delta`, `fused_leaving`)."""
    filters = delta_filters(r, plan, sources, previous, new)
    return feature_rows(r, plan, sources, agg, filters)


def delta_filters(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    previous: dict[str, Horizon] | None,
    new: dict[str, Horizon],
) -> dict[str, exp.Expression]:
    """Per source, the rows a run adds to a kept feature: settled now and not at
    `previous` (all settled rows when None: a rebuild)."""
    filters = {}
    for s in sources:
        src = plan.project.sources[s]
        part = settled(r, src, new[s])
        if previous is not None:
            part = and_(paren(part), unsettled(r, src, previous[s]))
        filters[s] = part
    return filters


def fused_delta(
    r,
    plan: EntityPlan,
    sources: tuple[str, ...],
    aggs: list[Aggregate],
    filters: dict[str, exp.Expression],
) -> tuple[exp.Select, list[dict[str, str]]]:
    """Several kept features (not count_distinct) over the rows of the same sources that
    pass `filters` (source -> row filter: the rows a run adds, `delta_filters`, or those
    not settled yet), in ONE scan: (KEY, one column per kept column of each). Returns
    the query and, per aggregate, kept column -> its column there. (A scan per feature
    read the events once per feature: on Postgres a sequential scan each.) A moving
    window's leaving rows are not in it (`fused_leaving`)."""
    columns: dict[Aggregate, str] = {}
    for agg in aggs:
        inner = replace(agg, kind="sum") if agg.kind == "avg" else agg
        columns.setdefault(inner, f"v{len(columns) + 1}")
    scan = Scan("t", sources, ScanKind.EVENTS, columns=columns)
    query = _filtered_scan(r, plan, scan, filters)
    sums = {p.alias: p.this for p in query.expressions if isinstance(p, exp.Alias)}
    names, counted = [], set()
    for agg in aggs:
        inner = replace(agg, kind="sum") if agg.kind == "avg" else agg
        column = columns[inner]
        if agg.kind != "avg":
            names.append({KEPT[agg.kind][0]: column})
            continue
        count = f"{column}_n"  # the count of the summed values
        if count not in counted:
            summed = sums[r.name(column)].this  # the value inside SUM(...)
            query.append("expressions", r.alias(exp.Count(this=summed.copy()), count))
            counted.add(count)
        names.append({"num": column, "n": count})
    return query, names


def fused_rows(r, source: exp.Expression, agg: Aggregate, names: dict[str, str]) -> exp.Select:
    """One feature's rows (entity_id text, <its kept columns>) from a `fused_delta` query
    or the table it was stored in: the entities with a value (a count of 0 or a NULL adds
    nothing to a kept value)."""
    kept = KEPT[agg.kind]
    t = "t"
    columns = [r.alias(r.d.to_text(r.col(KEY, t)), "entity_id")]
    columns += [r.alias(_cast(r, r.col(names[k], t), k), k) for k in kept]
    test = adds_something(agg, lambda k: r.col(names[k], t))
    return select(*columns).from_(table_alias(source.copy(), t), copy=False).where(test, copy=False)


def adds_something(agg: Aggregate, column) -> exp.Expression:
    """Whether a row of a kept feature adds to its value: a count (an avg's count) that
    is not 0, a value that is not NULL. `column(kept column name)` reads that column."""
    kept = KEPT[agg.kind]
    if agg.kind in ("count", "avg"):
        return exp.NEQ(this=column(kept[-1]), expression=exp.Literal.number(0))
    return exp.Not(this=exp.Is(this=column(kept[0]), expression=exp.Null()))


def _tagged(r, rows: exp.Select, tag: str, kept: tuple[str, ...]) -> exp.Select:
    """(entity_id, tag, n, num, ts) from rows of one feature's kept columns."""
    q = "q"
    values = [r.col(name, q) if name in kept else _cast(r, exp.Null(), name) for name in TYPES]
    return select(
        r.col("entity_id", q),
        r.alias(exp.Literal.string(tag), "feature"),
        *(r.alias(v, name) for v, name in zip(values, TYPES, strict=True)),
    ).from_(rows.subquery(q, copy=False), copy=False)


def kept_rows(r, states: dict[Aggregate, StateRef]) -> exp.Select:
    """The committed rows of the kept features, in one read of the state table:
    (entity_id, feature, n, num, ts)."""
    tests = [
        paren(
            and_(
                exp.EQ(this=r.col("feature"), expression=exp.Literal.string(ref.feature)),
                exp.EQ(this=r.col("generation"), expression=exp.Literal.string(ref.generation)),
                exp.In(
                    this=r.col("run_id"),
                    expressions=[exp.Literal.string(run_id) for run_id in ref.run_ids],
                ),
            )
        )
        for ref in states.values()
    ]
    table = next(iter(states.values())).table
    return (
        select(r.col("entity_id"), r.col("feature"), *(r.col(k) for k in TYPES))
        .from_(r.d.table(*table), copy=False)
        .where(exp.or_(*tests, copy=False) if len(tests) > 1 else tests[0], copy=False)
    )


def compacted_rows(r, agg: Aggregate, ref: StateRef, new: exp.Query) -> exp.Select:
    """One feature's kept value per entity: its committed rows (`ref`) and the rows a run
    adds to it (`new`: entity_id and its kept columns) combined, as rows of a new
    generation (runner/incremental.py). An entity whose value adds nothing is left out
    (a count of 0, a moving count whose rows all left), and so is a count_distinct value
    last seen before T - w (it counts again only with a new row)."""
    kept = KEPT[agg.kind]
    u = "u"
    committed = kept_rows(r, {agg: ref})
    parts = [
        select(r.col("entity_id", q), *(r.col(k, q) for k in kept)).from_(
            part.subquery(q, copy=False), copy=False
        )
        for q, part in (("k", committed), ("d", new))
    ]
    union = exp.Union(this=parts[0], expression=parts[1], distinct=False)
    keys = [r.col("entity_id", u)]
    if agg.kind == "count_distinct":
        keys.append(r.col("val", u))
        combined = {"ts": exp.Max(this=r.col("ts", u))}
    else:
        combine = exp.Sum if agg.kind == "avg" else COMBINE[agg.kind]
        combined = {k: combine(this=r.col(k, u)) for k in kept}
    values = [r.alias(value, k) for k, value in combined.items()]
    if agg.kind == "count_distinct" and isinstance(agg.window, Within):
        having = exp.GTE(this=combined["ts"].copy(), expression=r.ago(agg.window.duration))
    else:
        # a count_distinct's value is a group key, not a combined column
        having = adds_something(agg, lambda k: combined.get(k, r.col(k, u)).copy())
    return (
        select(*(k.copy() for k in keys), *values)
        .from_(table_alias(union, u), copy=False)
        .group_by(*keys, copy=False)
        .having(having, copy=False)
    )


def state_scan(r, plan: EntityPlan, scan: Scan) -> exp.Select:
    """The STATE scan: per entity (its id as text, as KEY), each kept feature's kept value
    combined with the value of the rows not settled at its state's horizon (and, for a
    moving window, minus the rows that left it). One read of the state table, one scan of
    the unsettled rows per group of features that read the same rows (`fused_delta`; a
    count_distinct and a moving window's leaving rows: one per feature), one GROUP BY,
    one join."""
    distinct = {a: ref for a, ref in scan.states.items() if a.kind == "count_distinct"}
    others = {a: ref for a, ref in scan.states.items() if a.kind != "count_distinct"}
    parts: list[exp.Select] = [kept_rows(r, others)] if others else []
    if distinct:
        parts.append(_distinct_counts(r, plan, scan, distinct))
    # the rows not settled yet: one scan per group of features that read the same rows
    groups: dict[tuple, list[Aggregate]] = {}
    for agg, ref in others.items():
        groups.setdefault((agg.sources or scan.sources, ref.horizons), []).append(agg)
    ctes: list[tuple[str, exp.Select]] = []

    def shared(query: exp.Select, readers: int, prefix: str) -> exp.Expression:
        """A query that several features' parts read: once, as a CTE."""
        if readers == 1:
            return query
        name = f"{prefix}_{len(ctes) + 1}"
        ctes.append((name, query))
        return exp.Table(this=r.d.ident(name))

    for (read, horizons), aggs in groups.items():
        hz = dict(horizons)
        filters = {s: unsettled(r, plan.project.sources[s], hz[s]) for s in read}
        query, names = fused_delta(r, plan, read, aggs, filters)
        source = shared(query, len(aggs), "segsql_unsettled")
        for agg, columns in zip(aggs, names, strict=True):
            kept, ref = KEPT[agg.kind], others[agg]
            parts.append(_tagged(r, fused_rows(r, source, agg, columns), ref.feature, kept))
        leaving = [agg for agg in aggs if moving(agg)]
        for query, members in fused_leaving(r, plan, read, leaving, hz) if leaving else []:
            source = shared(query, len(members), "segsql_leaving")
            for agg, columns in members:
                rows = subtracted(r, source, agg, columns)
                parts.append(_tagged(r, rows, others[agg].feature, KEPT[agg.kind]))
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.Union(this=union, expression=part, distinct=False)
    u = "u"
    columns = [r.alias(r.col("entity_id", u), KEY)]
    for agg, column in scan.columns.items():
        tag = exp.Literal.string(scan.states[agg].feature)

        def of(name: str, tag: exp.Expression = tag) -> exp.Expression:
            test = exp.EQ(this=r.col("feature", u), expression=tag.copy())
            return exp.Case(ifs=[exp.If(this=test, true=r.col(name, u))])

        if agg.kind == "avg":
            value: exp.Expression = exp.Div(
                this=exp.Sum(this=of("num")),
                expression=exp.Nullif(this=exp.Sum(this=of("n")), expression=exp.Literal.number(0)),
            )
        elif agg.kind == "count_distinct":  # rows of 1 per value last seen in the window
            value = exp.Sum(this=of("n"))
        else:
            value = COMBINE[agg.kind](this=of(KEPT[agg.kind][0]))
        columns.append(r.alias(value, column))
    out = (
        select(*columns)
        .from_(table_alias(union, u), copy=False)
        .group_by(r.col("entity_id", u), copy=False)
    )
    for name, query in ctes:
        out.with_(
            r.d.ident(name), as_=query, materialized=r.d.materialized_ctes or None, copy=False
        )
    return out


def _read_sources(plan: EntityPlan, agg: Aggregate, sources: tuple[str, ...]) -> tuple[str, ...]:
    return (
        tuple(sources)
        if sources
        else tuple(s.name for s in plan.project.event_sources(plan.entity))
    )
