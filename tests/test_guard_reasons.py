"""The `reason` of a change that a suppression or a priority group causes (SPEC sections
12 and 14) names it, on every executing engine: `{"suppression": NAME}`, or
`{"priority_group": GROUP, "member_of": SEGMENT}` for a member another segment of its
group took over; one whose own `where` no longer holds exits with its parts, suppressed or
not."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlglot import exp

from segsql.runner.fixtures import load_tables
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES

from .test_guards import DATA, PROJECT, T


def reasons(adapter, change: str) -> dict[tuple[str, str], list]:
    rows = adapter.fetch(
        exp.select(exp.column("segment"), exp.column("entity_id"), exp.column("reason"))
        .from_(adapter.table(CHANGES))
        .where(exp.column("change").eq(exp.Literal.string(change)))
    )
    return {(s, str(e)): json.loads(r) for s, e, r in rows}


def test_a_suppressed_or_displaced_member_exits_with_the_guard_as_its_reason(adapter):
    segments = [PROJECT.segments[n] for n in ("trial_users", "winback", "nurture")]
    load_tables(adapter, PROJECT, DATA)
    run_segments(adapter, PROJECT, segments, T)
    users = [dict(u) for u in DATA["users"]]
    for u in users:
        if u["user_id"] == 1:
            u["opt_out"] = True  # unsubscribes: leaves trial_users
        if u["user_id"] == 3:  # unsubscribes and upgrades: its `where` explains the exit
            u.update(opt_out=True, plan="pro")
        if u["user_id"] == 6:
            u["plan"] = "churned"  # winback outranks nurture: 6 moves over
    for seg in segments:  # the views depend on the tables
        adapter.execute(exp.Drop(tables=[adapter.table(seg.name)], kind="VIEW", exists=True))
    load_tables(adapter, PROJECT, {**DATA, "users": users})
    results = run_segments(adapter, PROJECT, segments, T + timedelta(days=1))
    assert {r.status for r in results} == {"success"}, results
    exited = reasons(adapter, "exited")
    assert exited == {
        ("trial_users", "1"): [{"suppression": "unsubscribed"}],
        ("trial_users", "3"): [{"path": "where", "value": False}],
        ("nurture", "6"): [{"priority_group": "lifecycle", "member_of": "winback"}],
    }
    entered = reasons(adapter, "entered")
    assert [p["value"] for p in entered[("winback", "6")]] == [True] * len(
        entered[("winback", "6")]
    )
