"""The lock rows (segsql/adapters/row_lock.py) of the engines without a lock of their own
(Spark here; a ClickHouse server and Databricks use the same code), on real engines: the
protocol also on Postgres, where separate connections race for real. Overlapping runs:
one holds, the other fails naming the holder or waits; a dead holder never blocks."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest

from segsql.adapters import connect
from segsql.adapters.row_lock import LOCKS, RowLock, row_lock
from segsql.errors import LockError

from .conftest import engine_target


@pytest.fixture(params=["postgres", "spark"])
def make(request, tmp_path):
    """Opens adapters on one fresh target (its own schema)."""
    target = engine_target(request.param, request, tmp_path)
    opened = []

    def open_adapter():
        a = connect(target)
        opened.append(a)
        return a

    yield open_adapter
    opened[0].drop_schema(opened[0].schema)
    for a in opened:
        a.close()


def test_a_second_run_fails_naming_the_holder_then_gets_it(make):
    first, second = make(), make()
    with row_lock(first, 0):
        with pytest.raises(LockError) as err, row_lock(second, 0):
            pass
        message = str(err.value)
        assert f"held by PID {first_pid()} on {socket.gethostname()}" in message
        assert LOCKS in message and "--lock-timeout" in message
    with row_lock(second, 0):  # released: free
        pass


def first_pid() -> int:
    import os

    return os.getpid()


def test_a_waiting_run_gets_the_lock_when_the_holder_leaves(make):
    first, second = make(), make()
    held = threading.Event()

    def hold():
        with row_lock(first, 0):
            held.set()
            time.sleep(2)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(60)
    start = time.monotonic()
    with row_lock(second, 60):
        waited = time.monotonic() - start
    holder.join()
    assert waited > 1


def test_a_dead_or_expired_holder_does_not_block(make):
    a = make()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    lock = RowLock(a)
    lock._prepare()
    far = int(time.time() * 1e6) + 3600 * 10**6
    for owner, expires in (
        (f"{socket.gethostname()}:{pid}:dead", far),  # its process is gone
        ("elsewhere:1:old", int(time.time() * 1e6) - 1),  # expired
    ):
        stale = RowLock(a)
        stale.owner = owner
        stale.ttl_us = expires - int(time.time() * 1e6)
        stale._append("claim", int(time.time() * 1e6))
    with row_lock(make(), 0):
        pass
    # a live claim on another host blocks until it expires
    other = RowLock(a)
    other.owner = "elsewhere:1:live"
    other._append("claim", int(time.time() * 1e6))
    with pytest.raises(LockError, match="held by PID 1 on elsewhere"), row_lock(make(), 0):
        pass


def test_racing_runs_hold_it_one_at_a_time(make):
    adapters = [make() for _ in range(4)]
    inside, most, lock = 0, 0, threading.Lock()
    errors = []

    def worker(a):
        nonlocal inside, most
        try:
            with row_lock(a, 120):
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.3)
                with lock:
                    inside -= 1
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(a,)) for a in adapters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and most == 1
