"""When the warehouse fails (Postgres): a refused connection, a missing privilege, a
statement timeout, the server going away in the middle of a segment's write. Each gives
exit 1 and a one-line cause without a traceback; a failing segment gets an `error` row
(where the warehouse can still take one) while the others still run; and nothing partial
is left: replaying the changes gives the memberships, and no change or membership row
exists without its run's `success` row."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from sqlglot import exp

from . import engines
from .conftest import require, write_project

SEGMENTS = """
sources:
  users: {{table: {src}.users, entity: user, key: user_id, parents: {{account: account_id}}}}
  accounts: {{table: {src}.accounts, entity: account, key: account_id}}
  events: {{table: {src}.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts}}
segments:
  - name: big_accounts
    entity: account
    where: {{members: user, count: {{gte: 3}}}}
  - name: active
    holdout: 20
    where: {{event: login, within: 2d}}
  - name: pros
    where: {{property: plan, eq: pro}}
"""

SLOW = """
segments:
  - name: slow
    where: {sql: "pg_sleep(5 + user_id * 0) IS NULL"}
"""

PROFILE = """
segsql:
  target: pg
  outputs:
    pg:
      type: postgres
      host: "{host}"
      port: {port}
      user: {user}
      dbname: {db}
      schema: {schema}
{extra}"""

STATE = ("segsql_memberships", "segsql_membership_changes", "segsql_runs")


class Pg:
    """A project on a Postgres server: its own source schema and segsql schema."""

    def __init__(self, info, root: Path, *, extra: str = "", slow: bool = False):
        tag = uuid.uuid4().hex[:8]
        self.info, self.root = info, root
        self.src, self.schema = f"wf_src_{tag}", f"wf_{tag}"
        write_project(root, SEGMENTS.format(src=self.src))
        self.profile(info.user, extra)
        if slow:
            (root / "segments" / "slow.yml").write_text(SLOW)
        self.sql(
            f"CREATE SCHEMA {self.src}",
            f"CREATE TABLE {self.src}.users AS SELECT g AS user_id, CASE WHEN g % 3 = 0 "
            f"THEN 'pro' ELSE 'free' END AS plan, g % 4 AS account_id "
            f"FROM generate_series(0, 39) g",
            f"CREATE TABLE {self.src}.accounts AS SELECT g AS account_id "
            f"FROM generate_series(0, 3) g",
            f"CREATE TABLE {self.src}.events (user_id BIGINT, event_name TEXT, ts TIMESTAMP)",
        )
        self.events(day=5)

    def profile(self, user: str, extra: str = "") -> None:
        (self.root / "profiles.yml").write_text(
            PROFILE.format(
                host=self.info.host,
                port=self.info.port,
                user=user,
                db=self.info.dbname,
                schema=self.schema,
                extra=extra,
            )
        )

    def sql(self, *statements: str) -> list[tuple]:
        return self.info.sql(*statements)

    def events(self, day: int) -> None:
        """Logins up to 2026-01-<day>: user u logs in every (u % 5 + 1) days."""
        self.sql(
            f"DELETE FROM {self.src}.events",
            f"INSERT INTO {self.src}.events SELECT u, 'login', TIMESTAMP '2026-01-01' + "
            f"d * INTERVAL '1 day' FROM generate_series(0, 39) u, "
            f"generate_series(0, {day - 1}) d WHERE d % (u % 5 + 1) = 0",
        )

    def state(self) -> dict[str, list[tuple]]:
        if not self.sql(
            f"SELECT 1 FROM information_schema.tables WHERE table_schema = "
            f"'{self.schema}' AND table_name = 'segsql_runs'"
        ):
            return {t: [] for t in STATE}
        return {t: sorted(self.sql(f"SELECT * FROM {self.schema}.{t}"), key=repr) for t in STATE}

    def runs(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for seg, status in self.sql(
            f"SELECT segment, status FROM {self.schema}.segsql_runs ORDER BY run_id"
        ):
            out[seg].append(status)
        return dict(out)

    def segsql(self, *args: str, env: dict | None = None, timeout: float = 120):
        return subprocess.run(
            [sys.executable, "-m", "segsql.cli", *args, "--project-dir", str(self.root)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**clean_env(), **(env or {})},
        )

    def drop(self) -> None:
        self.sql(
            f"DROP SCHEMA IF EXISTS {self.src} CASCADE",
            f"DROP SCHEMA IF EXISTS {self.schema} CASCADE",
        )


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "SEGSQL_FAULT"}


def nothing_partial(state) -> None:
    """Replay == memberships; every change / membership row has its run's success row."""
    ok = {(r[0], r[1]) for r in state["segsql_runs"] if r[5] == "success"}
    replayed: dict[str, dict[str, bool]] = defaultdict(dict)
    for run_id, segment, _t, entity, change, _at, holdout, _initial, *_ in sorted(
        state["segsql_membership_changes"], key=lambda r: r[0]
    ):
        assert (run_id, segment) in ok, f"change row of an unfinished run {run_id}"
        if change == "entered":
            assert entity not in replayed[segment]
            replayed[segment][entity] = holdout
        else:
            del replayed[segment][entity]
    members = state["segsql_memberships"]
    assert all((r[5], r[0]) in ok for r in members), "membership row of an unfinished run"
    assert sorted((s, e, h) for s, m in replayed.items() for e, h in m.items()) == sorted(
        (r[0], r[2], r[3]) for r in members
    )


def one_line_cause(result, *fragments: str) -> str:
    """exit 1; stderr holds one `Error:` line naming the cause (no traceback)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr
    return errors[0]


@pytest.fixture
def pg(postgres_server, tmp_path):
    made = []

    def make(**kwargs) -> Pg:
        project = Pg(postgres_server, tmp_path / f"p{len(made)}", **kwargs)
        made.append(project)
        return project

    yield make
    for project in made:
        project.drop()


# ------------------------------------------------------------------ connection refused


def test_connection_refused(tmp_path):
    port = engines._free_port()  # nothing listens there
    root = tmp_path / "p"
    write_project(
        root,
        SEGMENTS.format(src="public"),
        PROFILE.format(
            host="127.0.0.1", port=port, user="postgres", db="nowhere", schema="segsql", extra=""
        ),
    )
    for command in (["run", "--as-of", "2026-01-05"], ["validate"]):
        result = subprocess.run(
            [sys.executable, "-m", "segsql.cli", *command, "--project-dir", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            env=clean_env(),
        )
        one_line_cause(result, "cannot connect to Postgres", f"127.0.0.1:{port}")
    assert not (root / "target").exists()


def test_connection_refused_names_the_cause(tmp_path):
    port = engines._free_port()
    root = tmp_path / "p"
    write_project(
        root,
        SEGMENTS.format(src="public"),
        PROFILE.format(
            host="127.0.0.1", port=port, user="postgres", db="nowhere", schema="segsql", extra=""
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "segsql.cli", "run", "--project-dir", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )
    assert "refused" in one_line_cause(result).lower()


# ------------------------------------------------------------------ privileges


def test_permission_error_fails_that_segment_only(pg):
    project = pg()
    role = f"wf_role_{uuid.uuid4().hex[:8]}"  # may read users and events, not accounts
    project.sql(
        f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA {project.src} TO {role}",
        f"GRANT SELECT ON {project.src}.users, {project.src}.events TO {role}",
        # no CREATE on the database: segsql's schema exists, so none is needed
        f"CREATE SCHEMA {project.schema} AUTHORIZATION {role}",
    )
    project.profile(role)
    try:
        result = project.segsql("run", "--as-of", "2026-01-05")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert "big_accounts" in result.stderr and "failed" in result.stderr
        runs = project.runs()
        assert runs == {"big_accounts": ["error"], "active": ["success"], "pros": ["success"]}
        error = project.sql(
            f"SELECT error FROM {project.schema}.segsql_runs WHERE status = 'error'"
        )[0][0]
        assert "permission denied" in error and "\n" not in error
        state = project.state()
        nothing_partial(state)
        assert {r[0] for r in state["segsql_memberships"]} == {"active", "pros"}

        # --fail-fast: the run stops at the first failure (big_accounts comes first)
        project.events(day=8)
        before = project.state()
        result = project.segsql("run", "--as-of", "2026-01-08", "--fail-fast")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        after = project.state()
        new = [r for r in after["segsql_runs"] if r not in before["segsql_runs"]]
        assert [(r[1], r[5]) for r in new] == [("big_accounts", "error")]
        for table in ("segsql_memberships", "segsql_membership_changes"):
            assert after[table] == before[table]
        nothing_partial(after)
    finally:
        project.drop()
        project.sql(
            f"DROP OWNED BY {role} CASCADE",
            f"REVOKE ALL ON DATABASE {project.info.dbname} FROM {role}",
            f"DROP ROLE {role}",
        )


# ------------------------------------------------------------------ statement timeout


def test_statement_timeout_fails_the_slow_segment_only(pg):
    project = pg(slow=True, extra="      statement_timeout: 1500\n")
    started = time.monotonic()
    result = project.segsql("run", "--as-of", "2026-01-05")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert time.monotonic() - started < 60  # 40 users x 5 s of sleep were cut short
    runs = project.runs()
    assert runs == {
        "big_accounts": ["success"],
        "active": ["success"],
        "pros": ["success"],
        "slow": ["error"],
    }
    error = project.sql(f"SELECT error FROM {project.schema}.segsql_runs WHERE status = 'error'")[
        0
    ][0]
    assert "statement timeout" in error
    state = project.state()
    nothing_partial(state)
    assert "slow" not in {r[0] for r in state["segsql_memberships"]}
    assert {r[0] for r in state["segsql_memberships"]} == {"big_accounts", "active", "pros"}


# ------------------------------------------------------------------ the server goes away


def pg_ctl(info, *args: str) -> subprocess.CompletedProcess:
    data = os.path.join(info.socket_dir, "data")
    cmd = engines._as_pg_user(
        [os.path.join(engines._pg_bin_dir(), "pg_ctl"), "-D", data, "-w", *args]
    )
    return subprocess.run(
        cmd, cwd="/", capture_output=True, text=True, env=engines._pg_env(), timeout=120
    )


IDLE_IN_WRITE = (
    exp.select(exp.func("count", exp.Star()))
    .from_("pg_stat_activity")
    .where(
        exp.column("application_name").eq(exp.Literal.string("segsql")),
        exp.column("state").eq(exp.Literal.string("idle in transaction")),
        exp.GT(
            this=exp.Sub(this=exp.func("now"), expression=exp.column("state_change")),
            expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.var("second")),
        ),
    )
)


def in_write_transaction(info, tries: int = 600) -> None:
    """Wait until segsql's connection has been idle inside a transaction for a second:
    the fault point `changes` sleeps there, after the change rows of the first segment
    are inserted. (Between two statements of any transaction it is idle for moments: a
    poll that caught one stopped the server before the write.)"""
    for _ in range(tries):
        con = info.connect()
        try:
            rows = con.execute(IDLE_IN_WRITE.sql("postgres")).fetchall()
        finally:
            con.close()
        if rows[0][0]:
            return
        time.sleep(0.1)
    raise AssertionError("segsql never reached its write")


def test_server_stopped_mid_run_leaves_nothing_partial(tmp_path):
    require("postgres", engines.engine_available("postgres"))
    with engines.postgres_cluster() as info:
        project = Pg(info, tmp_path / "p")
        assert project.segsql("run", "--as-of", "2026-01-05").returncode == 0
        project.events(day=9)
        before = project.state()
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "segsql.cli",
                "run",
                "--as-of",
                "2026-01-10",
                "--project-dir",
                str(project.root),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**clean_env(), "SEGSQL_FAULT": "changes:sleep:5"},
        )
        try:
            in_write_transaction(info)
            stopped = pg_ctl(info, "-m", "immediate", "stop")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            out, err = child.communicate(timeout=120)
        finally:
            child.kill()
        result = subprocess.CompletedProcess(child.args, child.returncode, out, err)
        # exit 1; each segment's line names the lost connection, then a one-line summary
        summary = one_line_cause(result, "segment(s) failed")
        assert "connection" in result.stdout.lower(), result.stdout + summary
        restarted = pg_ctl(info, "restart", "-l", os.path.join(info.socket_dir, "server.log"))
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        after = project.state()
        # the interrupted segment's write was rolled back with the server's crash recovery;
        # the others could not even start theirs: no success row, no changes
        for table in ("segsql_memberships", "segsql_membership_changes"):
            assert after[table] == before[table]
        assert [r for r in after["segsql_runs"] if r[5] == "success"] == [
            r for r in before["segsql_runs"] if r[5] == "success"
        ]
        nothing_partial(after)
        # and the next run catches up
        again = project.segsql("run", "--as-of", "2026-01-10")
        assert again.returncode == 0, again.stdout + again.stderr
        nothing_partial(project.state())
        assert len(project.state()["segsql_membership_changes"]) > len(
            before["segsql_membership_changes"]
        )
