"""Overlapping runs on one target, with real processes: the second waits up to
--lock-timeout or exits 1 naming the holder; a killed holder never blocks the next run.
(DuckDB's file, Postgres' advisory lock, chdb's lock file; Spark's lock rows, which need
a catalog shared by processes, are raced by threads in tests/test_row_lock.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import write_project
from .test_run import SEGMENTS, make_warehouse

PROFILES_PG = """
segsql:
  target: pg
  outputs:
    pg: {{type: postgres, host: "{host}", port: {port}, user: {user}, dbname: {db},
          schema: segsql}}
"""


def start(project, *args, fault=None):
    env = {**os.environ, "SEGSQL_FAULT": fault or ""}
    return subprocess.Popen(
        [sys.executable, "-m", "segsql.cli", "run", "--project-dir", str(project), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(proc, text, timeout=60):
    """Read the holder's output until `text` shows (it is then inside its write)."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if text in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"holder never reached '{text}':\n{seen}")


PROFILES_CH = """
segsql:
  target: ch
  outputs:
    ch: {type: clickhouse, path: chdb, schema: segsql}
"""
SOURCES = (
    ("users", "user_id BIGINT, plan TEXT, signup_at TIMESTAMP, account_id BIGINT"),
    ("accounts", "account_id BIGINT"),
    ("events", "user_id BIGINT, event_name TEXT, ts TIMESTAMP"),
)


def chdb_warehouse(tmp_path) -> None:
    """The warehouse of make_warehouse in a chdb folder (written, then closed: chdb lets
    one process at a time open it)."""
    import duckdb

    from segsql.adapters import connect
    from segsql.definitions.profiles import Target

    make_warehouse(tmp_path / "seed.duckdb")
    src = duckdb.connect(str(tmp_path / "seed.duckdb"))
    target = Target(
        name="ch",
        type="clickhouse",
        schema="main",
        project_dir=str(tmp_path),
        options={"type": "clickhouse", "path": "chdb"},
    )
    a = connect(target)
    try:
        a.create_schema()
        for table, ddl in SOURCES:
            columns = [tuple(part.split()) for part in ddl.split(", ")]
            a.create_table(a.table(table), columns)
            rows = src.execute(f"SELECT * FROM {table}").fetchall()
            a.insert_rows(a.table(table), [n for n, _ in columns], [list(r) for r in rows])
    finally:
        a.close()
        src.close()


@pytest.fixture(params=["duckdb", "postgres", "clickhouse"])
def project(request, tmp_path):
    if request.param == "duckdb":
        write_project(tmp_path, SEGMENTS)
        make_warehouse(tmp_path / "warehouse.duckdb")
    elif request.param == "clickhouse":
        from .conftest import require
        from .engines import engine_available

        require("clickhouse", engine_available("clickhouse"))
        write_project(tmp_path, SEGMENTS, PROFILES_CH)
        chdb_warehouse(tmp_path)
    else:
        import duckdb

        pg = request.getfixturevalue("postgres_server")
        write_project(
            tmp_path,
            SEGMENTS.replace("main.", "public."),
            PROFILES_PG.format(host=pg.host, port=pg.port, user=pg.user, db=pg.dbname),
        )
        make_warehouse(tmp_path / "seed.duckdb")
        con = pg.connect()
        con.execute("DROP SCHEMA IF EXISTS segsql CASCADE")
        src = duckdb.connect(str(tmp_path / "seed.duckdb"))
        for table, ddl in SOURCES:
            con.execute(f"DROP TABLE IF EXISTS public.{table} CASCADE")
            con.execute(f"CREATE TABLE public.{table} ({ddl})")
            rows = src.execute(f"SELECT * FROM {table}").fetchall()
            with con.cursor() as cur:
                cols = ", ".join(["%s"] * len(rows[0]))
                cur.executemany(f"INSERT INTO public.{table} VALUES ({cols})", rows)
        con.close()
    return tmp_path


def test_second_run_fails_fast_naming_the_holder_then_waits(project):
    holder = start(project, "--as-of", "2026-01-20", fault="staged:sleep:6")
    try:
        time.sleep(0.5)
        wait_for_lock = time.monotonic()
        # a second run, no patience: exit 1 naming the holder
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "segsql.cli",
                "run",
                "--project-dir",
                str(project),
                "--as-of",
                "2026-01-20",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        message = second.stdout + second.stderr
        assert "held by" in message.lower()
        if "DuckDB" in message or "chdb" in message:  # they name the holding process
            assert f"PID {holder.pid}" in message
        assert "--lock-timeout" in message
        # with patience it waits for the holder, then runs
        third = subprocess.run(
            [
                sys.executable,
                "-m",
                "segsql.cli",
                "run",
                "--project-dir",
                str(project),
                "--as-of",
                "2026-01-21",
                "--lock-timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert third.returncode == 0, third.stdout + third.stderr
        assert holder.wait(timeout=60) == 0
        assert time.monotonic() - wait_for_lock > 3  # it really waited for the holder
    finally:
        holder.kill()


def test_killed_holder_does_not_block(project):
    holder = start(project, "--as-of", "2026-01-20", fault="staged:sleep:30")
    try:
        time.sleep(3)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        after = subprocess.run(
            [
                sys.executable,
                "-m",
                "segsql.cli",
                "run",
                "--project-dir",
                str(project),
                "--as-of",
                "2026-01-20",
                "--lock-timeout",
                "20",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert after.returncode == 0, after.stdout + after.stderr
    finally:
        holder.kill()
