"""The write strategy of engines without transactions (segsql/adapters/swap.py), proven on
DuckDB forced through it: after a failure or a crash at any point of a segment's write,
the run is rolled forward or back so that replaying the changes gives the memberships,
and the transitions recorded equal those of an uninterrupted run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlglot import exp

from segsql.adapters import swap
from segsql.adapters.duckdb import DuckDBAdapter
from segsql.definitions.profiles import Target
from segsql.runner import run as runner
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS

from .test_engines import PROJECT, T0, fetch_state, reload, replay_matches, run_data

SEGMENTS = [PROJECT.segments[n] for n in ("ev_count", "prop_not", "holdout_half")]


class SwapDuckDB(DuckDBAdapter):
    """DuckDB with only one atomic step: replacing a segment's memberships."""

    SUPPORTS_TRANSACTIONS = False

    def replace_segment_memberships(self, segment, query):
        staged = self.temp_table("segsql_swap", query)
        self.begin()
        self.execute(
            exp.delete(
                self.table(MEMBERSHIPS), where=exp.column("segment").eq(exp.Literal.string(segment))
            )
        )
        self.execute(exp.insert(exp.select("*").from_(staged), self.table(MEMBERSHIPS)))
        self.commit()

    def delete_rows(self, table, where):
        self.execute(exp.delete(table, where=where))


def adapter(tmp_path, name):
    return SwapDuckDB(
        Target(
            name="swap",
            type="duckdb",
            schema="segsql",
            project_dir=".",
            options={"path": str(tmp_path / f"{name}.duckdb")},
        )
    )


def transitions(a):
    """(segment, entity, change) multiset, and memberships, without run ids."""
    memberships, changes, _ = fetch_state(a)
    return sorted((s, e, ch) for _r, s, e, ch, _h in changes), sorted(m[:3] for m in memberships)


def history(a, fault=None, crash=False, monkeypatch=None):
    """Three runs; with a fault, the second is interrupted and then retried at the same T
    (as the next cron tick or an Airflow retry would)."""
    for i, day in enumerate((2, 5, 9)):
        reload(a, run_data(day))
        as_of = T0 + timedelta(days=day)
        if fault and i == 1:
            with monkeypatch.context() as m:
                m.setenv("SEGSQL_FAULT", fault)
                if crash:  # the process dies: no in-process repair, no error row
                    m.setattr(runner, "_repair", lambda *_: None)
                    m.setattr(runner, "_record_error", lambda *_: None)
                yield run_segments(a, PROJECT, SEGMENTS, as_of)
        run_segments(a, PROJECT, SEGMENTS, as_of)
        replay_matches(a)


@pytest.mark.parametrize("crash", [False, True], ids=["failure", "crash"])
@pytest.mark.parametrize("point", ["staged", "changes", "memberships", "runs_row"])
def test_interrupted_write_is_rolled_forward_or_back(tmp_path, point, crash, monkeypatch):
    reference = adapter(tmp_path, "reference")
    list(history(reference))
    a = adapter(tmp_path, "interrupted")
    committed = point in ("memberships", "runs_row")
    forward = 0
    for results in history(a, point, crash, monkeypatch):
        forward = sum(r.status == "success" for r in results)
        if not crash and point != "memberships":
            assert {r.status for r in results} == {"success" if committed else "error"}
        if point == "memberships" and not crash:
            # after the swap a segment with change rows is rolled forward (ev_count here);
            # one whose refresh changed nothing has nothing to repair and is simply redone
            assert forward == 1
    replay_matches(a)
    assert transitions(a) == transitions(reference)
    statuses = [r[2] for r in fetch_state(a)[2]]
    if crash:
        assert statuses.count("success") >= 3 * len(SEGMENTS) + (1 if committed else 0)
    else:
        assert statuses.count("success") == 3 * len(SEGMENTS) + forward
    reference.close()
    a.close()


def test_a_batch_writes_its_change_and_run_rows_in_one_statement_each(tmp_path, monkeypatch):
    """However many segments: one INSERT of change rows and one of success rows (each
    segment's swap stays its own step), and the same rows as one segment at a time."""
    inserts: list[str] = []
    execute = SwapDuckDB.execute

    def spy(self, expression):
        if isinstance(expression, exp.Insert):
            inserts.append(expression.find(exp.Table).name)
        return execute(self, expression)

    monkeypatch.setattr(SwapDuckDB, "execute", spy)
    a = adapter(tmp_path, "batched")
    for day, segments in ((2, SEGMENTS[:1]), (5, SEGMENTS), (9, SEGMENTS)):
        reload(a, run_data(day))
        inserts.clear()
        run_segments(a, PROJECT, segments, T0 + timedelta(days=day))
        assert inserts.count(CHANGES) == 1 and inserts.count(RUNS) == 1, inserts
    monkeypatch.undo()
    single = adapter(tmp_path, "single")
    monkeypatch.setattr(
        swap,
        "write_segments",
        lambda ad, runs, members, now: {
            r.segment: swap.write_segment(ad, r, members[r.segment], now) for r in runs
        },
    )
    for day, segments in ((2, SEGMENTS[:1]), (5, SEGMENTS), (9, SEGMENTS)):
        reload(single, run_data(day))
        run_segments(single, PROJECT, segments, T0 + timedelta(days=day))
    replay_matches(a)
    assert transitions(a) == transitions(single)
    assert [r[1:] for r in fetch_state(a)[2]] == [r[1:] for r in fetch_state(single)[2]]
    a.close()
    single.close()
