"""Throw-away engines for the test suite: Postgres, ClickHouse (chdb), Spark.

Plain functions and context managers; ``conftest.py`` wraps them into session
fixtures. Each context manager cleans up after itself, even on error.

- ``postgres_cluster()`` -> ``PostgresInfo`` (host, port, user, dbname, dsn)
- ``chdb_session()``     -> ``ChdbSession`` (``.execute(sql) -> list[tuple]``)
- ``spark_session()``    -> a local ``pyspark.sql.SparkSession``
- ``engine_available(name)`` -> ``None`` or the reason it is unavailable
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import importlib.util
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

ENGINES = ("duckdb", "postgres", "clickhouse", "spark")

# The unprivileged OS user that runs initdb/postgres when the tests run as root.
PG_OS_USER = "nobody"
PG_SUPERUSER = "postgres"
PG_DBNAME = "segsql_test"


# --------------------------------------------------------------------------- availability


def _pg_bin_dir() -> str | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's layout."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    for d in candidates:
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(
            os.path.join(d, "pg_ctl"), os.X_OK
        ):
            return d
    return None


def _missing_module(*modules: str) -> str | None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"Python package {module!r} is not installed"
    return None


def engine_available(name: str) -> str | None:
    """None when the engine can run here, otherwise the reason it cannot."""
    if name == "duckdb":
        return _missing_module("duckdb")
    if name == "postgres":
        missing = _missing_module("psycopg")
        if missing:
            return missing
        if _pg_bin_dir() is None:
            return "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root and 'runuser' is not available to drop privileges"
        return None
    if name == "clickhouse":
        return _missing_module("chdb")
    if name == "spark":
        missing = _missing_module("pyspark")
        if missing:
            return missing
        java_home = os.environ.get("JAVA_HOME")
        if not shutil.which("java") and not (
            java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK)
        ):
            return "java is not installed (pyspark needs a JDK/JRE 17+)"
        return None
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")


# --------------------------------------------------------------------------- postgres


@dataclass(frozen=True)
class PostgresInfo:
    host: str
    port: int
    user: str
    dbname: str
    socket_dir: str
    password: str = ""

    @property
    def dsn(self) -> str:
        """A libpq/psycopg 3 connection string (TCP on 127.0.0.1)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    def as_dict(self) -> dict:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "password": self.password,
        }

    def connect(self, **kwargs):
        """A new psycopg 3 connection (autocommit unless told otherwise)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(self.dsn, **kwargs)

    def sql(self, *statements: str) -> list[tuple]:
        """Run statements (test setup, as the superuser) on a new connection; the rows of
        the last one."""
        rows: list[tuple] = []
        with self.connect() as con:
            for s in statements:
                cur = con.execute(s)
                rows = cur.fetchall() if cur.description else []
        return rows


# a segsql profile for a test cluster (format with host, port, user, db, schema)
PROFILE_PG = """
segsql:
  target: pg
  outputs:
    pg: {{type: postgres, host: "{host}", port: {port}, user: {user}, dbname: {db},
          schema: {schema}}}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: drop to an unprivileged user."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_OS_USER, "--", *cmd]


def _run(cmd: list[str], cwd: str, what: str, log: str | None = None) -> None:
    proc = subprocess.run(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_pg_env()
    )
    if proc.returncode != 0:
        detail = proc.stdout + proc.stderr
        if log and os.path.exists(log):
            with open(log, errors="replace") as f:
                detail += "\n--- server log ---\n" + f.read()[-4000:]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{detail}")


def _pg_env() -> dict:
    # No PG* variables from the caller's environment may steer the client tools.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


@contextlib.contextmanager
def postgres_cluster(dbname: str = PG_DBNAME) -> Iterator[PostgresInfo]:
    """A throw-away Postgres cluster on 127.0.0.1:<free port>, trust auth.

    Superuser ``postgres``, database ``dbname``, server time zone UTC, durability
    off (fsync, synchronous_commit) for speed. Stopped and removed at the end.
    """
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    initdb = os.path.join(bin_dir, "initdb")
    pg_ctl = os.path.join(bin_dir, "pg_ctl")
    createdb = os.path.join(bin_dir, "createdb")

    # As root, the cluster belongs to PG_OS_USER, who must be able to reach it: use
    # /tmp rather than a TMPDIR that may sit under root's private home.
    parent = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    root = tempfile.mkdtemp(prefix="segsql-pg-", dir=parent)
    data = os.path.join(root, "data")
    log = os.path.join(root, "server.log")
    started = False
    cleaned = False

    def cleanup() -> None:
        nonlocal cleaned
        if cleaned:
            return
        cleaned = True
        if started:
            subprocess.run(
                _as_pg_user([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]),
                cwd="/",
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=_pg_env(),
            )
        shutil.rmtree(root, ignore_errors=True)

    # A server started by pg_ctl outlives this process: stop it at interpreter exit
    # too, in case the context is never closed (e.g. a generator left unfinished).
    atexit.register(cleanup)
    try:
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_OS_USER)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
        _run(
            _as_pg_user(
                [
                    initdb,
                    "-D",
                    data,
                    "-U",
                    PG_SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            cwd=root,
            what="initdb",
        )
        for attempt in range(5):
            port = _free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={port}",
                    f"-c unix_socket_directories={root}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c timezone=UTC",
                    "-c max_connections=50",
                ]
            )
            try:
                _run(
                    _as_pg_user(
                        [pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"]
                    ),
                    cwd=root,
                    what="pg_ctl start",
                    log=log,
                )
                started = True
                break
            except RuntimeError:
                # Most likely another process took the port meanwhile: try another.
                if attempt == 4:
                    raise
                time.sleep(0.2)
        _run(
            [createdb, "-h", "127.0.0.1", "-p", str(port), "-U", PG_SUPERUSER, dbname],
            cwd=root,
            what="createdb",
        )
        yield PostgresInfo(
            host="127.0.0.1", port=port, user=PG_SUPERUSER, dbname=dbname, socket_dir=root
        )
    finally:
        atexit.unregister(cleanup)
        cleanup()


# --------------------------------------------------------------------------- clickhouse


class ChdbSession:
    """An in-process ClickHouse (chdb) with its data in a temp dir.

    chdb keeps ONE embedded server per process: while this session is open, another
    ``chdb.connect`` to a different path fails. Use one session per test run.
    One statement per ``execute`` call (chdb mangles multi-statement strings).
    """

    def __init__(self, path: str):
        import chdb

        self.path = path
        self.conn = chdb.connect(path)
        self._cursor = self.conn.cursor()

    def execute(self, sql: str) -> list[tuple]:
        """Run one statement; return its rows (empty for DDL/DML).

        A fresh cursor per statement: after a query fails while running (e.g. a
        bad cast), chdb 4.4's cursor returns that query's leftovers mixed into the
        NEXT result.
        """
        self._cursor = self.conn.cursor()
        self._cursor.execute(sql)
        return list(self._cursor.fetchall())

    def columns(self) -> list[str]:
        """Column names of the last result."""
        return list(self._cursor.column_names())

    def column_types(self) -> list[str]:
        """ClickHouse type names of the last result, e.g. ``Nullable(String)``."""
        return list(self._cursor.column_types())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._cursor.close()
        with contextlib.suppress(Exception):
            self.conn.close()


@contextlib.contextmanager
def chdb_session() -> Iterator[ChdbSession]:
    root = tempfile.mkdtemp(prefix="segsql-chdb-")
    session = None
    try:
        session = ChdbSession(root)
        yield session
    finally:
        if session is not None:
            session.close()
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- spark


def _quiet_pyspark_error_loggers() -> None:
    """pyspark 4 logs every failed SQL statement as a long JSON record on stderr
    before raising; the exception itself is enough for tests."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark < 4
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        # Created through PySparkLogger: a plain logging.Logger would not accept
        # the keyword arguments pyspark passes to it.
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


@contextlib.contextmanager
def spark_session(app_name: str = "segsql-tests"):
    """A pyspark ``local[1]`` SparkSession tuned for small, fast tests.

    Session time zone UTC, 1 shuffle partition, no UI, warehouse in a temp dir,
    in-memory catalog (no Hive/Derby). Stopped and removed at the end.
    """
    from pyspark.sql import SparkSession

    root = tempfile.mkdtemp(prefix="segsql-spark-")
    os.environ.setdefault("PYSPARK_PYTHON", shutil.which("python3") or "python3")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no hostname look-up warning
    spark = None
    try:
        spark = (
            SparkSession.builder.master("local[1]")
            .appName(app_name)
            .config("spark.sql.shuffle.partitions", "1")
            # small test data: code generation and adaptive planning cost more than they save
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.default.parallelism", "1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", os.path.join(root, "warehouse"))
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "1g")
            .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
            .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        _quiet_pyspark_error_loggers()
        yield spark
    finally:
        if spark is not None:
            spark.stop()
        shutil.rmtree(root, ignore_errors=True)
