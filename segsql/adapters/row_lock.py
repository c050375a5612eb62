"""The run lock of engines with neither transactions nor a lock of their own (a ClickHouse
server, Spark, Databricks): rows in `segsql_locks`, an append-only log that needs nothing
but INSERT and SELECT.

A run appends a `claim` row (owner, time, expiry), waits a moment for concurrent claims
to land, and holds the lock if its claim is the earliest live one; otherwise it appends a
`release` of its claim and tries again until `--lock-timeout`. Leaving, it appends a
`release`. A claim is live while it has no release, has not expired (`lock_ttl`, default
6 hours, a run longer than that should raise it), and - on the same host - its process
still exists, so a killed run never blocks the next one there (on another host, until the
expiry).

Without an atomic write, this is as safe as the settle wait: two runs that claim at once
both see both claims, and agree on the earliest, as long as an INSERT becomes visible
within the wait (as long as the claim's own INSERT took, at least `SETTLE_SECONDS`) and
the hosts' clocks agree within it (NTP).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlglot import exp

from ..errors import LockError
from ..state.tables import c

LOCKS = "segsql_locks"
COLUMNS = [
    ("owner", "TEXT"),  # host:pid:random
    ("kind", "TEXT"),  # claim | release
    ("at_us", "BIGINT"),  # microseconds since the epoch, the claimer's clock
    ("expires_us", "BIGINT"),
]
SETTLE_SECONDS = 0.3
POLL_SECONDS = 0.5
DEFAULT_TTL_SECONDS = 6 * 3600
RETRIES = 5


@dataclass(frozen=True)
class Claim:
    owner: str
    at_us: int
    expires_us: int

    @property
    def host(self) -> str:
        return self.owner.rsplit(":", 2)[0]

    @property
    def pid(self) -> int:
        return int(self.owner.rsplit(":", 2)[1])

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.at_us / 1e6))
        return f"held by PID {self.pid} on {self.host}, since {since} UTC"


def _now_us() -> int:
    return int(time.time() * 1_000_000)


def _alive(claim: Claim) -> bool:
    """False for a claim of a process of this host that no longer exists."""
    if claim.host != socket.gethostname():
        return True
    try:
        os.kill(claim.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


class RowLock:
    def __init__(self, adapter, ttl_seconds: float | None = None):
        self.adapter = adapter
        self.ttl_us = int((ttl_seconds or DEFAULT_TTL_SECONDS) * 1_000_000)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.table = adapter.table(LOCKS)

    def _prepare(self) -> None:
        """The schema and the lock table; another run creating them at the same moment
        is fine. The engine may refuse one of two concurrent CREATE ... IF NOT EXISTS
        (Postgres: a unique violation in pg_namespace) before the other run has made the
        lock table too, so a refused creation is tried again."""
        self._retried(self._create)

    def _create(self) -> None:
        a = self.adapter
        try:
            a.create_schema()
            if a.relation_columns((a.schema, LOCKS)) is None:
                a.create_table(self.table, COLUMNS)
        except Exception:
            if a.relation_columns((a.schema, LOCKS)) is None:
                raise

    def _retried(self, fn, *args):
        """fn(*args), tried again a few times: on Spark a read that meets another run's
        partition swap, or a write that meets its commit, can fail once; so can a
        concurrent creation of the lock table (_prepare)."""
        for attempt in range(RETRIES):
            try:
                return fn(*args)
            except Exception:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return None

    def _append(self, kind: str, at_us: int) -> None:
        self._retried(self._write, kind, at_us)

    def _write(self, kind: str, at_us: int) -> None:
        values = [
            exp.Literal.string(self.owner),
            exp.Literal.string(kind),
            exp.Literal.number(at_us),
            exp.Literal.number(at_us + self.ttl_us),
        ]
        self.adapter.write_lock_row(self.table, [name for name, _ in COLUMNS], values)

    def live_claims(self) -> list[Claim]:
        """The claims without a release that have not expired, earliest first."""
        return self._retried(self._live_claims)

    def _live_claims(self) -> list[Claim]:
        self.adapter.refresh_table(self.table)  # files another process added (Spark)
        rows = self.adapter.fetch(
            exp.select(c("owner"), c("kind"), c("at_us"), c("expires_us")).from_(self.table)
        )
        released = {owner for owner, kind, _, _ in rows if kind == "release"}
        now = _now_us()
        claims = [
            Claim(owner, int(at), int(expires))
            for owner, kind, at, expires in rows
            if kind == "claim" and owner not in released and int(expires) > now
        ]
        return sorted((x for x in claims if _alive(x)), key=lambda x: (x.at_us, x.owner))

    def acquire(self, timeout: float) -> None:
        """Claim the lock, waiting up to `timeout` seconds while another run holds it: a
        claim, the settle wait, one read; after losing, reads only (no more rows) until
        the lock looks free, then a new claim."""
        self._prepare()
        try:
            self._acquire(time.monotonic() + timeout, timeout)
        except BaseException:
            self.release()  # never leave a claim behind (it would block until it expires)
            raise

    def _acquire(self, deadline: float, timeout: float) -> None:
        free = True
        while True:
            others: list[Claim] = []
            if free:
                start = time.monotonic()
                self._append("claim", _now_us())
                time.sleep(max(SETTLE_SECONDS, time.monotonic() - start))
                claims = self.live_claims()
                if claims and claims[0].owner == self.owner:
                    return
                self._append("release", _now_us())  # another claim came first: withdraw
                others = [x for x in claims if x.owner != self.owner]
                self.owner = f"{self.owner.rsplit(':', 1)[0]}:{uuid.uuid4().hex[:8]}"
            if time.monotonic() >= deadline:
                others = others or self.live_claims()
                who = others[0].describe() if others else "held by another run"
                raise LockError(
                    f"segsql schema '{self.adapter.schema}' is in use ({who}; "
                    f"table {LOCKS}); waited {timeout:g}s (--lock-timeout)"
                )
            time.sleep(POLL_SECONDS)
            free = not self.live_claims()

    def release(self) -> None:
        with suppress(Exception):  # the warehouse is gone: the claim expires
            self._append("release", _now_us())


@contextmanager
def row_lock(adapter, timeout: float, ttl_seconds: float | None = None) -> Iterator[RowLock]:
    lock = RowLock(adapter, ttl_seconds)
    lock.acquire(timeout)
    try:
        yield lock
    finally:
        lock.release()
