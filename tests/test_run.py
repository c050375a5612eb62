"""`segsql run` on DuckDB: the invariants of docs/tables.md, through the real CLI."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest
from click.testing import CliRunner

from segsql.cli import cli
from segsql.clock import utc_naive
from segsql.state import faults
from segsql.state.tables import RUNS, columns_of

from .conftest import write_project

SEGMENTS = """
sources:
  users: {table: main.users, entity: user, key: user_id, created_at: signup_at,
          parents: {account: account_id}}
  accounts: {table: main.accounts, entity: account, key: account_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts}
segments:
  - name: active
    where: {event: login, within: 2d}
  - name: churn_risk
    holdout: 20
    where: {not: {in_segment: active}}
  - name: hourly
    refresh: 1h
    where: {property: plan, eq: "x'); DROP TABLE users; --"}
  - name: busy_accounts
    entity: account
    where: {members: user, where: {in_segment: active}, count: {gte: 2}}
"""


def make_warehouse(path):
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE users (user_id BIGINT, plan VARCHAR, signup_at TIMESTAMP, account_id BIGINT)"
    )
    con.execute(
        "INSERT INTO users SELECT range, CASE WHEN range % 7 = 0 THEN "
        "'x''); DROP TABLE users; --' ELSE 'pro' END, TIMESTAMP '2026-01-01' + "
        "range * INTERVAL 1 HOUR, range % 5 FROM range(60)"
    )
    con.execute("CREATE TABLE accounts AS SELECT range AS account_id FROM range(5)")
    con.execute("CREATE TABLE events (user_id BIGINT, event_name VARCHAR, ts TIMESTAMP)")
    con.execute(
        "INSERT INTO events SELECT range % 60, 'login', TIMESTAMP '2026-01-01' + "
        "range * INTERVAL 97 MINUTE FROM range(900)"
    )
    con.close()


@pytest.fixture
def project(tmp_path):
    write_project(tmp_path, SEGMENTS)
    make_warehouse(tmp_path / "warehouse.duckdb")
    return tmp_path


def segsql(project, *args, env=None):
    result = CliRunner().invoke(cli, [*args, "--project-dir", str(project)], env=env)
    return result


def query(project, sql):
    """Rows of `sql`, segsql's zone-aware timestamps as naive UTC."""
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    try:
        return [tuple(utc_naive(v) for v in row) for row in con.execute(sql).fetchall()]
    finally:
        con.close()


def replay(project) -> dict[str, set[tuple[str, bool]]]:
    """Apply segsql_membership_changes in order; returns segment -> {(entity_id, holdout)}."""
    state: dict[str, dict[str, bool]] = defaultdict(dict)
    rows = query(
        project,
        "SELECT segment, entity_id, change, holdout FROM "
        "segsql.segsql_membership_changes ORDER BY run_id, change DESC",
    )
    for segment, entity, change, holdout in rows:
        if change == "entered":
            assert entity not in state[segment], f"{entity} entered {segment} twice"
            state[segment][entity] = holdout
        else:
            assert entity in state[segment], f"{entity} exited {segment} without entering"
            del state[segment][entity]
    return {s: set(m.items()) for s, m in state.items() if m}


def memberships(project) -> dict[str, set[tuple[str, bool]]]:
    out: dict[str, set] = defaultdict(set)
    for segment, entity, holdout in query(
        project, "SELECT segment, entity_id, holdout FROM segsql.segsql_memberships"
    ):
        out[segment].add((entity, holdout))
    return dict(out)


def state_tables(project):
    return {
        t: query(project, f"SELECT * FROM segsql.{t} ORDER BY ALL")
        for t in ("segsql_memberships", "segsql_membership_changes", "segsql_runs")
    }


def test_runs_over_time_replay_to_memberships(project):
    for day in range(2, 40, 3):
        result = segsql(
            project,
            "run",
            "--as-of",
            f"2026-01-{day:02d}T06:00:00" if day < 32 else f"2026-02-{day - 31:02d}",
        )
        assert result.exit_code == 0, result.output
    assert replay(project) == memberships(project)
    changes = query(project, "SELECT count(*) FROM segsql.segsql_membership_changes")[0][0]
    assert changes > 50  # people really moved in and out
    kinds = dict(
        query(project, "SELECT entity_type, count(*) FROM segsql.segsql_memberships GROUP BY 1")
    )
    assert set(kinds) == {"user", "account"}


def test_run_matches_live_view_and_counts(project):
    assert segsql(project, "run", "--as-of", "2026-01-20").exit_code == 0
    stored = {
        r[0]
        for r in query(
            project, "SELECT entity_id FROM segsql.segsql_memberships WHERE segment = 'active'"
        )
    }
    runs = dict(query(project, "SELECT segment, members FROM segsql.segsql_runs"))
    assert runs["active"] == len(stored)
    # the view evaluated at query time: data ends in January 2026, so nobody is active now
    assert query(project, "SELECT count(*) FROM segsql.active")[0][0] == 0
    churn = query(
        project, "SELECT count(*), count(*) FILTER (WHERE holdout) FROM segsql.churn_risk"
    )[0]
    assert churn[0] == 60 and 0 < churn[1] < 30
    injected = query(
        project, "SELECT count(*) FROM segsql.segsql_memberships WHERE segment = 'hourly'"
    )[0][0]
    assert injected == 9  # the injection text was matched as text: users 0, 7, ..., 56
    assert query(project, "SELECT count(*) FROM main.users")[0][0] == 60


def test_same_T_twice_writes_no_changes(project):
    assert segsql(project, "run", "--as-of", "2026-01-20").exit_code == 0
    before = query(project, "SELECT count(*) FROM segsql.segsql_membership_changes")
    result = segsql(project, "run", "--as-of", "2026-01-20")
    assert result.exit_code == 0
    assert query(project, "SELECT count(*) FROM segsql.segsql_membership_changes") == before
    # a refresh that changes nothing still writes a success row (hourly is not due: no row)
    assert query(
        project, "SELECT segment, count(*) FROM segsql.segsql_runs GROUP BY 1 ORDER BY 1"
    ) == [("active", 2), ("busy_accounts", 2), ("churn_risk", 2), ("hourly", 1)]


def test_refresh_interval_and_all(project):
    assert segsql(project, "run", "--as-of", "2026-01-20T00:00:00").exit_code == 0
    assert segsql(project, "run", "--as-of", "2026-01-20T00:59:59").exit_code == 0
    assert segsql(project, "run", "--as-of", "2026-01-20T01:00:00").exit_code == 0
    assert segsql(project, "run", "--as-of", "2026-01-20T01:00:01", "--all").exit_code == 0
    hourly = query(
        project, "SELECT as_of FROM segsql.segsql_runs WHERE segment = 'hourly' ORDER BY 1"
    )
    assert [str(r[0]) for r in hourly] == [
        "2026-01-20 00:00:00",
        "2026-01-20 01:00:00",
        "2026-01-20 01:00:01",
    ]


def test_earlier_as_of_is_refused_and_writes_nothing(project):
    assert segsql(project, "run", "--as-of", "2026-01-20").exit_code == 0
    before = state_tables(project)
    result = segsql(project, "run", "--as-of", "2026-01-19T23:59:59")
    assert result.exit_code == 2
    assert "earlier than the last successful run" in result.output
    assert state_tables(project) == before


def test_airflow_style_as_of(project):
    result = segsql(project, "run", "--as-of", "2026-01-20T01:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert query(project, "SELECT DISTINCT as_of FROM segsql.segsql_runs")[0][0].hour == 0
    assert segsql(project, "run", "--as-of", "2026-01-21T00:00:00Z").exit_code == 0
    assert segsql(project, "run", "--as-of", "yesterday").exit_code == 2


@pytest.mark.parametrize("point", faults.POINTS[:-1])
def test_failure_mid_segment_leaves_no_partial_state(project, point):
    assert segsql(project, "run", "--as-of", "2026-01-10").exit_code == 0
    before = state_tables(project)
    result = segsql(
        project, "run", "--as-of", "2026-01-20", "-s", "active", env={"SEGSQL_FAULT": point}
    )
    assert result.exit_code == 1
    after = state_tables(project)
    for table in ("segsql_memberships", "segsql_membership_changes"):
        assert after[table] == before[table], table
    errors = [r for r in after["segsql_runs"] if r not in before["segsql_runs"]]
    assert [(r[1], r[5]) for r in errors] == [("active", "error")]
    assert "injected fault" in errors[0][columns_of(RUNS).index("error")]
    # and the next run catches up exactly as if nothing had happened
    assert segsql(project, "run", "--as-of", "2026-01-20").exit_code == 0
    assert replay(project) == memberships(project)


def test_a_missing_table_refuses_the_run_before_anything_is_written(project):
    assert segsql(project, "run", "--as-of", "2026-01-19").exit_code == 0
    before = state_tables(project)
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("ALTER TABLE accounts RENAME TO accounts_gone")
    con.execute("ALTER TABLE users RENAME COLUMN plan TO plan_name")
    con.close()
    result = segsql(project, "run", "--as-of", "2026-01-20")
    assert result.exit_code == 2, result.output
    assert "segments/main.yml:5: source 'accounts'" in result.output
    assert "nothing was written" in result.output
    assert "does not exist" in result.output and "1 more problem" in result.output
    assert state_tables(project) == before
    result = segsql(project, "run", "--as-of", "2026-01-20", "-s", "hourly")
    assert result.exit_code == 2
    assert "column 'plan' (used by segment 'hourly'" in result.output
    assert "(did you mean 'plan_name'?)" in result.output
    assert state_tables(project) == before


def test_one_failing_segment_does_not_stop_the_others(project):
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("ALTER TABLE accounts RENAME TO accounts_data")  # it exists, but fails to read
    con.execute(
        "CREATE VIEW accounts AS SELECT CAST(error('unreadable') AS BIGINT) AS account_id "
        "FROM accounts_data"
    )
    con.close()
    result = segsql(project, "run", "--as-of", "2026-01-20")
    assert result.exit_code == 1
    statuses = dict(query(project, "SELECT segment, status FROM segsql.segsql_runs"))
    assert statuses["busy_accounts"] == "error"
    assert statuses["active"] == statuses["churn_risk"] == "success"
    result = segsql(
        project, "run", "--as-of", "2026-01-21", "--fail-fast", "-s", "busy_accounts active"
    )
    assert result.exit_code == 1


def test_disabled_segment_keeps_its_rows(project):
    assert segsql(project, "run", "--as-of", "2026-01-20").exit_code == 0
    text = (project / "segments" / "main.yml").read_text()
    (project / "segments" / "main.yml").write_text(
        text.replace("  - name: hourly\n", "  - name: hourly\n    enabled: false\n")
    )
    before = query(
        project, "SELECT * FROM segsql.segsql_memberships WHERE segment='hourly' ORDER BY ALL"
    )
    assert segsql(project, "run", "--as-of", "2026-01-22").exit_code == 0
    assert (
        query(
            project, "SELECT * FROM segsql.segsql_memberships WHERE segment='hourly' ORDER BY ALL"
        )
        == before
    )
    listing = segsql(project, "ls")
    assert "hourly (disabled)" in listing.output


def test_batched_run_reports_each_segment(project):
    """The due segments of an entity type are written together; the CLI still prints one
    line per segment, with that segment's own counts."""
    result = segsql(project, "run", "--as-of", "2026-01-20")
    assert result.exit_code == 0, result.output
    runs = query(project, "SELECT segment, members, entered, exited FROM segsql.segsql_runs")
    assert len(runs) == 4
    lines = [line for line in result.output.splitlines() if " OK " in line]
    assert len(lines) == 4
    for segment, members, entered, exited in runs:
        [line] = [line for line in lines if f" {segment} " in line]
        assert f"members {members:>8}  +{entered} -{exited}" in line


def test_rows_without_a_key_are_nobody(project):
    """A users row whose key is NULL is never a member (of a segment that would take it:
    `churn_risk` takes every user without a login), so a rerun at the same T writes no
    change rows for it, instead of an exit and an entry of 'NULL' each time."""
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("INSERT INTO users VALUES (NULL, 'pro', TIMESTAMP '2026-01-01', 1)")
    con.close()
    for _ in range(2):
        result = segsql(project, "run", "--as-of", "2026-01-20")
        assert result.exit_code == 0, result.output
    assert query(
        project, "SELECT count(*) FROM segsql.segsql_memberships WHERE entity_id IS NULL"
    ) == [(0,)]
    changes = query(
        project, "SELECT run_id, count(*) FROM segsql.segsql_membership_changes GROUP BY run_id"
    )
    assert len(changes) == 1  # the first run only
