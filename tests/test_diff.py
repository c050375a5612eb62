"""`segsql diff`: its counts and samples are what the next run writes; it writes nothing
(every table and view compared before and after); a changed definition and a segment
that never ran are flagged. End to end through the CLI on DuckDB and Postgres."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlglot import exp

from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, RUNS, c

from .memory import invoke, project_for, snapshot
from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, run_data
from .test_history import run_days


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def test_diff_is_what_the_next_run_writes(adapter, tmp_path):
    run_days(adapter, (1, 3))
    reload(adapter, run_data(6))
    root = project_for(adapter, tmp_path / "project")
    T = T0 + timedelta(days=6)
    select = ["--select", *RUN_SEGMENTS, "ev_zero"]  # ev_zero never ran
    before = snapshot(adapter)
    result = invoke(root, "diff", *select, "--as-of", T.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    assert snapshot(adapter) == before  # nothing written: no table, no view, no row
    text = invoke(root, "diff", *select, "--as-of", T.isoformat())
    assert text.exit_code == 0 and "ev_count" in text.output
    assert snapshot(adapter) == before
    previewed = {d["segment"]: d for d in json.loads(result.output)["segments"]}
    assert set(previewed) == {*RUN_SEGMENTS, "ev_zero"}

    segments = [PROJECT.segments[n] for n in [*RUN_SEGMENTS, "ev_zero"]]
    assert {r.status for r in run_segments(adapter, PROJECT, segments, T)} == {"success"}
    [(run_id,)] = adapter.fetch(
        exp.select(c("run_id"))
        .distinct()
        .from_(adapter.table(RUNS))
        .where(c("as_of").eq(adapter.dialect.instant(T)))
    )
    written = adapter.fetch(
        exp.select(c("segment"), c("change"), c("entity_id"))
        .from_(adapter.table(CHANGES))
        .where(c("run_id").eq(exp.Literal.string(run_id)))
    )
    runs = {
        seg: (members, entered, exited)
        for seg, members, entered, exited in adapter.fetch(
            exp.select(c("segment"), c("members"), c("entered"), c("exited"))
            .from_(adapter.table(RUNS))
            .where(c("run_id").eq(exp.Literal.string(run_id)))
        )
    }
    assert sum(d["enter"] + d["exit"] for d in previewed.values()) > 0
    for seg, d in previewed.items():
        entered = sorted(e for s, ch, e in written if s == seg and ch == "entered")
        exited = sorted(e for s, ch, e in written if s == seg and ch == "exited")
        assert (d["members"], d["enter"], d["exit"]) == runs[seg], seg
        assert (d["enter"], d["exit"]) == (len(entered), len(exited)), seg
        assert d["sample_enter"] == entered[:5] and d["sample_exit"] == exited[:5], seg
        assert d["definition_changed"] == (seg == "ev_zero"), seg
    assert previewed["ev_zero"]["stored"] == 0


def test_diff_flags_a_changed_definition(adapter, tmp_path):
    run_days(adapter, (6,))
    root = project_for(adapter, tmp_path / "project")
    events = root / "segments" / "events.yml"
    text = events.read_text()
    old = "where: {event: add_to_cart, within: 7d, count: {gte: 2}}"
    assert old in text
    events.write_text(text.replace(old, old.replace("gte: 2", "gte: 3"), 1))
    T = (T0 + timedelta(days=6)).isoformat()
    result = invoke(root, "diff", "-s", "ev_count", "prop_not", "--as-of", T, "--format", "json")
    assert result.exit_code == 0, result.output
    found = {d["segment"]: d for d in json.loads(result.output)["segments"]}
    assert found["ev_count"]["definition_changed"] is True
    assert found["ev_count"]["exit"] > 0 and found["ev_count"]["enter"] == 0
    assert found["prop_not"]["definition_changed"] is False
    assert found["prop_not"]["enter"] == found["prop_not"]["exit"] == 0


def test_diff_where_segsql_never_ran(adapter, tmp_path):
    """No state tables yet: every member would enter, and diff creates nothing (not even
    segsql's schema)."""
    reload(adapter, run_data(6))
    root = project_for(adapter, tmp_path / "project")
    before = snapshot(adapter)
    T = (T0 + timedelta(days=6)).isoformat()
    result = invoke(root, "diff", "-s", "prop_not", "--as-of", T, "--format", "json")
    assert result.exit_code == 0, result.output
    [d] = json.loads(result.output)["segments"]
    assert (d["stored"], d["enter"], d["exit"], d["members"]) == (0, 16, 0, 16)
    assert d["definition_changed"] is True and len(d["sample_enter"]) == 5
    assert snapshot(adapter) == before
    assert not adapter.schema_exists()
