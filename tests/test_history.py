"""segsql_membership_history (SCD2 from the change log) on every executing engine, and the
typed per-entity views a dashboard joins with its own tables (docs/tables.md)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlglot import exp

from segsql.runner.run import run_segments
from segsql.state.history import HISTORY, typed_history_view, typed_memberships_view
from segsql.state.tables import CHANGES, MEMBERSHIPS, c

from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, run_data

DAYS = (1, 3, 6, 10)


def run_days(adapter, days=DAYS):
    segments = [PROJECT.segments[n] for n in RUN_SEGMENTS]
    for day in days:
        reload(adapter, run_data(day))
        results = run_segments(adapter, PROJECT, segments, T0 + timedelta(days=day))
        assert {r.status for r in results} == {"success"}, results


def expected_history(adapter):
    """The stretches, replayed in Python from the change rows."""
    rows = adapter.fetch(
        exp.select(
            c("segment"),
            c("entity_type"),
            c("entity_id"),
            c("change"),
            c("changed_at"),
            c("holdout"),
            c("run_id"),
        ).from_(adapter.table(CHANGES))
    )
    open_: dict[tuple, list] = {}
    out = []
    for seg, et, eid, change, at, holdout, _run in sorted(rows, key=lambda r: (r[4], r[6])):
        key = (seg, et, str(eid))
        if change == "entered":
            assert key not in open_
            open_[key] = [seg, et, str(eid), bool(holdout), at, None]
        else:
            stretch = open_.pop(key)
            stretch[5] = at
            out.append(tuple(stretch))
    return sorted(out + [tuple(s) for s in open_.values()], key=str)


def history_rows(adapter, view=HISTORY):
    cols = ["segment", "entity_type", "entity_id", "holdout", "valid_from", "valid_to"]
    rows = adapter.fetch(exp.select(*(c(n) for n in cols)).from_(adapter.table(view)))
    return sorted(((s, t, str(i), bool(h), f, to) for s, t, i, h, f, to in rows), key=str)


def test_history_view_is_the_replayed_change_log(adapter):
    run_days(adapter)
    history = history_rows(adapter)
    assert history == expected_history(adapter)
    closed = [r for r in history if r[5] is not None]
    assert closed and all(r[4] < r[5] for r in closed)  # some members left, [from, to)
    # the current stretches are exactly the stored memberships
    stored = adapter.fetch(
        exp.select(c("segment"), c("entity_id"), c("holdout"), c("entered_at")).from_(
            adapter.table(MEMBERSHIPS)
        )
    )
    current = [(s, i, h, f) for s, _t, i, h, f, to in history if to is None]
    assert sorted(current, key=str) == sorted(
        ((s, str(i), bool(h), f) for s, i, h, f in stored), key=str
    )
    # the typed history of users is the same stretches, with the key's own type
    typed = history_rows(adapter, typed_history_view("user"))
    assert typed == [r for r in history if r[1] == "user"]


def test_typed_views_join_the_entity_table(adapter):
    """The first join a BI user writes: memberships with the users table on the key.
    On Postgres, `bigint = text` fails with the shared table; the typed view joins."""
    run_days(adapter, (3,))
    users = adapter.dialect.table("main", "users")
    for view in (typed_memberships_view("user"), typed_history_view("user")):
        query = (
            exp.select(c("segment", "m"), c("plan", "u"))
            .from_(exp.alias_(adapter.table(view), "m", table=True))
            .join(
                exp.alias_(users, "u", table=True),
                on=exp.EQ(this=c("user_id", "u"), expression=c("entity_id", "m")),
            )
            .where(c("segment", "m").eq(exp.Literal.string("prop_not")))
        )
        rows = adapter.fetch(query)
        assert len(rows) == 16 and {plan for _, plan in rows} == {"pro"}, (view, rows)
    # the key keeps its own type: an integer comes back as an integer
    [(entity_id,)] = adapter.fetch(
        exp.select(c("entity_id")).from_(adapter.table(typed_memberships_view("user"))).limit(1)
    )
    assert isinstance(entity_id, int), type(entity_id)
    # accounts have typed views too, even with no account segment run
    counts = defaultdict(int)
    for view in (typed_memberships_view("account"), typed_history_view("account")):
        counts[view] = adapter.fetch(
            exp.select(exp.func("COUNT", exp.Star())).from_(adapter.table(view))
        )[0][0]
    assert set(counts) == {"segsql_account_memberships", "segsql_account_history"}
