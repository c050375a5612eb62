"""The batched write (`Adapter.write_segments`: all due segments of an entity type in one
transaction, with the same few statements however many segments) on DuckDB and Postgres:
it writes exactly what the per-segment path writes, and when it fails, the runner falls
back to writing segment by segment, so that a failing segment fails alone."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlglot import exp

from segsql.adapters import connect
from segsql.compiler.nodes import EVALUATION_ID
from segsql.runner import run as runner
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS, c

from .conftest import engine_target
from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, replay_matches, run_data

ENGINES = ["duckdb", "postgres"]


@pytest.fixture
def open_adapter(request, tmp_path):
    """open_adapter(engine, name): an adapter on a fresh namespace of its own."""
    opened = []

    def make(engine: str, name: str):
        root = tmp_path / name
        root.mkdir()
        a = connect(engine_target(engine, request, root))
        opened.append(a)
        return a

    yield make
    for a in opened:
        a.close()


def per_segment(monkeypatch) -> None:
    """The runner as before batching: every segment through `Run.write_one`."""
    monkeypatch.setattr(runner.Run, "write_batch", lambda *_: {})


def state(adapter):
    """The three tables in full, run ids replaced by the run's as_of (they differ between
    two warehouses), timestamps of the wall clock left out."""
    as_of = {
        run_id: str(at)
        for run_id, at in adapter.fetch(
            exp.select(c("run_id"), c("as_of")).from_(adapter.table(RUNS)).distinct()
        )
    }

    def rows(table: str, columns: list[str]) -> list[tuple]:
        out = []
        for row in adapter.fetch(exp.select(*map(c, columns)).from_(adapter.table(table))):
            values = dict(zip(columns, row, strict=True))
            if "run_id" in values:
                values["run_id"] = as_of[values["run_id"]]
            out.append(tuple(str(v) for v in values.values()))
        return sorted(out)

    return {
        MEMBERSHIPS: rows(
            MEMBERSHIPS, ["segment", "entity_type", "entity_id", "holdout", "entered_at", "run_id"]
        ),
        CHANGES: rows(
            CHANGES,
            ["run_id", "segment", "entity_type", "entity_id", "change", "changed_at", "holdout"],
        ),
        RUNS: rows(
            RUNS,
            [
                "run_id",
                "segment",
                "as_of",
                "status",
                "members",
                "entered",
                "exited",
                "definition_hash",
                "error",
            ],
        ),
    }


def replay_members(tables) -> None:
    """Replaying the changes gives the members (holdout flags aside: a changed `holdout`
    moves stayers' flags without change rows, in both write paths)."""
    members: set[tuple[str, str]] = set()
    for _at, segment, _t, entity, change, _c, _h in sorted(
        tables[CHANGES], key=lambda r: (r[0], r[4] == "entered")
    ):
        if change == "entered":
            assert (segment, entity) not in members
            members.add((segment, entity))
        else:
            members.remove((segment, entity))
    assert members == {(r[0], r[2]) for r in tables[MEMBERSHIPS]}


def with_holdout(project, name: str, percent: int):
    """The project with one segment's holdout changed (stayers' flags must follow)."""
    segments = dict(project.segments)
    segments[name] = dataclasses.replace(segments[name], holdout=percent)
    return dataclasses.replace(project, segments=segments)


def history(adapter):
    """Runs over time with entries and exits, a repeat at the same T, and a holdout
    change; yields each run's results."""
    project = PROJECT
    for step, day in enumerate((1, 3, 6, 6, 10, 13)):
        if step == 4:
            project = with_holdout(project, "holdout_half", 20)
        reload(adapter, run_data(day))
        segments = [project.segments[n] for n in RUN_SEGMENTS]
        yield run_segments(adapter, project, segments, T0 + timedelta(days=day))


@pytest.mark.parametrize("engine", ENGINES)
def test_batched_writes_what_per_segment_writes(engine, open_adapter, monkeypatch):
    batched, single = open_adapter(engine, "batched"), open_adapter(engine, "single")

    def no_single_writes(*_):
        raise AssertionError("the batched path wrote a segment on its own")

    monkeypatch.setattr(type(batched), "write_segment", no_single_writes)
    results_batched = [
        [(r.segment, r.status, r.members, r.entered, r.exited) for r in rs]
        for rs in history(batched)
    ]
    monkeypatch.undo()
    per_segment(monkeypatch)
    results_single = [
        [(r.segment, r.status, r.members, r.entered, r.exited) for r in rs]
        for rs in history(single)
    ]
    assert results_batched == results_single
    assert {r[1] for rs in results_batched for r in rs} == {"success"}
    a, b = state(batched), state(single)
    assert a == b
    replay_members(a)
    changes = a[CHANGES]
    assert {r[4] for r in changes} == {"entered", "exited"} and len(changes) > 20
    assert {r[1] for r in a[MEMBERSHIPS]} == {"user", "account"}
    # the holdout change reached the stayers (20% held out instead of 50%)
    held = [r for r in a[MEMBERSHIPS] if r[0] == "holdout_half"]
    assert 0 < sum(r[3] == "True" for r in held) < len(held) / 2
    # the same T again with the same data (runs 3 and 4 are both day 6): no changes
    assert any(r[3] or r[4] for r in results_batched[2])
    assert not any(r[3] or r[4] for r in results_batched[3])


@pytest.mark.parametrize("engine", ENGINES)
def test_statements_do_not_grow_with_segments(engine, open_adapter, monkeypatch):
    a = open_adapter(engine, "count")
    reload(a, run_data(4))
    counted: list[int] = []
    execute, fetch = type(a).execute, type(a).fetch
    calls = [0]

    def count(fn):
        def wrapper(self, expression):
            calls[0] += 1
            return fn(self, expression)

        return wrapper

    write = type(a).write_segments

    def counting_write(self, runs, members, now, scope=None):
        calls[0] = 0
        monkeypatch.setattr(type(a), "execute", count(execute))
        monkeypatch.setattr(type(a), "fetch", count(fetch))
        try:
            return write(self, runs, members, now, scope)
        finally:
            monkeypatch.setattr(type(a), "execute", execute)
            monkeypatch.setattr(type(a), "fetch", fetch)
            counted.append(calls[0])

    monkeypatch.setattr(type(a), "write_segments", counting_write)
    one = [PROJECT.segments["ev_count"]]
    # none has run: all are refreshed in full, in one batch (`Run.narrowable`), each with
    # a kept feature of its own or none (no older generation to delete)
    four = [PROJECT.segments[n] for n in ("prop_not", "holdout_half", "seq_abandon", "ev_star")]
    run_segments(a, PROJECT, one, T0 + timedelta(days=4))
    run_segments(a, PROJECT, four, T0 + timedelta(days=5))
    assert len(counted) == 2 and counted[0] == counted[1], counted


def failing(name: str):
    """`_members` with the members of segment `name` failing in the warehouse."""
    members = runner._members

    def patched(adapter, seg, source):
        query = members(adapter, seg, source)
        if seg.name == name:
            bad = exp.cast(exp.Literal.string("not a number"), "INT").eq(exp.Literal.number(1))
            query = (
                exp.select(c(EVALUATION_ID), exp.alias_(bad, "holdout", quoted=True))
                .from_(source.copy())
                .where(c(seg.name))
            )
        return query

    return patched


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_batch_falls_back_and_the_bad_segment_fails_alone(engine, open_adapter, monkeypatch):
    a, reference = open_adapter(engine, "fails"), open_adapter(engine, "reference")
    segments = [PROJECT.segments[n] for n in RUN_SEGMENTS]
    for adapter in (a, reference):
        reload(adapter, run_data(3))
        run_segments(adapter, PROJECT, segments, T0 + timedelta(days=3))
        reload(adapter, run_data(8))
    batches = []
    write = type(a).write_segments

    def spy(self, runs, members, now, scope=None):
        try:
            return write(self, runs, members, now, scope)
        except Exception as err:
            batches.append(("failed", [r.segment for r in runs], str(err)))
            raise

    monkeypatch.setattr(type(a), "write_segments", spy)
    monkeypatch.setattr(runner, "_members", failing("prop_not"))
    reports = []
    results = run_segments(
        a,
        PROJECT,
        segments,
        T0 + timedelta(days=8),
        report=lambda event, r, i, n: reports.append((event, r.segment, i, n)),
    )
    monkeypatch.undo()
    run_segments(reference, PROJECT, segments, T0 + timedelta(days=8))
    # the batch of the user segments failed, and the runner went on segment by segment
    assert [b[1] for b in batches] == [["ev_count", "prop_not", "holdout_half", "seq_abandon"]]
    by_name = {r.segment: r for r in results}
    assert by_name["prop_not"].status == "error" and "not a number" in by_name["prop_not"].error
    assert {n: r.status for n, r in by_name.items() if n != "prop_not"} == dict.fromkeys(
        ["ev_count", "active_teams", "holdout_half", "seq_abandon"], "success"
    )
    # one start and one done report per segment, in order: the starts of an entity
    # type's batch before its work, the dones after it
    users = ("ev_count", "prop_not", "holdout_half", "seq_abandon")
    assert [(e, s) for e, s, _, _ in reports] == [
        *(("start", s) for s in users),
        *(("done", s) for s in users),
        ("start", "active_teams"),
        ("done", "active_teams"),
    ]
    # every other segment wrote what an undisturbed run writes; prop_not kept its rows
    # and got an error row
    got, want = state(a), state(reference)
    for table in (MEMBERSHIPS, CHANGES):
        assert [r for r in got[table] if "prop_not" not in r] == [
            r for r in want[table] if "prop_not" not in r
        ]
    day3, day8 = str(T0 + timedelta(days=3)), str(T0 + timedelta(days=8))
    assert {r[5] for r in got[MEMBERSHIPS] if r[0] == "prop_not"} == {day3}
    errors = [r for r in got[RUNS] if r[3] == "error"]
    assert [(r[0], r[1]) for r in errors] == [(day8, "prop_not")]
    replay_matches(a)
    # the next run without the fault catches up
    run_segments(a, PROJECT, segments, T0 + timedelta(days=8))
    replay_matches(a)
    assert state(a)[MEMBERSHIPS] == want[MEMBERSHIPS]


@pytest.mark.parametrize("engine", ["duckdb"])
def test_fail_fast_stops_at_the_failing_segment(engine, open_adapter, monkeypatch):
    a = open_adapter(engine, "fast")
    segments = [PROJECT.segments[n] for n in RUN_SEGMENTS]
    reload(a, run_data(3))
    monkeypatch.setattr(runner, "_members", failing("prop_not"))
    results = run_segments(a, PROJECT, segments, T0 + timedelta(days=3), fail_fast=True)
    assert [(r.segment, r.status) for r in results] == [
        ("ev_count", "success"),
        ("prop_not", "error"),
        ("active_teams", "not_run"),
        ("holdout_half", "not_run"),
        ("seq_abandon", "not_run"),
    ]
    written = {r[1] for r in state(a)[RUNS]}
    assert written == {"ev_count", "prop_not"}
    assert {r[0] for r in state(a)[MEMBERSHIPS]} == {"ev_count"}
