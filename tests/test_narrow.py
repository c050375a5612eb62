"""Narrowing (plan/narrow.py, runner/narrow.py): a run evaluates only the entities that
can have changed since the last one, and the members it writes are a full evaluation's.
Each way an entity can change without a new event is shown on its own: a property
changed, a row deleted or added, a `created_at` after the last run, a property test
relative to T, an event leaving a window. The run sequences of test_incremental.py are
the differential proof over generated data (they narrow too)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml
from sqlglot import exp

from segsql.compiler import evaluation_query
from segsql.definitions.project import project_from_docs
from segsql.definitions.yaml import load_text
from segsql.plan.explain import explain_narrowing
from segsql.plan.narrow import Edge, edges
from segsql.runner import narrow, run
from segsql.runner.fixtures import load_tables
from segsql.runner.run import run_segments
from segsql.state.features import SIGNATURES, VALUES
from segsql.state.tables import MEMBERSHIPS, RUNS, c

T1 = datetime(2026, 3, 10, 12)
T2 = T1 + timedelta(days=1)
HOUR = timedelta(hours=1)

SOURCES = {
    "users": {"table": "users", "entity": "user", "key": "user_id", "created_at": "created_at"},
    "events": {
        "table": "events",
        "events_of": "user",
        "key": "user_id",
        "event": "event_name",
        "timestamp": "ts",
    },
}
SEGMENTS = [
    {"name": "buyers", "entity": "user", "where": {"event": "buy", "within": "3d"}},
    {"name": "pros", "entity": "user", "where": {"property": "plan", "eq": "pro"}},
    {"name": "recent", "entity": "user", "where": {"property": "signup_at", "within": "2d"}},
]
TYPES = {
    "users": {
        "user_id": "BIGINT",
        "plan": "TEXT",
        "signup_at": "TIMESTAMP",
        "created_at": "TIMESTAMP",
    },
    "events": {"user_id": "BIGINT", "event_name": "TEXT", "ts": "TIMESTAMP"},
}


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    """Narrowing needs the memberships' transaction (the signatures are written in it)."""
    return request.param


def project_of(segments: list[dict], dialect: str):
    text = yaml.safe_dump({"sources": SOURCES, "segments": segments}, sort_keys=False)
    return project_from_docs(".", [("case.yml", load_text(text, "case.yml"))], dialect)


def user(i: int, plan: str = "free", signup: datetime | None = None, created=None) -> dict:
    return {
        "user_id": i,
        "plan": plan,
        "signup_at": signup or T1 - timedelta(days=30),
        "created_at": created,
    }


def load(adapter, project, users: list[dict], events: list[dict]) -> None:
    for name in project.segments:  # the views read the tables that are made again
        adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
    load_tables(adapter, project, {"users": users, "events": events}, types=TYPES)


@pytest.fixture
def spied(monkeypatch):
    """The narrowing of each run's user evaluation, as prepared."""
    seen: list = []
    real = narrow.prepare_narrowing

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(out)
        return out

    monkeypatch.setattr(run, "prepare_narrowing", spy)
    return seen


def stored(adapter) -> dict[str, set[str]]:
    rows = adapter.fetch(exp.select(c("segment"), c("entity_id")).from_(adapter.table(MEMBERSHIPS)))
    out: dict[str, set[str]] = {}
    for segment, entity in rows:
        out.setdefault(segment, set()).add(str(entity))
    return out


def full(adapter, project, T) -> dict[str, set[str]]:
    segments = list(project.segments.values())
    rows = adapter.fetch(evaluation_query(project, "user", segments, adapter.dialect, T))
    return {s.name: {str(r[0]) for r in rows if r[i + 1]} for i, s in enumerate(segments)}


def affected(adapter, narrowing) -> set[str]:
    return {str(r[0]) for r in adapter.fetch(exp.select(c("entity_id")).from_(narrowing.affected))}


def modes(adapter, T) -> set[str]:
    rows = adapter.fetch(exp.select(c("mode"), c("as_of")).from_(adapter.table(RUNS)))
    return {m for m, at in rows if at == T}


def count(adapter, name: str) -> int:
    return adapter.fetch(exp.select(exp.Count(this=exp.Star())).from_(adapter.table(name)))[0][0]


def reltuples(adapter, name: str) -> float:
    """Postgres's planner estimate of the rows of a table (-1 before its first ANALYZE)."""
    query = (
        exp.select("t.reltuples")
        .from_("pg_class AS t")
        .join("pg_namespace AS n", on="n.oid = t.relnamespace")
        .where(exp.column("relname").eq(exp.Literal.string(name)))
        .where(exp.column("nspname").eq(exp.Literal.string(adapter.schema)))
    )
    return adapter.fetch(query)[0][0]


def test_each_way_an_entity_changes_is_seen(adapter, spied):
    project = project_of(SEGMENTS, adapter.dialect.name)
    segments = list(project.segments.values())
    users = [
        user(1),
        user(2),  # becomes pro
        user(3, "pro"),  # deleted
        user(5, signup=T1 - timedelta(days=1, hours=12)),  # recent at T1, not at T2
        user(6),  # bought at T1 - 2.5 days: a buyer at T1, not at T2
        user(7, "pro", created=T1 + HOUR),  # exists only after T1
        user(8, "pro"),  # untouched
        user(9),  # bought long ago, untouched
        user(10),  # views, which no condition reads, at an edge and after T1
    ]
    events = [
        {"user_id": 6, "event_name": "buy", "ts": T1 - timedelta(days=2, hours=12)},
        {"user_id": 9, "event_name": "buy", "ts": T1 - timedelta(days=20)},
        {"user_id": 10, "event_name": "view", "ts": T1 - timedelta(days=2, hours=12)},
    ]
    load(adapter, project, users, events)
    run_segments(adapter, project, segments, T1)
    assert spied[-1].affected is None  # the first run: full, the signatures written
    assert stored(adapter) == {k: v for k, v in full(adapter, project, T1).items() if v}
    assert stored(adapter)["recent"] == {"5"} and stored(adapter)["buyers"] == {"6"}
    if adapter.dialect.name == "postgres":  # the rebuilt state analyzed (Adapter.analyze)
        assert reltuples(adapter, VALUES) == count(adapter, VALUES) > 0

    users = [u for u in users if u["user_id"] != 3] + [user(4, "pro")]
    users[1]["plan"] = "pro"
    events.append({"user_id": 1, "event_name": "buy", "ts": T2 - HOUR})
    events.append({"user_id": 10, "event_name": "view", "ts": T2 - HOUR})
    load(adapter, project, users, events)
    run_segments(adapter, project, segments, T2)
    narrowing = spied[-1]
    assert narrowing.affected is not None and narrowing.previous == T1
    # each way in, none of the untouched users (8, 9, 10)
    assert affected(adapter, narrowing) == {"1", "2", "3", "4", "5", "6", "7"}
    if adapter.dialect.name == "postgres":  # probed by the semi-joins: indexed (lookup_table)
        indexes = (
            exp.select("indexname")
            .from_("pg_indexes")
            .where(exp.column("tablename").eq(exp.Literal.string("segsql_affected_user")))
        )
        assert adapter.fetch(indexes) == [("segsql_affected_user_entity_id",)]
    assert modes(adapter, T2) == {"incremental"}
    expected = full(adapter, project, T2)
    assert stored(adapter) == {k: v for k, v in expected.items() if v}
    assert expected["pros"] == {"2", "4", "7", "8"} and expected["buyers"] == {"1"}
    assert expected["recent"] == set()


def test_a_lost_signature_table_or_a_run_of_some_segments_evaluates_in_full(adapter, spied):
    project = project_of(SEGMENTS, adapter.dialect.name)
    segments = list(project.segments.values())
    users = [user(1, "pro"), user(2)]
    load(adapter, project, users, [])
    for day in range(3):
        run_segments(adapter, project, segments, T1 + timedelta(days=day))
    assert spied[-1].affected is not None
    adapter.execute(exp.Drop(tables=[adapter.table(SIGNATURES)], kind="TABLE"))
    users[1]["plan"] = "pro"
    load(adapter, project, users, [])
    T = T1 + timedelta(days=3)
    run_segments(adapter, project, segments, T)
    assert spied[-1].affected is None  # all signatures lost: every entity changed
    assert stored(adapter)["pros"] == {"1", "2"}
    # a run of one segment: the others did not last run with the new signatures
    run_segments(adapter, project, segments[:1], T + HOUR)
    users[0]["plan"] = "free"
    load(adapter, project, users, [])
    run_segments(adapter, project, segments, T + 2 * HOUR)
    assert spied[-1].affected is None
    assert stored(adapter)["pros"] == {"2"} == full(adapter, project, T + 2 * HOUR)["pros"]
    run_segments(adapter, project, segments, T + 3 * HOUR)
    assert spied[-1].affected is not None


@pytest.mark.parametrize(
    ("where", "extra", "why"),
    [
        ({"property": "plan", "eq": "pro"}, {"min_membership": "1d"}, "run rules"),
        (
            {"event": "buy", "where": {"property": "expires_at", "within": "3d"}},
            {},
            "event property is compared with a time relative to T",
        ),
        ({"sql": "plan = 'pro'"}, {}, "sql condition"),
    ],
)
def test_what_narrowing_cannot_see_is_evaluated_in_full(where, extra, why):
    project = project_of([{"name": "s", "entity": "user", "where": where, **extra}], "duckdb")
    found = edges(project, "user", list(project.segments.values()))
    assert isinstance(found, str) and why in found


def test_the_edges_are_each_condition_durations_for_the_events_it_reads():
    day = 86400
    project = project_of(SEGMENTS, "duckdb")
    found = edges(project, "user", list(project.segments.values()))
    # the property's 2d is a test relative to T (`timed`), not an edge of any event
    assert found.shifts == (Edge("events", 0, ("buy",)), Edge("events", 3 * day, ("buy",)))
    assert [cond.prop.column for cond in found.timed] == ["signup_at"]
    more = [
        {"name": "idle", "entity": "user", "where": {"not": {"event": "*", "within": "7d"}}},
        {
            "name": "opens",
            "entity": "user",
            "where": {"event": "open", "since_nth_last": {"event": "send", "n": 2}},
        },
        {
            "name": "abandoned",
            "entity": "user",
            "where": {
                "sequence": {
                    "within": "1h",
                    "steps": [{"event": "cart"}, {"event": "buy", "absent": True}],
                }
            },
        },
    ]
    project = project_of(SEGMENTS + more, "duckdb")
    found = edges(project, "user", list(project.segments.values()))
    assert found.shifts == (
        Edge("events", 0, None),
        Edge("events", 3600, ("buy", "cart")),
        Edge("events", 3 * day, ("buy",)),
        Edge("events", 7 * day, None),
    )


def test_engines_without_transactions_do_not_narrow():
    class NoTransactions:
        SUPPORTS_TRANSACTIONS = False

    project = project_of(SEGMENTS, "clickhouse")
    segments = list(project.segments.values())
    found = narrow.prepare_narrowing(
        NoTransactions(), project, "user", segments, T1, last_runs={}, full=lambda s: False
    )
    assert found is None


def test_a_segment_that_cannot_be_narrowed_is_evaluated_in_a_batch_of_its_own(adapter, spied):
    held = {"name": "held", "entity": "user", "where": {"property": "plan", "eq": "pro"}}
    project = project_of([*SEGMENTS, {**held, "min_membership": "1h"}], adapter.dialect.name)
    segments = list(project.segments.values())
    users = [user(1, "pro"), user(2)]
    load(adapter, project, users, [])
    run_segments(adapter, project, segments, T1)
    users[0]["plan"], users[1]["plan"] = "free", "pro"
    load(adapter, project, users, [])
    results = run_segments(adapter, project, segments, T2)
    assert {r.segment: r.batch for r in results} == {"buyers": 3, "pros": 3, "recent": 3, "held": 1}
    assert spied[-2].affected is not None and spied[-1] is None  # the batch, then `held`
    assert stored(adapter)["pros"] == {"2"} and stored(adapter)["held"] == {"2"}


def test_compile_plan_says_what_is_narrowed_and_what_is_not():
    more = [{"name": "q", "entity": "user", "where": {"sql": "plan = 'pro'"}}]
    project = project_of(SEGMENTS + more, "duckdb")
    lines = explain_narrowing(project, "user", list(project.segments.values()))
    assert lines == [
        "  narrowing (DuckDB, Postgres): 3 segment(s) evaluate only the users that can have "
        "changed since their last run, found from:",
        "    rows of buy in events since the last run, and at T-3d",
        "    the user's row: a changed property; an added or deleted row; created_at after "
        "the last run; signup_at within 2d",
        "  evaluated in full every run: q (a sql condition can read anything)",
    ]


PARENTS = {
    "users": {**SOURCES["users"], "parents": {"account": "account_id"}},
    "accounts": {
        "table": "accounts",
        "entity": "account",
        "key": "account_id",
        "created_at": "created_at",
    },
    "events": SOURCES["events"],
}
PARENT_TYPES = {
    "users": {**TYPES["users"], "account_id": "BIGINT"},
    "accounts": {"account_id": "BIGINT", "tier": "TEXT", "created_at": "TIMESTAMP"},
    "events": TYPES["events"],
}


def test_a_parent_condition_on_the_parents_row_is_narrowed(adapter, spied):
    """A user's membership follows its account's row (part of the user's signature) and
    the account's `created_at`: only the users of a changed, deleted or new account are
    evaluated."""
    segments = [
        {
            "name": "enterprise",
            "entity": "user",
            "where": {"parent": "account", "where": {"property": "tier", "eq": "enterprise"}},
        },
        {"name": "solo", "entity": "user", "where": {"not": {"parent": "account"}}},
    ]
    text = yaml.safe_dump({"sources": PARENTS, "segments": segments}, sort_keys=False)
    project = project_from_docs(".", [("case.yml", load_text(text, "case.yml"))], "duckdb")
    found = edges(project, "user", list(project.segments.values()))
    assert found.parents == (("account", "account_id"),)
    recent = {"parent": "account", "where": {"property": "created_at", "within": "3d"}}
    blocked = [{"name": "recent", "entity": "user", "where": recent}]
    text_b = yaml.safe_dump({"sources": PARENTS, "segments": blocked}, sort_keys=False)
    project_b = project_from_docs(".", [("case.yml", load_text(text_b, "case.yml"))], "duckdb")
    why = edges(project_b, "user", list(project_b.segments.values()))
    assert why == "a parent's property is compared with a time relative to T"
    project = project_from_docs(
        ".", [("case.yml", load_text(text, "case.yml"))], adapter.dialect.name
    )

    def account(i, tier, created=None):
        return {"account_id": i, "tier": tier, "created_at": created}

    accounts = [
        account(1, "enterprise"),
        account(2, "free"),  # becomes enterprise
        account(3, "enterprise"),  # deleted
        account(4, "enterprise", T1 + HOUR),  # exists only after T1
    ]
    users = [{**user(i), "account_id": a} for i, a in [(1, 1), (2, 2), (3, 3), (4, 4), (5, None)]]
    users.append({**user(6), "account_id": 1})

    def load_all():
        for name in project.segments:
            adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
        tables = {"users": users, "accounts": accounts, "events": []}
        load_tables(adapter, project, tables, types=PARENT_TYPES)

    load_all()
    run_segments(adapter, project, list(project.segments.values()), T1)
    assert stored(adapter) == {"enterprise": {"1", "3", "6"}, "solo": {"4", "5"}}
    accounts[1]["tier"] = "enterprise"
    del accounts[2]
    load_all()
    run_segments(adapter, project, list(project.segments.values()), T2)
    narrowing = spied[-1]
    assert narrowing.affected is not None
    assert affected(adapter, narrowing) == {"2", "3", "4"}
    assert stored(adapter) == {"enterprise": {"1", "2", "4", "6"}, "solo": {"3", "5"}}


def test_an_event_table_without_an_index_on_its_timestamp_is_named(adapter, caplog):
    """On Postgres, a run that keeps state warns of each event table whose timestamp no
    index leads (each incremental run would scan all of it), with the statement that
    makes one; an index led by another column does not count, a BRIN one does; never on
    an engine that skips blocks by itself."""
    project = project_of(SEGMENTS, adapter.dialect.name)
    segments = list(project.segments.values())
    load(adapter, project, [user(1)], [{"user_id": 1, "event_name": "buy", "ts": T1}])

    def warned(T) -> list[str]:
        caplog.clear()
        with caplog.at_level("WARNING", logger="segsql.run"):
            run_segments(adapter, project, segments, T)
        return [r.getMessage() for r in caplog.records if "has no index on" in r.getMessage()]

    def index(*columns: str, using: str | None = None) -> None:
        ordered = [exp.Ordered(this=exp.column(name)) for name in columns]
        params = exp.IndexParameters(columns=ordered, using=using and exp.var(using))
        table = adapter.dialect.table("events")
        adapter.execute(exp.Create(this=exp.Index(table=table, params=params), kind="INDEX"))

    if adapter.dialect.name != "postgres":
        assert warned(T1) == []
        return
    expected = [
        "events has no index on ts: each incremental run scans all of it for the rows "
        'since the last run; create one (CREATE INDEX ON "events"("ts"))'
    ]
    assert warned(T1) == expected
    index("user_id", "ts")
    assert warned(T1 + HOUR) == expected
    index("ts", using="BRIN")
    assert warned(T2) == []
