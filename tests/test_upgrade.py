"""Tables that an older segsql made (plain TIMESTAMPs, no `initial` nor `mode`) are
upgraded in place by the next run, on every executing engine: columns added, timestamps
widened to the zone-aware type, no row lost (docs/tables.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp

from segsql.runner.fixtures import members_at
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS, TABLES, c, columns_of

from .test_engines import PROJECT, T0, reload, run_data

NEW = ("initial", "mode", "reason")  # the columns this version added
OLD = {
    name: [
        (col, "TIMESTAMP" if kind == "INSTANT" else kind) for col, kind in cols if col not in NEW
    ]
    for name, cols in TABLES.items()
}


def lit(value):
    return exp.Literal.string(value) if isinstance(value, str) else exp.convert(value)


def test_tables_of_an_older_version_are_upgraded_in_place(adapter):
    d = adapter.dialect
    reload(adapter, run_data(3))
    T = T0 + timedelta(days=3)
    member = sorted(members_at(adapter, PROJECT, "ev_count", T))[0]
    adapter.create_schema()
    for name, cols in OLD.items():
        adapter.create_table(adapter.table(name), cols)
    # what the older version wrote: `member` entered ev_count at T0
    old = {
        MEMBERSHIPS: ["ev_count", "user", member, False, d.timestamp(T0), "old"],
        CHANGES: ["old", "ev_count", "user", member, "entered", d.timestamp(T0), False],
        RUNS: ["old", "ev_count", d.timestamp(T0), d.timestamp(T0), d.timestamp(T0)]
        + ["success", 1, 1, 0, "hash-of-old", exp.cast(exp.null(), d.dtype(d.text_type))],
    }
    for name, row in old.items():
        values = [v if isinstance(v, exp.Expression) else lit(v) for v in row]
        adapter.insert_rows(adapter.table(name), [col for col, _ in OLD[name]], [values])

    [result] = run_segments(adapter, PROJECT, [PROJECT.segments["ev_count"]], T)
    assert result.status == "success", result.error

    for name, cols in TABLES.items():
        found = adapter.relation_columns((adapter.schema, name))
        assert set(found) == set(columns_of(name)), found
        for col, kind in cols:
            if kind == "INSTANT":
                assert d.is_instant(found[col]), (name, col, found[col])
    # the old rows are all there, their instants unchanged, the new columns filled in
    runs = adapter.fetch(
        exp.select(c("run_id"), c("as_of"), c("mode"))
        .from_(adapter.table(RUNS))
        .order_by(c("as_of"))
    )
    assert runs[0] == ("old", T0, "full") and runs[1][1:] == (T, "full")
    changes = adapter.fetch(
        exp.select(c("run_id"), c("changed_at"), c("initial"))
        .from_(adapter.table(CHANGES))
        .where(c("entity_id").eq(lit(member)))
    )
    assert changes == [("old", T0, False)]  # a member still: no new change row
    [(entered_at, run_id)] = adapter.fetch(
        exp.select(c("entered_at"), c("run_id"))
        .from_(adapter.table(MEMBERSHIPS))
        .where(c("entity_id").eq(lit(member)))
    )
    assert entered_at == T0 and run_id != "old"
    # the others entered now; the segment had run before, so they are not `initial`
    initial = adapter.fetch(
        exp.select(c("initial")).from_(adapter.table(CHANGES)).where(c("run_id").neq(lit("old")))
    )
    assert initial and {v for (v,) in initial} == {False}
