"""Suppressions and priority groups (SPEC section 14) change the compiled SQL: the live
views and the run's evaluation give the same, guarded members on every executing engine."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from segsql.definitions.project import load_project
from segsql.runner.fixtures import load_tables, members_at
from segsql.runner.run import run_segments
from segsql.state.tables import MEMBERSHIPS

from .conftest import HERE

PROJECT = load_project(HERE / "projects" / "guards")
T = datetime(2026, 3, 1, 12)

USERS = [
    # id, plan, opt_out, score
    (1, "trial", False, 0),  # a plain trial user
    (2, "trial", True, 0),  # unsubscribed
    (3, "trial", None, 0),  # opt_out NULL: not suppressed
    (4, "trial", False, 0),  # complained 2 days ago
    (5, "churned", False, 7),  # winback wins over nurture and newsletter
    (6, "pro", False, 7),  # nurture wins over newsletter
    (7, "pro", False, 2),  # newsletter only
    (8, "churned", True, 7),  # unsubscribed: in no segment of the group (suppressions first)
    (9, "pro", False, 0),  # no segment
    (10, "trial", False, 0),  # complained 40 days ago: outside the window
]
DATA = {
    "users": [
        {"user_id": i, "plan": p, "opt_out": o, "score": s, "account_id": 1 if i < 5 else 2}
        for i, p, o, s in USERS
    ],
    "accounts": [{"account_id": 1}, {"account_id": 2}],
    "events": [
        {"user_id": 4, "event_name": "spam_report", "ts": datetime(2026, 2, 27)},
        {"user_id": 10, "event_name": "spam_report", "ts": datetime(2026, 1, 20)},
    ],
}
EXPECTED = {
    "trial_users": {"1", "3", "10"},
    "trial_any": {"1", "2", "3", "4", "10"},
    "trial_subscribed": {"1", "3", "4", "10"},
    "refers_trial": {"1", "3", "10"},  # in_segment sees the members after suppressions
    "winback": {"5"},
    "nurture": {"6"},
    "newsletter": {"7"},
    "in_nurture": {"6"},  # ... and after the priority group
    # `members:` counts users by its own condition: unsuppressed, ungrouped (4 and 6 users)
    "busy_accounts": {"1", "2"},
}
# the live views (T = now): only time-independent segments, as `complained` reads a window
VIEW_EXPECTED = {
    "trial_any": {"1", "2", "3", "4", "10"},
    "winback": {"5"},
    "nurture": {"6"},
    "newsletter": {"7"},
    "in_nurture": {"6"},
}


def test_evaluation_applies_suppressions_and_priorities(adapter):
    load_tables(adapter, PROJECT, DATA)
    got = {name: members_at(adapter, PROJECT, name, T) for name in EXPECTED}
    assert got == EXPECTED


def test_run_and_views_apply_them_alike(adapter):
    load_tables(adapter, PROJECT, DATA)
    results = run_segments(adapter, PROJECT, list(PROJECT.segments.values()), T)
    assert {r.status for r in results} == {"success"}, results
    rows = adapter.fetch(
        exp.select(exp.column("segment"), exp.column("entity_id")).from_(adapter.table(MEMBERSHIPS))
    )
    stored: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for segment, entity_id in rows:
        stored[segment].add(str(entity_id))
    assert stored == EXPECTED
    for name, expected in VIEW_EXPECTED.items():
        ids = {str(r[0]) for r in adapter.fetch(exp.select("entity_id").from_(adapter.table(name)))}
        assert ids == expected, name


def test_guard_columns_name_the_suppression_and_the_group(adapter):
    """The evaluation table carries what a change's reason needs (compiler/guards.py)."""
    from segsql.compiler import evaluation_query

    load_tables(adapter, PROJECT, DATA)
    segs = [PROJECT.segments[n] for n in ("trial_users", "newsletter")]
    query = evaluation_query(PROJECT, "user", segs, adapter.dialect, T)
    names = [e.alias_or_name for e in query.expressions]
    rows = {  # ClickHouse returns booleans as 0 / 1
        str(r[0]): {k: bool(v) for k, v in zip(names, r, strict=True)} for r in adapter.fetch(query)
    }
    assert rows["2"]["segsql_suppressed_unsubscribed"]
    assert rows["4"]["segsql_suppressed_complained"]
    assert not rows["1"]["segsql_suppressed_unsubscribed"]
    # user 5 is eligible for winback, nurture and newsletter: winback is the winner
    assert rows["5"]["segsql_eligible_winback"]
    assert rows["5"]["segsql_eligible_newsletter"]
    assert not rows["5"]["newsletter"]
    assert not rows["8"]["segsql_eligible_winback"]
