"""Incremental refresh (SPEC section 10): sequences of runs where, after every run, the
stored members equal a full evaluation at the same T and the reference evaluator.

Each sequence: a small generated warehouse (users, events with `loaded_at`, events with
`lookback`, events with neither: their rebuilt state is read from the evaluation's own
scans), then >= 5 runs at random steps of T (1 minute to 40 days); between runs, events
are appended within the contract (on time, late within `lookback`, late by `loaded_at`),
user properties change, accounts (the users' parents, some created during the runs)
change, go or come, a definition is edited mid-way (sometimes), and `--full-refresh` is
mixed in; some segments have a `parent` condition. Each generated warehouse runs several
segments, each its own run sequence (its definition, edits and members; the runs of one
warehouse share T and the data): 60 warehouses of 5 segments (300 sequences) on DuckDB
and Postgres, 10 of 5 (50) on ClickHouse, 5 of 10 (50) on Spark. On Spark a run costs a
few seconds however many segments it has (its parquet jobs are shared by the segments of
one batch, see adapters/swap.py) plus ~0.5 s per segment (its swap), so more segments
per warehouse is the cheap way to more sequences: the Spark sequences take ~6-8 minutes
on 2 cores (SEGSQL_INCREMENTAL_WAREHOUSES=N overrides the number of warehouses). Seeded,
so CI is reproducible.
"""

from __future__ import annotations

import contextlib
import os
import random
from datetime import datetime, timedelta

import pytest
import yaml
from sqlglot import exp

from segsql.compiler import evaluation_query
from segsql.definitions.project import project_from_docs
from segsql.definitions.yaml import load_text
from segsql.runner import incremental, run
from segsql.runner.fixtures import load_tables
from segsql.runner.incremental import EntityIncrement
from segsql.runner.run import run_segments
from segsql.state import faults
from segsql.state.features import COMPACT_AFTER, LOG, VALUES
from segsql.state.signatures import SIGNATURES_FEATURE
from segsql.state.tables import MEMBERSHIPS, RUNS, c

from .reference.evaluator import members as reference_members

# (warehouses, segments per warehouse) per engine: each segment is a run sequence of its
# own (its definition, edits, members); the runs of one warehouse share T and the data
SEQUENCES = {"duckdb": (60, 5), "postgres": (60, 5), "clickhouse": (10, 5), "spark": (5, 10)}
T0 = datetime(2026, 3, 1)
STEPS = [60, 900, 3600, 6 * 3600, 86400, 3 * 86400, 10 * 86400, 40 * 86400]
NAMES = ["view", "buy", "open"]

SOURCES = {
    "users": {
        "table": "users",
        "entity": "user",
        "key": "user_id",
        "parents": {"account": "account_id"},
    },
    "accounts": {
        "table": "accounts",
        "entity": "account",
        "key": "account_id",
        "created_at": "created_at",
    },
    "events": {
        "table": "events",
        "events_of": "user",
        "key": "user_id",
        "event": "event_name",
        "timestamp": "ts",
        "loaded_at": "loaded_at",
    },
    "late_events": {
        "table": "late_events",
        "events_of": "user",
        "key": "user_id",
        "event": "event_name",
        "timestamp": "ts",
        "lookback": "2h",
    },
    "ontime_events": {
        "table": "ontime_events",
        "events_of": "user",
        "key": "user_id",
        "event": "event_name",
        "timestamp": "ts",
    },
}
TYPES = {
    "users": {"user_id": "BIGINT", "plan": "TEXT", "account_id": "BIGINT"},
    "accounts": {"account_id": "BIGINT", "tier": "TEXT", "created_at": "TIMESTAMP"},
    "events": {
        "user_id": "BIGINT",
        "event_name": "TEXT",
        "ts": "TIMESTAMP",
        "loaded_at": "TIMESTAMP",
        "amount": "DOUBLE",
    },
    "late_events": {
        "user_id": "BIGINT",
        "event_name": "TEXT",
        "ts": "TIMESTAMP",
        "amount": "DOUBLE",
    },
    "ontime_events": {
        "user_id": "BIGINT",
        "event_name": "TEXT",
        "ts": "TIMESTAMP",
        "amount": "DOUBLE",
    },
}
EVENT_TABLES = ("events", "late_events", "ontime_events")
PARENT_CONDITIONS = [
    {"parent": "account"},
    {"parent": "account", "where": {"property": "tier", "eq": "enterprise"}},
    {"not": {"parent": "account", "where": {"property": "tier", "in": ["pro", "enterprise"]}}},
]


def with_parents(prng: random.Random, segments: list[dict]) -> list[dict]:
    """Some of the segments combined with a condition on the user's account (drawn from
    `prng`, so that the sequences drawn from the main generator stay as they were)."""
    for seg in segments:
        if prng.random() < 0.3:
            parent = prng.choice(PARENT_CONDITIONS)
            seg["where"] = {prng.choice(["all", "any"]): [parent, seg["where"]]}
    return segments


def conditions(rng: random.Random, count: int) -> list[dict]:
    """Segments mixing kept features (all-time measures) with ones recomputed each run."""

    def name() -> str:
        return rng.choice(NAMES)

    def source() -> dict:
        # ontime_events twice: its rebuilt state comes from the evaluation's scans
        return rng.choice([{}, *({"source": t} for t in EVENT_TABLES), {"source": "ontime_events"}])

    def kept() -> dict:
        kind = rng.choice(["count", "sum", "avg", "min", "max", "first", "last", "count_distinct"])
        if kind == "count":
            measure = {"count": {"gte": rng.randint(1, 4)}}
        elif kind == "count_distinct":
            of = rng.choice(["amount", "event_name"])
            measure = {kind: {"of": of, rng.choice(["gte", "lt"]): rng.randint(1, 3)}}
        elif kind in ("first", "last"):
            measure = {kind: rng.choice([{"within": "3d"}, {"older_than": "5d"}])}
        else:
            measure = {kind: {"of": "amount", rng.choice(["gte", "lt"]): rng.randint(1, 8)}}
        cond = {"event": name(), **source(), **measure}
        if rng.random() < 0.3:
            cond["where"] = {"property": "amount", "gte": 2}
        r = rng.random()
        if kind in ("count", "count_distinct") and r < 0.5:  # a moving window
            cond["within"] = rng.choice(["30m", "2h", "1d", "3d", "20d"])
        elif r < 0.65:
            start = T0 + timedelta(days=rng.randint(-20, 20))
            cond["during"] = {"from": start, "to": start + timedelta(days=rng.randint(1, 30))}
        return cond

    def other() -> dict:
        return rng.choice(
            [
                {
                    "event": name(),
                    "within": rng.choice(["1h", "2d", "7d"]),
                    "sum": {"of": "amount", "gte": 3},
                },
                {"property": "plan", "eq": rng.choice(["free", "pro"])},
                {"event": "*", "count_distinct": {"of": "event_name", "gte": 2}},
            ]
        )

    def cond(depth: int = 0) -> dict:
        r = rng.random()
        if depth < 2 and r < 0.35:
            return {rng.choice(["all", "any"]): [cond(depth + 1) for _ in range(2)]}
        if depth < 2 and r < 0.45:
            return {"not": cond(depth + 1)}
        return kept() if rng.random() < 0.7 else other()

    return [{"name": f"seg_{i}", "entity": "user", "where": cond()} for i in range(count)]


def to_project(segments: list[dict], dialect: str):
    text = yaml.safe_dump({"sources": SOURCES, "segments": segments}, sort_keys=False)
    return project_from_docs(".", [("case.yml", load_text(text, "case.yml"))], dialect)


class Warehouse:
    """The generated tables; rows are only ever appended within the contract."""

    def __init__(self, rng: random.Random, users: int, prng: random.Random):
        self.rng, self.prng = rng, prng  # prng: the accounts (see `with_parents`)
        self.users = [
            {"user_id": i, "plan": rng.choice(["free", "pro", None])} for i in range(1, users + 1)
        ]
        self.accounts = [self.account(i) for i in range(1, 4)]
        for user in self.users:
            user["account_id"] = prng.choice([1, 2, 3, 4, None])  # 4: no such account
        self.tables = {"users": self.users, "accounts": self.accounts}
        self.tables |= {t: [] for t in EVENT_TABLES}
        self.loaded = T0 - timedelta(days=60)
        self.new: dict[str, list[dict]] = {t: [] for t in EVENT_TABLES}  # since loaded
        self.users_changed = self.accounts_changed = False

    def account(self, i: int) -> dict:
        """Some created during the runs (a `created_at` after T0: a parent from then on)."""
        created = self.prng.choice([None, T0 - timedelta(days=1), T0 + timedelta(days=2)])
        tier = self.prng.choice(["free", "pro", "enterprise", None])
        return {"account_id": i, "tier": tier, "created_at": created}

    def change_accounts(self) -> None:
        """An account's tier changes, an account is deleted or added, or a user moves."""
        prng = self.prng
        r = prng.random()
        if r < 0.2 and self.accounts:
            prng.choice(self.accounts)["tier"] = prng.choice(["free", "pro", "enterprise"])
        elif r < 0.3 and self.accounts:
            self.accounts.remove(prng.choice(self.accounts))
        elif r < 0.4:
            self.accounts.append(
                self.account(max([0, *(a["account_id"] for a in self.accounts)]) + 1)
            )
        elif r < 0.5:
            prng.choice(self.users)["account_id"] = prng.choice([1, 2, 3, 4, None])
            self.users_changed = True
            return
        else:
            return
        self.accounts_changed = True

    def event(self, ts: datetime, loaded: datetime | None = None) -> dict:
        row = {
            "user_id": self.rng.randint(1, len(self.users) + 1),  # sometimes nobody's
            "event_name": self.rng.choice(NAMES),
            "ts": ts,
            "amount": self.rng.choice([None, 1.0, 2.0, 3.5, 5.0]),
        }
        if loaded is not None:
            row["loaded_at"] = loaded
        return row

    def append(self, prev: datetime, now: datetime, history: bool = False) -> None:
        """Events that landed between the run at `prev` and the one at `now`."""
        rng = self.rng
        span = (now - prev).total_seconds()
        for _ in range(rng.randint(3, 10) if not history else 40):
            if history:
                ts = now - timedelta(seconds=rng.randint(0, 50 * 86400))
            else:
                ts = prev + timedelta(seconds=rng.randint(1, int(span)))
            # ontime_events: at that time, never late (no lookback, no loaded_at)
            self.new["ontime_events"].append(self.event(ts))
            self.loaded += timedelta(seconds=rng.randint(1, 100))
            # events: any timestamp (even long before prev) as long as loaded_at is later
            late = ts - timedelta(seconds=rng.choice([0, 0, 3600, 30 * 86400]))
            self.new["events"].append(self.event(late, self.loaded))
            # late_events: at most `lookback` (2h) before the previous run
            if not history:
                ts = max(
                    ts - timedelta(seconds=rng.choice([0, 0, 1800, 7000])),
                    prev - timedelta(hours=2) + timedelta(seconds=1),
                )
            self.new["late_events"].append(self.event(ts))
        if not history and rng.random() < 0.5:
            user = rng.choice(self.users)
            user["plan"] = rng.choice(["free", "pro", None])
            self.users_changed = True
        if not history:
            self.change_accounts()

    def load(self, adapter, project, segments: list[dict]) -> None:
        """Bring the warehouse up to date: the first time every table, then only the new
        event rows (appended) and, if changed, the users (reloaded)."""
        first = not self.tables["events"]
        for name, rows in self.new.items():
            self.tables[name].extend(rows)
        if first:
            load_tables(adapter, project, self.tables, types=TYPES)
        else:
            for name, rows in self.new.items():
                insert(adapter, name, rows)
            changed = {"users": self.users_changed, "accounts": self.accounts_changed}
            for seg in segments if any(changed.values()) else ():
                # the views read the tables that are reloaded (Postgres)
                adapter.execute(
                    exp.Drop(tables=[adapter.table(seg["name"])], kind="VIEW", exists=True)
                )
            for name in (name for name, yes in changed.items() if yes):
                table = adapter.dialect.table(name)
                adapter.create_table(table, list(TYPES[name].items()), replace=True)
                insert(adapter, name, self.tables[name])
        self.new = {t: [] for t in EVENT_TABLES}
        self.users_changed = self.accounts_changed = False


def insert(adapter, name: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(TYPES[name])
    adapter.insert_rows(
        adapter.dialect.table(name),
        columns,
        [[literal(adapter, r.get(c), TYPES[name][c]) for c in columns] for r in rows],
    )


def literal(adapter, value, kind: str) -> exp.Expression:
    """A literal of a generic type, quickly (tiny data, many runs)."""
    if value is None:
        return exp.Null()
    if kind == "TIMESTAMP":
        return adapter.dialect.timestamp(value)
    if kind == "TEXT":
        return exp.Literal.string(value)
    return exp.Literal.number(value)


def stored(adapter, segment: str) -> set[str]:
    rows = adapter.fetch(
        exp.select(c("entity_id"))
        .from_(adapter.table(MEMBERSHIPS))
        .where(c("segment").eq(exp.Literal.string(segment)))
    )
    return {str(r[0]) for r in rows}


def stored_all(adapter) -> dict[str, set[str]]:
    """segment -> its stored members, in one query (a Spark query costs ~0.1-0.2 s)."""
    rows = adapter.fetch(exp.select(c("segment"), c("entity_id")).from_(adapter.table(MEMBERSHIPS)))
    out: dict[str, set[str]] = {}
    for segment, entity in rows:
        out.setdefault(segment, set()).add(str(entity))
    return out


def modes(adapter, as_of: datetime) -> dict[str, str]:
    rows = adapter.fetch(exp.select(c("segment"), c("mode"), c("as_of")).from_(adapter.table(RUNS)))
    return {seg: mode for seg, mode, at in rows if at == as_of}


def full_evaluation(adapter, project, T: datetime) -> dict[str, set[str]]:
    """Members of every segment at T from all events (no state): one evaluation query."""
    segments = list(project.segments.values())
    rows = adapter.fetch(evaluation_query(project, "user", segments, adapter.dialect, T))
    return {s.name: {str(r[0]) for r in rows if r[i + 1]} for i, s in enumerate(segments)}


def run_sequence(
    adapter, seed: int, count: int = 5, fault: str | None = None, monkeypatch=None
) -> list[str]:
    """One generated warehouse and its runs; with `fault`, the third run fails at that
    fault point (it is then written segment by segment, without state)."""
    rng, prng = random.Random(seed), random.Random(f"accounts {seed}")
    segments = with_parents(prng, conditions(rng, count))
    house = Warehouse(rng, users=rng.randint(3, 6), prng=prng)
    T = T0
    house.append(T, T, history=True)
    edit_at = rng.choice([None, 2, 3])
    seen = []
    for step in range(rng.randint(5, 6)):
        if step:
            prev, T = T, T + timedelta(seconds=rng.choice(STEPS))
            house.append(prev, T)
        if step == edit_at:
            segments[0] = with_parents(prng, conditions(rng, 1))[0]  # edited mid-way
        project = to_project(segments, adapter.dialect.name)
        house.load(adapter, project, segments)
        full_refresh = step > 0 and rng.random() < 0.15
        with monkeypatch.context() if monkeypatch else contextlib.nullcontext() as m:
            if fault and step == 2:
                m.setenv("SEGSQL_FAULT", fault)
            results = run_segments(
                adapter, project, list(project.segments.values()), T, full_refresh=full_refresh
            )
        assert all(r.status == "success" for r in results), results
        mode = modes(adapter, T)
        full_members = full_evaluation(adapter, project, T)
        members = stored_all(adapter)
        for seg in segments:
            ours = members.get(seg["name"], set())
            full = full_members[seg["name"]]
            theirs = {
                str(m)
                for m in reference_members(
                    {"sources": SOURCES, "segments": segments}, seg["name"], house.tables, T
                )
            }
            where = f"seed {seed} step {step} T={T} {seg['name']} ({mode.get(seg['name'])}):\n" + (
                yaml.safe_dump(seg["where"], sort_keys=False)
            )
            assert ours == full, f"stored {sorted(ours)} != full {sorted(full)} at {where}"
            assert ours == theirs, f"stored {sorted(ours)} != reference {sorted(theirs)} at {where}"
            if step == 0 or full_refresh:
                assert mode[seg["name"]] == "full", where
        seen += [mode[s["name"]] for s in segments]
    return seen


def test_run_sequences_equal_full_evaluation(adapter, engine, monkeypatch):
    warehouses, count = SEQUENCES[engine]
    n = int(os.environ.get("SEGSQL_INCREMENTAL_WAREHOUSES", warehouses))
    stored_scans: list[int] = []
    monkeypatch.setattr(
        EntityIncrement, "store_scans", _spied(EntityIncrement.store_scans, stored_scans)
    )
    compacted: list[int] = []
    monkeypatch.setattr(incremental, "compacted_rows", _counted(compacted))
    narrowed: list[bool] = []  # per run: was the user evaluation narrowed (runner/narrow.py)
    real = run.prepare_narrowing

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        narrowed.append(out is not None and out.affected is not None)
        return out

    monkeypatch.setattr(run, "prepare_narrowing", spy)
    seen = []
    for seed in range(n):
        _reset(adapter)
        # every other history compacts a generation after 2 runs (all of them do after
        # 7 days of T): later runs start from a compacted state (and, where DELETE is in
        # place, the older rows are deleted)
        monkeypatch.setattr(incremental, "COMPACT_AFTER", 2 if seed % 2 else COMPACT_AFTER)
        seen += run_sequence(adapter, seed, count)
    # the incremental path is exercised (first runs, edits and --full-refresh are full)
    assert seen.count("incremental") >= max(3, len(seen) // 8), (
        seen.count("incremental"),
        len(seen),
    )
    assert len(compacted) >= max(2, n // 4), compacted
    # narrowing too, where the engine has transactions (elsewhere it is never prepared)
    if engine in ("duckdb", "postgres"):
        assert sum(narrowed) >= max(3, len(narrowed) // 4), (sum(narrowed), len(narrowed))
    else:
        assert not any(narrowed)
    # so is a rebuild from the evaluation's own scans (ontime_events: no lookback, no
    # loaded_at); the other sources rebuild from a scan of their settled rows
    assert sum(n > 0 for n in stored_scans) >= max(2, len(stored_scans) // 10), stored_scans


@pytest.mark.parametrize("point", faults.STATE_POINTS)
def test_a_failed_state_write_leaves_the_next_runs_exact(adapter, engine, point, monkeypatch):
    """A failure while the state is written (after its rows, or after their commit rows):
    the run's segments are still written (one by one, without state), rows without a
    commit row are never read, and every later run is still exact."""
    hit, checkpoint = [], faults.checkpoint

    def spy(name: str) -> None:
        if name == point and os.environ.get("SEGSQL_FAULT") == point:
            hit.append(name)
        checkpoint(name)

    monkeypatch.setattr(faults, "checkpoint", spy)
    # a generation compacts after 2 runs: the fault at step 2 hits a compacting write too
    monkeypatch.setattr(incremental, "COMPACT_AFTER", 2)
    seeds = (1, 2) if engine in ("duckdb", "postgres") else (1,)  # Spark: ~2 min a history
    for seed in seeds:
        _reset(adapter)
        seen = run_sequence(adapter, seed, 5, point, monkeypatch)
        assert "incremental" in seen[15:]  # runs after the failed one start from state
    assert len(hit) == len(seeds)  # the fault did happen, in every history


def test_state_from_the_evaluation_equals_state_from_the_events(adapter, engine, monkeypatch):
    """A rebuild writes a feature of a source without lookback or loaded_at from the
    evaluation's own scan; the rows it writes are those a scan of the events writes."""
    rng = random.Random(7)
    measures = [
        ("buy", {"count": {"gte": 1}}),
        ("view", {"within": "3d", "count": {"gte": 2}}),
        ("buy", {"sum": {"of": "amount", "gte": 3}}),
        ("open", {"min": {"of": "amount", "lt": 2}}),
        ("view", {"max": {"of": "amount", "gte": 3}}),
        ("buy", {"first": {"older_than": "5d"}}),
        ("open", {"last": {"within": "3d"}}),
    ]
    segments = [
        {"name": f"seg_{i}", "where": {"event": name, "source": "ontime_events", **measure}}
        for i, (name, measure) in enumerate(measures)
    ]
    house = Warehouse(rng, users=6, prng=random.Random(0))
    house.append(T0, T0, history=True)
    project = to_project(segments, adapter.dialect.name)
    house.load(adapter, project, segments)

    def state() -> list[tuple]:
        columns = ["feature", "entity_id", "n", "num", "ts", "val"]
        rows = adapter.fetch(exp.select(*(c(n) for n in columns)).from_(adapter.table(VALUES)))
        return sorted(tuple(str(v) for v in row) for row in rows)

    seen: list[int] = []
    monkeypatch.setattr(EntityIncrement, "store_scans", _spied(EntityIncrement.store_scans, seen))
    _reset(adapter)
    run_segments(adapter, project, list(project.segments.values()), T0)
    ours = state()
    _reset(adapter)
    monkeypatch.setattr("segsql.runner.incremental.from_evaluation", lambda *_: False)
    run_segments(adapter, project, list(project.segments.values()), T0)
    assert seen == [len(measures), 0]  # the first run wrote every feature from its scan
    assert ours == state() and len(ours) > 10


def _counted(calls: list[int]):
    """`compacted_rows`, counting its calls."""
    real = incremental.compacted_rows

    def spy(*args):
        calls.append(1)
        return real(*args)

    return spy


def _spied(store_scans, seen: list[int]):
    def spy(self, *args):
        tables = store_scans(self, *args)
        seen.append(len(self.stored))
        return tables

    return spy


def _reset(adapter) -> None:
    """A fresh segsql schema (each sequence starts with no state)."""
    adapter.drop_schema(adapter.schema)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ---------------------------------------------------------------- the contract's edge

BREAK = [
    {
        "name": "buyers",
        "where": {
            "all": [{"event": "buy", "count": {"gte": 1}}, {"property": "plan", "eq": "pro"}]
        },
    }
]


def test_a_row_older_than_lookback_is_seen_after_full_refresh(adapter, engine):
    """Rows that break the contract (timestamp before T_prev - lookback; loaded_at not
    after the latest seen) are not seen by an incremental run, and are by --full-refresh."""
    project = to_project(BREAK, adapter.dialect.name)
    tables = {
        "users": [{"user_id": 1, "plan": "pro"}, {"user_id": 2, "plan": "pro"}],
        "events": [{"user_id": 3, "event_name": "buy", "ts": T0, "loaded_at": T0}],
        "late_events": [{"user_id": 3, "event_name": "buy", "ts": T0}],
    }
    load_tables(adapter, project, tables, types=TYPES)
    segments = list(project.segments.values())
    T1, T2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    run_segments(adapter, project, segments, T1)
    assert stored(adapter, "buyers") == set()
    # late_events has lookback 2h: a row 3h before the previous run breaks the contract;
    # events has loaded_at: a row loaded before the latest one seen breaks it too
    insert(
        adapter, "late_events", [{"user_id": 1, "event_name": "buy", "ts": T1 - timedelta(hours=3)}]
    )
    insert(
        adapter,
        "events",
        [{"user_id": 2, "event_name": "buy", "ts": T1 - timedelta(days=5), "loaded_at": T0}],
    )
    run_segments(adapter, project, segments, T2)
    assert modes(adapter, T2) == {"buyers": "incremental"}
    assert stored(adapter, "buyers") == set()  # not seen: outside the contract
    run_segments(adapter, project, segments, T2, full_refresh=True)
    assert stored(adapter, "buyers") == {"1", "2"}
    assert full_evaluation(adapter, project, T2)["buyers"] == {"1", "2"}
    rows = adapter.fetch(exp.select(c("mode")).from_(adapter.table(RUNS)))
    assert sorted(r[0] for r in rows) == ["full", "full", "incremental"]
    # within the contract, a late row is seen by the next incremental run
    run_segments(adapter, project, segments, T2 + timedelta(hours=1))
    insert(adapter, "users", [{"user_id": 4, "plan": "pro"}])
    insert(
        adapter,
        "late_events",
        [{"user_id": 4, "event_name": "buy", "ts": T2 - timedelta(minutes=30)}],
    )
    T3 = T2 + timedelta(hours=1, minutes=1)
    run_segments(adapter, project, segments, T3)
    assert modes(adapter, T3) == {"buyers": "incremental"}
    assert stored(adapter, "buyers") == {"1", "2", "4"}


def one_buyer(adapter):
    """BREAK over one pro user who bought at T0: the project and its segments."""
    project = to_project(BREAK, adapter.dialect.name)
    tables = {
        "users": [{"user_id": 1, "plan": "pro"}],
        "events": [{"user_id": 1, "event_name": "buy", "ts": T0, "loaded_at": T0}],
        "late_events": [],
    }
    load_tables(adapter, project, tables, types=TYPES)
    return project, list(project.segments.values())


def test_dropping_the_state_tables_makes_the_next_run_full(adapter, engine):
    project, segments = one_buyer(adapter)
    for day in (1, 2):
        run_segments(adapter, project, segments, T0 + timedelta(days=day))
    assert modes(adapter, T0 + timedelta(days=2)) == {"buyers": "incremental"}
    adapter.execute(exp.Drop(tables=[adapter.table("segsql_feature_values")], kind="TABLE"))
    T3 = T0 + timedelta(days=3)
    run_segments(adapter, project, segments, T3)
    assert modes(adapter, T3) == {"buyers": "full"} and stored(adapter, "buyers") == {"1"}
    T4 = T0 + timedelta(days=4)
    run_segments(adapter, project, segments, T4)
    assert modes(adapter, T4) == {"buyers": "incremental"} and stored(adapter, "buyers") == {"1"}


def test_a_compacted_generation_replaces_the_older_rows(adapter, engine, monkeypatch):
    """After COMPACT_AFTER runs on a generation (or COMPACT_SPAN of T), a run writes the
    feature's value per entity as a new generation (from the state, staying
    incremental); the older generations' rows are deleted where DELETE is in place, and
    the members stay exact."""
    monkeypatch.setattr(incremental, "COMPACT_AFTER", 2)
    project, segments = one_buyer(adapter)
    for day in range(1, 6):
        run_segments(adapter, project, segments, T0 + timedelta(days=day))
        assert stored(adapter, "buyers") == {"1"}
    assert set(modes(adapter, T0 + timedelta(days=5)).values()) == {"incremental"}
    columns = (c("feature"), c("generation"))

    def features_log() -> list[tuple]:  # (not the signatures' commit rows: runner/narrow.py)
        rows = adapter.fetch(exp.select(*columns, c("run_id")).from_(adapter.table(LOG)))
        return [row for row in rows if row[0] != SIGNATURES_FEATURE]

    committed = features_log()
    generations = {g for _, g, _ in committed}
    # runs 1 (rebuild), 3 and 5 (each a compaction of a generation of 2 runs) start one
    assert len(generations) == 3 and len({f for f, _, _ in committed}) == 1
    kept = {g for _, g in adapter.fetch(exp.select(*columns).from_(adapter.table(VALUES)))}
    latest = max(committed, key=lambda row: row[2])[1]
    assert kept == ({latest} if adapter.DELETES_IN_PLACE else generations)
    # a generation of one run whose T is COMPACT_SPAN (7 days) later compacts too
    run_segments(adapter, project, segments, T0 + timedelta(days=13))
    assert stored(adapter, "buyers") == {"1"}
    assert modes(adapter, T0 + timedelta(days=13)) == {"buyers": "incremental"}
    assert len({g for _, g, _ in features_log()}) == 4


def test_a_run_without_state_reads_and_writes_none(adapter, engine):
    """run_segments(state=False), what bench/incremental.py and `incremental: false`
    run: every segment full, no kept rows written, the same members; turned back on, the
    state starts from its own horizon (T1), so the rows of the runs without it are seen."""
    project, segments = one_buyer(adapter)
    run_segments(adapter, project, segments, T0 + timedelta(days=1))
    values = exp.select(exp.func("COUNT", exp.Star())).from_(adapter.table("segsql_feature_values"))
    kept = adapter.fetch(values)[0][0]
    T2 = T0 + timedelta(days=2)
    run_segments(adapter, project, segments, T2, state=False)
    assert modes(adapter, T2) == {"buyers": "full"} and stored(adapter, "buyers") == {"1"}
    assert adapter.fetch(values)[0][0] == kept
    insert(adapter, "users", [{"user_id": 2, "plan": "pro"}])
    insert(adapter, "events", [{"user_id": 2, "event_name": "buy", "ts": T2, "loaded_at": T2}])
    T3 = T0 + timedelta(days=3)
    run_segments(adapter, project, segments, T3, state=False)  # sees user 2, keeps nothing
    T4 = T0 + timedelta(days=4)
    run_segments(adapter, project, segments, T4)
    assert modes(adapter, T4) == {"buyers": "incremental"}
    assert (
        stored(adapter, "buyers") == {"1", "2"} == full_evaluation(adapter, project, T4)["buyers"]
    )


# ---------------------------------------------------------------- the command line

CLI_PROJECT = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts, lookback: 1h}
segments:
  - name: buyers
    where: {event: buy, count: {gte: 2}}
"""


def cli_warehouse(root, profiles: str | None = None) -> None:
    """CLI_PROJECT in `root` with its DuckDB warehouse: user 1 bought twice."""
    import duckdb

    from .conftest import write_project

    write_project(root, CLI_PROJECT, profiles)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id FROM range(3)")
    con.execute("CREATE TABLE events (user_id BIGINT, event_name VARCHAR, ts TIMESTAMP)")
    con.execute("INSERT INTO events VALUES (1, 'buy', '2026-01-01'), (1, 'buy', '2026-01-02')")
    con.close()


def test_run_full_refresh_on_the_command_line(tmp_path):
    import duckdb
    from click.testing import CliRunner

    from segsql.cli import cli

    cli_warehouse(tmp_path)

    def run(*args):
        result = CliRunner().invoke(cli, ["run", *args, "--project-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        return result.output

    run("--as-of", "2026-01-03")
    run("--as-of", "2026-01-04")
    assert "--full-refresh" in CliRunner().invoke(cli, ["run", "--help"]).output
    run("--as-of", "2026-01-04", "--full-refresh")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    modes = con.execute("SELECT mode FROM segsql.segsql_runs ORDER BY run_id").fetchall()
    members = con.execute("SELECT entity_id FROM segsql.segsql_memberships").fetchall()
    con.close()
    assert [m for (m,) in modes] == ["full", "incremental", "full"]
    assert members == [("1",)]


NOT_INCREMENTAL = """
segsql:
  outputs:
    dev: {type: duckdb, path: warehouse.duckdb, threads: 1, incremental: %s}
"""


def test_a_target_with_incremental_false_keeps_no_state(tmp_path):
    """`incremental: false` in profiles.yml: every run is full and no state table is
    made; the members are those of an incremental target."""
    import duckdb
    from click.testing import CliRunner

    from segsql.cli import cli

    cli_warehouse(tmp_path, NOT_INCREMENTAL % "false")
    for day in ("2026-01-03", "2026-01-04"):
        result = CliRunner().invoke(cli, ["run", "--as-of", day, "--project-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    modes = con.execute("SELECT mode FROM segsql.segsql_runs ORDER BY run_id").fetchall()
    members = con.execute("SELECT entity_id FROM segsql.segsql_memberships").fetchall()
    state = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'segsql_feature%'"
    ).fetchall()
    con.close()
    assert modes == [("full",), ("full",)] and members == [("1",)] and state == []
    plan = CliRunner().invoke(cli, ["compile", "--plan", "--project-dir", str(tmp_path)])
    assert "target 'dev' has `incremental: false`: no feature is kept" in plan.output


def test_a_bad_incremental_option_is_a_profile_error(tmp_path):
    import duckdb
    from click.testing import CliRunner

    from segsql.cli import cli

    cli_warehouse(tmp_path, NOT_INCREMENTAL % "sometimes")
    result = CliRunner().invoke(cli, ["run", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "target 'dev' has `incremental: 'sometimes'`; expected true" in result.output
    assert "Traceback" not in result.output
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    schemas = con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    con.close()
    assert ("segsql",) not in schemas  # nothing written


@pytest.mark.parametrize(
    "line,expected",
    [
        ("lookback: soon", "'lookback' expects a positive duration like 30s"),
        ("lookback: -1h", "'lookback' expects a positive duration like 30s"),
        ("loaded_at: 5", "'loaded_at' expects a column or type name, got 5"),
        ("lookbak: 1h", "did you mean 'lookback'"),
    ],
)
def test_bad_loaded_at_and_lookback(tmp_path, line, expected):
    from click.testing import CliRunner

    from segsql.cli import cli

    from .conftest import write_project

    text = CLI_PROJECT.replace("timestamp: ts, lookback: 1h}", f"timestamp: ts, {line}}}")
    write_project(tmp_path, text)
    result = CliRunner().invoke(cli, ["validate", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "main.yml:5" in result.output, result.output


def test_lookback_is_for_event_sources(tmp_path):
    from click.testing import CliRunner

    from segsql.cli import cli

    from .conftest import write_project

    text = CLI_PROJECT.replace("key: user_id}", "key: user_id, lookback: 1h}", 1)
    write_project(tmp_path, text)
    result = CliRunner().invoke(cli, ["validate", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2 and "unknown key 'lookback'" in result.output, result.output
