"""`segsql backfill` writes exactly what `run --all --select S --as-of T` at each T would
(compared table by table, modulo run_id, started_at and finished_at), on DuckDB and
Postgres end to end, with its steps written together (`batched`: their runs' `mode` is
`full`, they are evaluated from all events) and one by one; segments that already ran
are refused with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlglot import exp

from segsql.adapters import connect
from segsql.model.types import Duration
from segsql.runner import backfill
from segsql.runner.backfill import steps
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS, TABLES, columns_of

from .conftest import engine_target
from .memory import invoke, project_for, snapshot
from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, run_data

IGNORED = {"run_id", "started_at", "finished_at"}
FROM, TO = T0 + timedelta(days=1), T0 + timedelta(days=9, hours=12)  # `to` off the grid


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def tables(adapter, ignored=IGNORED) -> dict[str, list]:
    out = {}
    for name in TABLES:
        cols = [n for n in columns_of(name) if n not in ignored]
        rows = adapter.fetch(
            exp.select(*(exp.column(exp.to_identifier(n, quoted=True)) for n in cols)).from_(
                adapter.table(name)
            )
        )
        out[name] = sorted(rows, key=str)
    return out


def test_steps():
    day = Duration(1, "d")
    assert steps(FROM, FROM + timedelta(days=2), day) == [
        FROM,
        FROM + timedelta(days=1),
        FROM + timedelta(days=2),
    ]
    assert steps(FROM, FROM + timedelta(hours=30), day) == [
        FROM,
        FROM + timedelta(days=1),
        FROM + timedelta(hours=30),
    ]
    assert steps(FROM, FROM, day) == [FROM]


@pytest.mark.parametrize("way", ["batched", "one_by_one", "batch_fails"])
def test_backfill_equals_step_by_step_runs(adapter, engine, request, tmp_path, way, monkeypatch):
    batched = way == "batched"
    if way == "one_by_one":
        monkeypatch.setattr(backfill, "batchable", lambda *_: False)
    if way == "batch_fails":  # after its change rows, in its transaction: all rolled back
        write = backfill._Staged.write

        def failing(self, adapter, *args):
            write(self, adapter, *args)
            raise RuntimeError("the warehouse went away")

        monkeypatch.setattr(backfill._Staged, "write", failing)
    reload(adapter, run_data(10))
    root = project_for(adapter, tmp_path / "project")
    result = invoke(
        root,
        "backfill",
        "--select",
        *RUN_SEGMENTS,
        "--from",
        FROM.isoformat(),
        "--to",
        TO.isoformat(),
        "--every",
        "1d",
    )
    assert result.exit_code == 0, result.output
    times = steps(FROM, TO, Duration(1, "d"))
    assert len(times) == 10 and result.output.count("step ") == 10  # a line per step
    # a batch (DuckDB, Postgres) is announced: its lines come only once it is written
    assert ("steps 1-9 are evaluated in one query" in result.output) == (way != "one_by_one")

    (tmp_path / "other").mkdir()
    other = connect(engine_target(engine, request, tmp_path / "other"))
    try:
        reload(other, run_data(10))
        segments = [PROJECT.segments[n] for n in RUN_SEGMENTS]
        for T in times:
            run_segments(other, PROJECT, segments, T, force=True)
        expected = tables(other, IGNORED | ({"mode"} if batched else set()))
        modes = tables(other, set())[RUNS]
    finally:
        if engine != "duckdb":
            other.drop_schema(other.schema)
        other.close()
    got = tables(adapter, IGNORED | ({"mode"} if batched else set()))
    for name in TABLES:
        assert got[name] == expected[name], name
    if batched:  # evaluated whole at every step: the last one builds the kept state
        assert {r[-1] for r in tables(adapter, set())[RUNS]} == {"full"}
        assert "incremental" in {r[-1] for r in modes}
    assert len(got[CHANGES]) > 20 and len(got[RUNS]) == 10 * len(RUN_SEGMENTS)
    initial = [r for r in got[CHANGES] if r[columns_of(CHANGES).index("initial") - 1]]
    assert initial  # the first step's entries are `initial`
    assert got[MEMBERSHIPS]

    # a segment that ran is refused, naming it, with nothing written
    before = snapshot(adapter)
    refused = invoke(
        root,
        "backfill",
        "-s",
        "ev_count",
        "ev_zero",
        "--from",
        FROM.isoformat(),
        "--to",
        TO.isoformat(),
        "--every",
        "1d",
    )
    assert refused.exit_code == 2 and "ev_count" in refused.output
    assert "evaluated in one query" not in refused.output  # no batch was started
    assert "ev_zero" not in refused.output.split("nothing was written")[0].split("ran:")[1]
    assert snapshot(adapter) == before
    bad = invoke(
        root,
        "backfill",
        "-s",
        "ev_zero",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-02",
        "--every",
        "1x",
    )
    assert bad.exit_code == 2 and "--every" in bad.output


def test_rules_of_the_step_before_keep_backfill_step_by_step(adapter):
    """Cooldown, dwell and the exit brake depend on the step before: not batched."""
    from dataclasses import replace

    seg = PROJECT.segments["ev_count"]
    assert backfill.batchable(adapter, [seg])
    assert not backfill.batchable(adapter, [seg, replace(seg, reentry_cooldown=Duration(1, "d"))])
    assert not backfill.batchable(adapter, [replace(seg, min_membership=Duration(2, "h"))])
    assert not backfill.batchable(adapter, [replace(seg, max_exit_share=50.0)])
