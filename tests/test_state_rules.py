"""Rules of the tables a run writes, on every executing engine (docs/tables.md): the
entries of a segment's first run are `initial`, a member keeps the holdout flag of its
`entered` row when `holdout:` changes, and a segment whose `entity:` changed exits the
old entities (the same ids are other entities)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlglot import exp

from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, c

from .test_engines import PROJECT, T0, reload, run_data


def rows(adapter, table, *columns, where=None):
    query = exp.select(*(c(n) for n in columns)).from_(adapter.table(table))
    return adapter.fetch(query.where(where) if where is not None else query)


def with_segment(**changes):
    """PROJECT with holdout_half (every user, 50% held out) changed."""
    seg = dataclasses.replace(PROJECT.segments["holdout_half"], **changes)
    return dataclasses.replace(PROJECT, segments={**PROJECT.segments, seg.name: seg}), seg


def test_initial_sticky_holdout_and_entity_change(adapter):
    reload(adapter, run_data(3))
    project, seg = with_segment()
    T1, T2, T3 = (T0 + timedelta(days=k) for k in (3, 4, 5))
    assert run_segments(adapter, project, [seg], T1)[0].status == "success"
    first = rows(adapter, CHANGES, "change", "initial", "holdout")
    assert first and {(ch, i) for ch, i, _ in first} == {("entered", True)}
    flags = dict(rows(adapter, MEMBERSHIPS, "entity_id", "holdout"))
    assert set(flags.values()) == {True, False}

    # holdout 50 -> 0: nobody is re-flagged, no change row is written
    project, seg = with_segment(holdout=0)
    [result] = run_segments(adapter, project, [seg], T2)
    assert (result.status, result.entered, result.exited) == ("success", 0, 0)
    assert dict(rows(adapter, MEMBERSHIPS, "entity_id", "holdout")) == flags
    assert len(rows(adapter, CHANGES, "change")) == len(first)

    # the segment now selects accounts: every user exits, the accounts enter (not initial)
    project, seg = with_segment(entity="account", holdout=0)
    [result] = run_segments(adapter, project, [seg], T3)
    assert result.status == "success" and result.exited == len(flags) and result.entered > 0
    last = rows(
        adapter,
        CHANGES,
        "entity_type",
        "change",
        "initial",
        where=c("changed_at").eq(adapter.dialect.instant(T3)),
    )
    assert {(t, ch, i) for t, ch, i in last} == {
        ("user", "exited", False),
        ("account", "entered", False),
    }
    assert {t for (t,) in rows(adapter, MEMBERSHIPS, "entity_type")} == {"account"}
