"""A throw-away Postgres cluster for `bench/run.py --engine postgres`.

`postgres_cluster()` starts one on 127.0.0.1 at a free port (trust auth, superuser
`postgres`, durability off for speed, time zone UTC) and removes it at the end, also when
the benchmark fails. Needs the server binaries (initdb, pg_ctl, createdb) on PATH or in
Debian's /usr/lib/postgresql/<version>/bin; run as root, it drops to `nobody` for them.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

OS_USER = "nobody"  # the unprivileged user that runs initdb/postgres when we are root
SUPERUSER = "postgres"
DBNAME = "segsql_bench"


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    user: str
    dbname: str
    password: str = ""

    def connect(self, **kwargs):
        """A new psycopg connection (autocommit unless told otherwise)."""
        import psycopg

        kwargs.setdefault("autocommit", True)
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname=self.dbname, **kwargs
        )

    def environ(self) -> dict[str, str]:
        """The PG* variables that bench/segments/profiles.yml reads."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
            "PGPASSWORD": self.password,
        }


def bin_dir() -> str | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's layout."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))

    def version(path: str) -> int:
        v = path.split("/")[-2]
        return int(v) if v.isdigit() else 0

    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(os.path.join(d, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return d
    return None


def _as_os_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root."""
    return cmd if os.geteuid() != 0 else ["runuser", "-u", OS_USER, "--", *cmd]


def _env() -> dict[str, str]:
    """No PG* variable of the caller may steer the server tools."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", TZ="UTC")
    return env


def _run(cmd: list[str], cwd: str, log: str | None = None) -> None:
    proc = subprocess.run(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_env()
    )
    if proc.returncode:
        detail = proc.stdout + proc.stderr
        if log and os.path.exists(log):
            with open(log, errors="replace") as f:
                detail += "\n--- server log ---\n" + f.read()[-4000:]
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}): {' '.join(cmd)}\n{detail}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_cluster(dbname: str = DBNAME) -> Iterator[PostgresCluster]:
    """A new cluster with database `dbname`; stopped and removed at the end."""
    tools = bin_dir()
    if tools is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    initdb, pg_ctl, createdb = (os.path.join(tools, t) for t in ("initdb", "pg_ctl", "createdb"))
    # As root the cluster belongs to OS_USER, who must reach it: /tmp, not root's TMPDIR.
    parent = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    root = tempfile.mkdtemp(prefix="segsql-bench-pg-", dir=parent)
    data, log = os.path.join(root, "data"), os.path.join(root, "server.log")
    started = False

    def cleanup() -> None:
        nonlocal started
        if started:
            started = False
            subprocess.run(
                _as_os_user([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]),
                cwd="/",
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=_env(),
            )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(cleanup)  # a server started by pg_ctl outlives this process
    try:
        if os.geteuid() == 0:
            pw = pwd.getpwnam(OS_USER)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
        _run(
            _as_os_user(
                [
                    initdb,
                    "-D",
                    data,
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            cwd=root,
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
                ]
            )
            start = [pg_ctl, "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"]
            try:
                _run(_as_os_user(start), cwd=root, log=log)
                started = True
                break
            except RuntimeError:  # most likely the port was taken meanwhile
                if attempt == 4:
                    raise
                time.sleep(0.2)
        _run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, dbname], cwd=root)
        yield PostgresCluster(host="127.0.0.1", port=port, user=SUPERUSER, dbname=dbname)
    finally:
        atexit.unregister(cleanup)
        cleanup()
