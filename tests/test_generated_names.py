"""Names segsql generates next to the user's: segments may be named like the aliases the
compiled SQL gives its own tables (`e`, `s1`, `q2` ...; ClickHouse resolves a SELECT alias
anywhere in its query, so a segment column named `s1` once shadowed the scan `s1` it was
computed from), and long names must not meet Postgres's 63-byte cut."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import yaml
from sqlglot import exp

from segsql.compiler import view_query
from segsql.definitions.project import project_from_docs
from segsql.definitions.yaml import load_text
from segsql.dialects import get_dialect
from segsql.errors import DefinitionError
from segsql.runner.fixtures import load_tables
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS

T = datetime(2026, 3, 1)
SOURCES = {
    "accounts": {"table": "accounts", "entity": "account", "key": "account_id"},
    "users": {
        "table": "users",
        "entity": "user",
        "key": "user_id",
        "parents": {"account": "account_id"},
    },
    "events": {
        "table": "events",
        "events_of": "user",
        "key": "user_id",
        "event": "event_name",
        "timestamp": "ts",
    },
}
LOGIN = {"event": "login", "within": "7d", "count": {"gte": 2}}
EVER = {"event": "buy", "count": {"gte": 1}}  # kept between runs
SEGMENTS = [
    # each name is an alias of the evaluation query that reads the condition
    {"name": "e", "entity": "user", "where": {"property": "plan", "eq": "pro"}},
    {"name": "s1", "entity": "user", "where": LOGIN},
    {"name": "s2", "entity": "user", "where": {"all": [LOGIN, EVER]}},
    {
        "name": "q1",
        "entity": "user",
        "where": {"sequence": {"steps": [{"event": "login"}, {"event": "buy"}], "within": "30d"}},
    },
    {
        "name": "p1",
        "entity": "user",
        "where": {"parent": "account", "where": {"property": "tier", "eq": "gold"}},
    },
    {
        "name": "m1",
        "entity": "account",
        "where": {"members": "user", "where": EVER, "count": {"gte": 1}},
    },
]
DATA = {
    "accounts": [{"account_id": 1, "tier": "gold"}, {"account_id": 2, "tier": "free"}],
    "users": [
        {"user_id": 1, "plan": "pro", "account_id": 1},
        {"user_id": 2, "plan": "free", "account_id": 2},
        {"user_id": 3, "plan": "free", "account_id": 1},
    ],
    "events": [
        {"user_id": 1, "event_name": "login", "ts": datetime(2026, 2, 27)},
        {"user_id": 1, "event_name": "login", "ts": datetime(2026, 2, 28)},
        {"user_id": 1, "event_name": "buy", "ts": datetime(2026, 2, 28, 1)},
        {"user_id": 2, "event_name": "login", "ts": datetime(2026, 2, 20)},
        {"user_id": 3, "event_name": "login", "ts": datetime(2026, 2, 28)},
        {"user_id": 3, "event_name": "login", "ts": datetime(2026, 2, 28, 2)},
    ],
}
EXPECTED = {"e": {"1"}, "s1": {"1", "3"}, "s2": {"1"}, "q1": {"1"}, "p1": {"1", "3"}, "m1": {"1"}}


def test_segments_named_like_generated_aliases(adapter, engine):
    text = yaml.safe_dump({"sources": SOURCES, "segments": SEGMENTS}, sort_keys=False)
    project = project_from_docs(
        ".", [("names.yml", load_text(text, "names.yml"))], adapter.dialect.name
    )
    load_tables(adapter, project, DATA)
    for as_of in (T - timedelta(days=1), T):  # the second run starts from kept state
        results = run_segments(adapter, project, list(project.segments.values()), as_of)
        assert {r.status for r in results} == {"success"}, results
        # evaluated together (a failing batch falls back to one segment at a time), also
        # where the second run narrows (p1's parent condition reads the account's row)
        batches = {**dict.fromkeys(EXPECTED, 5), "m1": 1}
        assert {r.segment: r.batch for r in results} == batches
    assert {r.mode for r in results if r.segment == "s2"} == {"incremental"}
    rows = adapter.fetch(
        exp.select(exp.column("segment"), exp.column("entity_id")).from_(adapter.table(MEMBERSHIPS))
    )
    stored: dict[str, set[str]] = {n: set() for n in EXPECTED}
    for segment, entity_id in rows:
        stored[segment].add(str(entity_id))
    assert stored == EXPECTED


LONG = "lifecycle_" + "x" * 45  # 55 bytes: the guard columns would be cut at 63
GROUPED = {
    "sources": SOURCES,
    "suppressions": [{"name": LONG + "_optout", "where": {"property": "plan", "eq": "none"}}],
    "segments": [
        {
            "name": LONG + "_a",
            "priority_group": "g",
            "priority": 1,
            "where": {"property": "plan", "eq": "pro"},
        },
        {
            "name": LONG + "_b",
            "priority_group": "g",
            "priority": 2,
            "where": {"property": "plan", "is_null": False},
        },
    ],
}


def test_long_names_keep_their_guard_columns_apart(adapter):
    """Two segments of a priority group whose names share their first 55 bytes: each
    keeps its own eligibility column, so the displaced member's reason names the rival."""
    text = yaml.safe_dump(GROUPED, sort_keys=False)
    project = project_from_docs(
        ".", [("long.yml", load_text(text, "long.yml"))], adapter.dialect.name
    )
    users = [
        {"user_id": 1, "plan": "free", "account_id": 1},
        {"user_id": 2, "plan": "pro", "account_id": 1},
    ]
    load_tables(adapter, project, {**DATA, "users": users})
    segments = list(project.segments.values())
    run_segments(adapter, project, segments, T)
    for seg in segments:  # the view depends on the table
        adapter.execute(exp.Drop(tables=[adapter.table(seg.name)], kind="VIEW", exists=True))
    load_tables(adapter, project, {**DATA, "users": [{**users[0], "plan": "pro"}, users[1]]})
    results = run_segments(adapter, project, segments, T + timedelta(days=1))
    assert {r.status for r in results} == {"success"}, [r.error for r in results]
    rows = adapter.fetch(
        exp.select(exp.column("segment"), exp.column("entity_id"), exp.column("reason"))
        .from_(adapter.table(CHANGES))
        .where(exp.column("change").eq(exp.Literal.string("exited")))
    )
    assert [(s, str(e), json.loads(r)) for s, e, r in rows] == [
        (LONG + "_b", "1", [{"priority_group": "g", "member_of": LONG + "_a"}])
    ]


def test_a_name_longer_than_postgres_keeps_is_refused(tmp_path):
    """Postgres cuts names at 63 bytes (the view would get another name): refused before
    anything is compiled, naming the file and line."""
    name = "a" * 64
    text = yaml.safe_dump(
        {"sources": SOURCES, "segments": [{"name": name, "entity": "user", "where": LOGIN}]}
    )
    project = project_from_docs(".", [("long.yml", load_text(text, "long.yml"))], "postgres")
    with pytest.raises(DefinitionError) as err:
        view_query(project, project.segments[name], get_dialect("postgres"))
    assert str(err.value).startswith("long.yml:")
    assert "64 bytes long; postgres keeps names of at most 63 bytes" in str(err.value)
    view_query(project, project.segments[name], get_dialect("duckdb"))  # DuckDB keeps it
