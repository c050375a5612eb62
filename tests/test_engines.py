"""The same definitions give the same members on every executing engine (DuckDB,
Postgres, ClickHouse via chdb, Spark local), and `segsql run` keeps its invariants there.
Engines start themselves (conftest.py); in CI none may be skipped."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlglot import exp

from segsql.definitions.project import load_project, project_from_docs
from segsql.definitions.yaml import load_text
from segsql.errors import UsageError
from segsql.runner.fixtures import load_tables, members_at
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS

from .conftest import CONDITIONS

PROJECT = load_project(CONDITIONS)
FIXTURES = {f.name: f for f in PROJECT.fixtures}


def test_condition_fixtures(adapter):
    """Every boundary fixture of every condition kind, on this engine."""
    failures = []
    for name, fixture in sorted(FIXTURES.items()):
        load_tables(adapter, PROJECT, fixture.given)
        actual = members_at(adapter, PROJECT, fixture.segment, fixture.as_of)
        expected = {str(m) for m in fixture.members}
        if actual != expected:
            failures.append(f"{name}: expected {sorted(expected)}, got {sorted(actual)}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------ run invariants

RUN_SEGMENTS = ["ev_count", "prop_not", "active_teams", "holdout_half", "seq_abandon"]
T0 = datetime(2026, 3, 1)


def run_data(day: int) -> dict[str, list[dict]]:
    """Users act on different days, so membership changes from run to run."""
    users = [
        {"user_id": i, "plan": "trial" if i % 3 == 0 else "pro", "account_id": i % 4}
        for i in range(24)
    ]
    # each user in turn acts three times in 27 hours, so the 7-day window slides over them
    events = [
        {
            "user_id": (i // 3) % 24,
            "event_name": "report_created" if i % 3 == 2 else "add_to_cart",
            "ts": T0 + timedelta(hours=9 * i),
        }
        for i in range(3 * day)
    ]
    return {"users": users, "accounts": [{"account_id": a} for a in range(4)], "events": events}


def reload(adapter, data):
    """New source data; the segments' views depend on the tables, so they go first."""
    for name in RUN_SEGMENTS:
        adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
    load_tables(adapter, PROJECT, data)


def fetch_state(adapter):
    def rows(table, columns):
        cols = [exp.column(c) for c in columns]
        return sorted(
            tuple(str(v) for v in r)
            for r in adapter.fetch(exp.select(*cols).from_(adapter.table(table)))
        )

    return (
        rows(MEMBERSHIPS, ["segment", "entity_id", "holdout", "entered_at"]),
        rows(CHANGES, ["run_id", "segment", "entity_id", "change", "holdout"]),
        rows(RUNS, ["run_id", "segment", "status", "members", "entered", "exited"]),
    )


def replay_matches(adapter):
    memberships, changes, _ = fetch_state(adapter)
    state: dict[str, dict[str, str]] = defaultdict(dict)
    for _run, segment, entity, change, holdout in sorted(
        changes, key=lambda r: (r[0], r[3] == "entered")
    ):
        if change == "entered":
            assert entity not in state[segment]
            state[segment][entity] = holdout
        else:
            assert entity in state[segment]
            del state[segment][entity]
    replayed = sorted((s, e, h) for s, m in state.items() for e, h in m.items())
    assert replayed == sorted((s, e, h) for s, e, h, _ in memberships)


def test_run_invariants(adapter):
    segments = [PROJECT.segments[n] for n in RUN_SEGMENTS]
    for day in (1, 3, 6, 10):
        reload(adapter, run_data(day))
        as_of = T0 + timedelta(days=day)
        results = run_segments(adapter, PROJECT, segments, as_of)
        assert {r.status for r in results} == {"success"}, results
        replay_matches(adapter)
        # the same T with the same data writes no change rows
        before = fetch_state(adapter)
        run_segments(adapter, PROJECT, segments, as_of)
        after = fetch_state(adapter)
        assert after[0] == before[0] and after[1] == before[1]
    _, changes, runs = fetch_state(adapter)
    assert len(changes) > 20
    # views answer at query time; the state is readable back
    assert (
        adapter.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(adapter.table("prop_not")))[
            0
        ][0]
        == 16
    )
    # an earlier T is refused before anything is written
    before = fetch_state(adapter)
    with pytest.raises(UsageError):
        run_segments(adapter, PROJECT, segments, T0)
    assert fetch_state(adapter) == before


THREE_SOURCES = """
sources:
  users: {table: users, entity: user, key: user_id}
  web: {table: web, events_of: user, key: user_id, event: name, timestamp: ts}
  mobile: {table: mobile, events_of: user, key: user_id, event: name, timestamp: ts}
  shop: {table: shop, events_of: user, key: user_id, event: name, timestamp: ts}
segments:
  - name: big_or_busy
    where:
      any:
        - {event: buy, source: shop, sum: {of: amount, gte: 10}}
        - {event: buy, count: {gte: 3}}
"""


def test_a_column_of_one_source_in_a_union_of_three(adapter):
    """A union of three event sources where only the last reads a column: Postgres types
    a union pair by pair (NULL UNION NULL is text), so the first NULL carries the type."""
    project = project_from_docs(".", [("p.yml", load_text(THREE_SOURCES, "p.yml"))])
    buy = {"name": "buy", "ts": T0 - timedelta(days=1)}
    tables = {
        "users": [{"user_id": i} for i in (1, 2, 3)],
        "web": [{"user_id": 2, **buy}, {"user_id": 2, **buy}],
        "mobile": [{"user_id": 2, **buy}],
        "shop": [{"user_id": 1, "amount": 12.5, **buy}, {"user_id": 3, "amount": 2.0, **buy}],
    }
    types = {t: {"user_id": "BIGINT", "name": "TEXT", "ts": "TIMESTAMP"} for t in tables}
    types["users"] = {"user_id": "BIGINT"}
    types["shop"]["amount"] = "DOUBLE"
    load_tables(adapter, project, tables, types=types)
    results = run_segments(adapter, project, list(project.segments.values()), T0)
    assert {r.status for r in results} == {"success"}, results
    rows = adapter.fetch(exp.select(exp.column("entity_id")).from_(adapter.table(MEMBERSHIPS)))
    assert sorted(str(r[0]) for r in rows) == ["1", "2"]


@pytest.mark.parametrize("point", ["changes", "memberships", "runs_row"])
def test_failed_write_leaves_no_partial_state(adapter, point, monkeypatch):
    segments = [PROJECT.segments["ev_count"]]
    reload(adapter, run_data(2))
    run_segments(adapter, PROJECT, segments, T0 + timedelta(days=2))
    reload(adapter, run_data(8))
    before = fetch_state(adapter)
    monkeypatch.setenv("SEGSQL_FAULT", point)
    results = run_segments(adapter, PROJECT, segments, T0 + timedelta(days=8))
    monkeypatch.delenv("SEGSQL_FAULT")
    if not adapter.SUPPORTS_TRANSACTIONS and point != "changes":
        # past the membership swap, the commit point of engines without transactions
        # (swap.py): the refresh is rolled forward and counts as done
        assert results[0].status == "success"
        replay_matches(adapter)
        return
    assert results[0].status == "error" and "injected fault" in results[0].error
    after = fetch_state(adapter)
    assert after[0] == before[0] and after[1] == before[1]
    assert [r[2] for r in after[2] if r not in before[2]] == ["error"]
    run_segments(adapter, PROJECT, segments, T0 + timedelta(days=8))
    replay_matches(adapter)


def test_postgres_session_settings_from_the_profile(postgres_server, tmp_path):
    """Engine settings in the target reach the session: jit off (always), work_mem and
    statement_timeout when given (a value is sent as a literal, never pasted)."""
    from segsql.adapters import connect
    from segsql.definitions.profiles import Target

    options = {
        "type": "postgres",
        "host": postgres_server.host,
        "port": postgres_server.port,
        "user": postgres_server.user,
        "dbname": postgres_server.dbname,
        "work_mem": "96MB",
        "statement_timeout": 4321,
    }
    adapter = connect(
        Target(name="pg", type="postgres", schema="s", project_dir=str(tmp_path), options=options)
    )
    try:
        settings = dict(
            adapter._fetch(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('jit', 'work_mem', 'statement_timeout')"
            )
        )
    finally:
        adapter.close()
    assert settings == {"jit": "off", "work_mem": str(96 * 1024), "statement_timeout": "4321"}
