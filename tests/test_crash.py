"""SIGKILL crash safety of `segsql run` (docs/tables.md, Invariants), on DuckDB and on Postgres,
incremental refresh included (segment `loyal` keeps state; kills while it is written).

Real `segsql run` child processes are killed - at the named fault points of a segment's
write (`SEGSQL_FAULT=<point>:kill`, rotating over the points) and after random delays
(the parent sends SIGKILL part-way through a typical run) - at every tick of a history of
changing data. After each kill the run is repeated at the same T without a fault (as the
next cron tick or an Airflow retry would), and then:

- replaying segsql_membership_changes in run_id order gives segsql_memberships;
- every change row and every membership row belongs to a run that has a `success` row
  (a refresh is all or nothing);

and at the end of the history, compared with an uninterrupted reference history over the
same data states and T's: the same multiset of transitions (segment, entity, change, T,
holdout) - none recorded twice, none lost -, the same final memberships, and a `success`
row for every refresh the reference completed.

Several independent lanes (own database file / schemas) run side by side to use both
cores; the kill target per engine is SEGSQL_CRASH_KILLS (default 100) real kills
(return code -9).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from segsql.adapters import connect
from segsql.clock import utc_naive
from segsql.definitions.profiles import load_target
from segsql.definitions.project import load_project
from segsql.runner.run import run_segments
from segsql.state import faults

from .conftest import write_project
from .engines import PROFILE_PG

KILLS = int(os.environ.get("SEGSQL_CRASH_KILLS", "100"))
LANES = 2
MAX_TICKS = 90
T0 = datetime(2026, 3, 1)
STEP = timedelta(hours=12)
N_USERS = 30

SEGMENTS = """
sources:
  users: {{table: {src}.users, entity: user, key: user_id, created_at: signup_at,
          parents: {{account: account_id}}}}
  accounts: {{table: {src}.accounts, entity: account, key: account_id}}
  events: {{table: {src}.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts}}
segments:
  - name: carts
    where: {{event: add_to_cart, within: 2d, count: {{gte: 2}}}}
  - name: not_trial
    where: {{not: {{property: plan, eq: trial}}}}
  - name: control
    holdout: 30
    where: {{event: "*", within: 3d}}
  - name: trial_carts
    refresh: 1d
    where: {{all: [{{in_segment: carts}}, {{not: {{property: plan, eq: pro}}}}]}}
  - name: loyal
    where: {{all: [{{event: add_to_cart, count: {{gte: 3}}}},
                  {{event: page_view, last: {{within: 1d}}}}]}}
  - name: teams
    entity: account
    where: {{members: user, where: {{event: report_created, within: 3d}}}}
"""

PROFILE_DUCKDB = """
segsql:
  target: dev
  outputs:
    dev: {type: duckdb, path: wh.duckdb, schema: segsql, threads: 1}
"""


DDL = {
    "users": "user_id BIGINT, plan TEXT, signup_at TIMESTAMP, account_id BIGINT",
    "accounts": "account_id BIGINT",
    "events": "user_id BIGINT, event_name TEXT, ts TIMESTAMP",
}


def tick_time(k: int) -> datetime:
    return T0 + k * STEP


def data_at(k: int) -> dict[str, list[tuple]]:
    """The warehouse at tick k: plans flip, users sign up later, and each user in turn
    is active for 12 hours, so the windows slide over them from tick to tick."""
    users = [
        (
            i,
            "trial" if (i * 7 + k) % 10 < 3 else "pro",
            None if i < 24 else T0 + timedelta(days=3 * (i - 23)),
            i % 5 if i < 29 else None,
        )
        for i in range(N_USERS)
    ]
    names = ("add_to_cart", "add_to_cart", "report_created", "page_view")
    events = [
        ((j // 4) % N_USERS, names[j % 4], T0 + j * timedelta(hours=3)) for j in range(4 * k + 1)
    ]
    return {"users": users, "accounts": [(a,) for a in range(5)], "events": events}


def sql_value(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, datetime):
        return f"TIMESTAMP '{v:%Y-%m-%d %H:%M:%S}'"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return str(v)


def load_statements(src: str, k: int) -> list[str]:
    out = []
    for table, rows in data_at(k).items():
        out.append(f"DELETE FROM {src}.{table}")
        out.append(
            f"INSERT INTO {src}.{table} VALUES "
            + ", ".join("(" + ", ".join(map(sql_value, r)) + ")" for r in rows)
        )
    return out


# ------------------------------------------------------------------ one lane: a warehouse


class Warehouse:
    """A project and its warehouse (DuckDB file, or own schemas on the Postgres server)."""

    def __init__(self, engine: str, root: Path, pg=None):
        self.engine, self.root, self.pg = engine, root, pg
        tag = uuid.uuid4().hex[:8]
        if engine == "duckdb":
            self.src, self.schema = "main", "segsql"
            write_project(root, SEGMENTS.format(src="main"), PROFILE_DUCKDB)
        else:
            self.src, self.schema = f"crash_src_{tag}", f"crash_{tag}"
            write_project(
                root,
                SEGMENTS.format(src=self.src),
                PROFILE_PG.format(
                    host=pg.host, port=pg.port, user=pg.user, db=pg.dbname, schema=self.schema
                ),
            )
        self.project = load_project(root)
        self.segments = list(self.project.enabled.values())
        self.sql(
            *(f"CREATE TABLE {self.src}.{t} ({ddl})" for t, ddl in DDL.items()), create_schema=True
        )

    def sql(self, *statements: str, create_schema: bool = False) -> list[tuple]:
        rows: list[tuple] = []
        if self.engine == "duckdb":
            import duckdb

            con = duckdb.connect(str(self.root / "wh.duckdb"))
            try:
                for s in statements:
                    rows = con.execute(s).fetchall()
            finally:
                con.close()
        else:
            if create_schema:
                statements = (f"CREATE SCHEMA {self.src}", *statements)
            rows = self.pg.sql(*statements)
        return [tuple(utc_naive(v) for v in row) for row in rows]  # instants as naive UTC

    def load(self, k: int) -> None:
        self.sql(*load_statements(self.src, k))

    def run_in_process(self, k: int) -> None:
        """`segsql run --as-of T_k`, in this process: the retry after a crash."""
        adapter = connect(load_target(self.root), lock_timeout=60)
        try:
            results = run_segments(adapter, self.project, self.segments, tick_time(k))
        finally:
            adapter.close()
        bad = [r for r in results if r.status not in ("success", "skipped")]
        assert not bad, f"the run after a crash failed: {bad}"

    def state(self):
        s = self.schema
        return {
            "changes": self.sql(
                f"SELECT run_id, segment, entity_id, change, changed_at, holdout "
                f"FROM {s}.segsql_membership_changes"
            ),
            "memberships": self.sql(
                f"SELECT segment, entity_id, holdout, entered_at, run_id "
                f"FROM {s}.segsql_memberships"
            ),
            "runs": self.sql(
                f"SELECT run_id, segment, as_of, status, members FROM {s}.segsql_runs"
            ),
        }

    def drop(self) -> None:
        if self.engine == "postgres":
            self.sql(
                f"DROP SCHEMA IF EXISTS {self.src} CASCADE",
                f"DROP SCHEMA IF EXISTS {self.schema} CASCADE",
            )


def check_invariants(state) -> None:
    """Replay == memberships, and nothing is recorded without its run's success row."""
    replayed: dict[str, dict[str, tuple]] = defaultdict(dict)
    for _run, segment, entity, change, changed_at, holdout in sorted(
        state["changes"], key=lambda r: r[0]
    ):
        if change == "entered":
            assert entity not in replayed[segment], f"{entity} entered {segment} twice"
            replayed[segment][entity] = (holdout, changed_at)
        else:
            assert entity in replayed[segment], f"{entity} exited {segment} without entering"
            del replayed[segment][entity]
    flat = sorted((s, e, h, at) for s, m in replayed.items() for e, (h, at) in m.items())
    assert flat == sorted(r[:4] for r in state["memberships"])
    ok = {(r[0], r[1]) for r in state["runs"] if r[3] == "success"}
    orphans = {(r[0], r[1]) for r in state["changes"]} - ok
    assert not orphans, f"change rows of runs without a success row: {orphans}"
    stale = {(r[4], r[0]) for r in state["memberships"]} - ok
    assert not stale, f"membership rows of runs without a success row: {stale}"


def summary(state, upto: datetime):
    """What must equal between an interrupted history and the reference, up to `upto`."""
    transitions = Counter(
        (s, e, ch, at, h) for _r, s, e, ch, at, h in state["changes"] if at <= upto
    )
    done = Counter(
        (seg, as_of)
        for _r, seg, as_of, st, _m in state["runs"]
        if st == "success" and as_of <= upto
    )
    return transitions, done


# ------------------------------------------------------------------ the killer


@dataclass
class Tally:
    target: int
    kills: Counter = field(default_factory=Counter)  # how -> real kills
    attempts: int = 0
    completed: int = 0  # random-delay attempts that finished before the signal
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return sum(self.kills.values())


def child_env(fault: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**env, "SEGSQL_FAULT": fault, "PYTHONUNBUFFERED": "1"}


def spawn(root: Path, k: int, fault: str = "") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "segsql.cli",
            "run",
            "--project-dir",
            str(root),
            "--as-of",
            tick_time(k).isoformat(),
            "--lock-timeout",
            "60",
        ],
        env=child_env(fault),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def timed_run(root: Path, k: int) -> float:
    """A clean child run; returns its duration after the header line (the part that
    touches the warehouse), for aiming the random kills."""
    proc = spawn(root, k)
    try:
        header = proc.stdout.readline()
        start = time.monotonic()
        out = header + proc.stdout.read()
        assert proc.wait(timeout=120) == 0, out
        return time.monotonic() - start
    finally:
        proc.kill()


def kill_attempt(root: Path, k: int, how: str, typical: float, rng: random.Random):
    """One `segsql run` that is SIGKILLed: at a named point (it kills itself there), or
    by the parent after a random part of a typical run. Returns (real kill?, seconds
    after the header line, output)."""
    proc = spawn(root, k, f"{how}:kill" if how != "random" else "")
    try:
        out = proc.stdout.readline()
        assert "segsql run:" in out, out + proc.stdout.read()
        start = time.monotonic()
        if how == "random":
            time.sleep(rng.uniform(0.0, typical))
            proc.send_signal(signal.SIGKILL)
        out += proc.stdout.read()
        code = proc.wait(timeout=120)
        elapsed = time.monotonic() - start
    finally:
        proc.kill()
    assert code in (0, -signal.SIGKILL), f"exit {code}:\n{out}"
    if how != "random":
        assert code == -signal.SIGKILL, f"no kill at '{how}':\n{out}"
    return code == -signal.SIGKILL, elapsed, out


def lane(wh: Warehouse, seed: int, tally: Tally, reached: list[int]) -> None:
    rng = random.Random(seed)
    points = list(faults.POINTS + faults.STATE_POINTS)  # `loyal` keeps state
    rng.shuffle(points)
    wh.load(0)
    durations = [timed_run(wh.root, 0)]
    check_invariants(wh.state())
    for k in range(1, MAX_TICKS):
        with tally.lock:
            if tally.total >= tally.target:
                break
            tally.attempts += 1
            n = tally.attempts
        wh.load(k)
        how = points[n % len(points)] if n % 2 else "random"
        killed, elapsed, _out = kill_attempt(wh.root, k, how, statistics.median(durations), rng)
        with tally.lock:
            if killed:
                tally.kills[how] += 1
            else:
                tally.completed += 1
        if not killed:
            durations.append(elapsed)  # it ran to the end: a sample of a typical run
        wh.run_in_process(k)  # the retry, at the same T, with no fault
        check_invariants(wh.state())
        reached.append(k)


def reference(wh: Warehouse, reached: list[list[int]], done: threading.Event) -> None:
    """The uninterrupted history, kept a little ahead of the lanes (not past them)."""
    for k in range(MAX_TICKS):
        while not done.is_set() and k > max(max(r, default=0) for r in reached) + 3:
            time.sleep(0.05)
        if done.is_set() and k > max(max(r, default=0) for r in reached):
            break
        wh.load(k)
        wh.run_in_process(k)
    check_invariants(wh.state())


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_sigkill_at_any_point_loses_and_duplicates_nothing(engine, request, tmp_path):
    pg = request.getfixturevalue("postgres_server") if engine == "postgres" else None
    started = time.monotonic()
    ref = Warehouse(engine, tmp_path / "reference", pg)
    lanes = [Warehouse(engine, tmp_path / f"lane{i}", pg) for i in range(LANES)]
    tally = Tally(target=KILLS)
    reached: list[list[int]] = [[] for _ in lanes]
    errors: list[BaseException] = []

    def guarded(fn, *args):
        try:
            fn(*args)
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(err)
            with tally.lock:
                tally.target = 0  # stop the other lanes

    try:
        threads = [
            threading.Thread(target=guarded, args=(lane, wh, 1000 + i, tally, reached[i]))
            for i, wh in enumerate(lanes)
        ]
        lanes_done = threading.Event()
        pacer = threading.Thread(target=guarded, args=(reference, ref, reached, lanes_done))
        for t in (*threads, pacer):
            t.start()
        for t in threads:
            t.join()
        lanes_done.set()
        pacer.join()
        if errors:
            raise errors[0]
        assert tally.total >= KILLS, f"only {tally.total} real kills in {MAX_TICKS} ticks"
        expected = ref.state()
        for wh, ticks in zip(lanes, reached, strict=True):
            last = max(ticks)
            state = wh.state()
            upto = tick_time(last)
            transitions, done = summary(state, upto)
            ref_transitions, ref_done = summary(expected, upto)
            assert sum(ref_transitions.values()) > 5 * last  # membership really changes
            assert transitions == ref_transitions, (
                f"lost: {ref_transitions - transitions}; twice: {transitions - ref_transitions}"
            )
            # a refresh that a kill interrupted after its commit is redone at the same T,
            # writing a second success row (with no changes): compare the sets
            assert set(done) == set(ref_done)
            # the final memberships: replay the reference's transitions up to that tick
            final = defaultdict(dict)
            for (seg, entity, change, at, holdout), n in sorted(
                ref_transitions.items(), key=lambda kv: kv[0][3]
            ):
                assert n == 1
                if change == "entered":
                    final[seg][entity] = (holdout, at)
                else:
                    del final[seg][entity]
            assert sorted(r[:4] for r in state["memberships"]) == sorted(
                (s, e, h, at) for s, m in final.items() for e, (h, at) in m.items()
            )
            # members of each segment's last success row = its stored memberships
            last_ok: dict[str, tuple] = {}
            for _run_id, seg, _as_of, status, members in sorted(state["runs"]):
                if status == "success":
                    last_ok[seg] = members
            sizes = Counter(r[0] for r in state["memberships"])
            assert {s: sizes.get(s, 0) for s in last_ok} == last_ok
    finally:
        for wh in (ref, *lanes):
            with contextlib.suppress(Exception):  # cleanup only
                wh.drop()
    kinds = ", ".join(f"{how} {n}" for how, n in sorted(tally.kills.items()))
    print(
        f"\n[crash] {engine}: {tally.total} real SIGKILLs survived ({kinds}); "
        f"{tally.completed} random-delay runs finished first; ticks per lane "
        f"{[max(r) for r in reached]}; {time.monotonic() - started:.0f}s"
    )
