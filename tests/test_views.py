"""A run replaces a view only when it must (runner/views.py): missing, built from other
SQL than last time, or on --full-refresh; on every executing engine."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlglot import exp

from segsql.runner.run import run_segments
from segsql.state.history import HISTORY
from segsql.state.tables import c
from segsql.state.views import VIEWS

from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, run_data

SEGMENTS = [PROJECT.segments[n] for n in RUN_SEGMENTS]


def replaced_views(adapter, project, day, **options) -> list[str]:
    """The views a run at T0 + day (re)creates."""
    names: list[str] = []
    replace = adapter.replace_view

    def counting(name, query):
        names.append(name)
        replace(name, query)

    adapter.replace_view = counting
    try:
        segments = [project.segments[n] for n in RUN_SEGMENTS]
        results = run_segments(adapter, project, segments, T0 + timedelta(days=day), **options)
    finally:
        del adapter.replace_view
    assert {r.status for r in results} == {"success"}, results
    return names


def members(adapter, view: str) -> list:
    return sorted(adapter.fetch(exp.select(c("entity_id")).from_(adapter.table(view))), key=str)


def test_views_are_replaced_only_when_they_change(adapter):
    reload(adapter, run_data(3))
    first = replaced_views(adapter, PROJECT, 3)
    assert set(RUN_SEGMENTS) | {HISTORY} <= set(first)
    before = {name: members(adapter, name) for name in RUN_SEGMENTS}

    # the same project again: no view is touched, and each still answers
    assert replaced_views(adapter, PROJECT, 4, force=True) == []
    assert {name: members(adapter, name) for name in RUN_SEGMENTS} == before

    # one definition changed: its view only
    seg = dataclasses.replace(PROJECT.segments["holdout_half"], holdout=37)
    edited = dataclasses.replace(PROJECT, segments={**PROJECT.segments, seg.name: seg})
    assert replaced_views(adapter, edited, 5, force=True) == ["holdout_half"]

    # a view dropped behind segsql's back is made again
    adapter.execute(exp.Drop(tables=[adapter.table("ev_count")], kind="VIEW", exists=True))
    assert replaced_views(adapter, edited, 6, force=True) == ["ev_count"]
    assert members(adapter, "ev_count") == before["ev_count"]

    # --full-refresh replaces every one of them
    again = replaced_views(adapter, edited, 7, force=True, full_refresh=True)
    assert sorted(again) == sorted(first)

    # without the record (segsql_views dropped) every view is made again, then recorded
    adapter.execute(exp.Drop(tables=[adapter.table(VIEWS)], kind="TABLE", exists=True))
    assert sorted(replaced_views(adapter, edited, 8, force=True)) == sorted(first)
    assert replaced_views(adapter, edited, 9, force=True) == []
