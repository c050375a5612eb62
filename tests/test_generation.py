"""Dialect.sql generates without sqlglot's defensive copy of the tree: sound only while
that gives the text a copy would, and the tree (which some of sqlglot's transforms
rewrite in place) then reads the same again. Checked for every statement of runs (full
and incremental), a backfill, explain and diff on each executing engine, and for the
compiled views and evaluations of every compile-only dialect."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segsql.compiler import evaluation_query, view_query
from segsql.dialects import get_dialect
from segsql.runner.backfill import backfill
from segsql.runner.diff import diff
from segsql.runner.explain import explain
from segsql.runner.run import run_segments

from .test_engines import PROJECT, RUN_SEGMENTS, T0, reload, run_data

SEGMENTS = [PROJECT.segments[n] for n in RUN_SEGMENTS]


def checking(dialect, monkeypatch) -> list[str]:
    """Make `dialect.sql` fail where generating without a copy reads differently from
    generating a copy, or where the tree, once generated, would read differently next
    time; returns the texts."""
    render = dialect.sql
    texts: list[str] = []

    def checked(expression, pretty=False):
        copied = render(expression.copy(), pretty)
        text = render(expression, pretty)
        assert text == copied, text[:300]
        assert render(expression, pretty) == text, text[:300]
        texts.append(text)
        return text

    monkeypatch.setattr(dialect, "sql", checked)
    return texts


def test_generating_a_run_without_copies_reads_the_same(adapter, monkeypatch):
    texts = checking(adapter.dialect, monkeypatch)
    reload(adapter, run_data(3))
    start = T0 + timedelta(days=1)
    backfill(adapter, PROJECT, SEGMENTS, [start, start + timedelta(days=1)])
    for day in (3, 6):  # the first from the backfill's state, the second after new rows
        reload(adapter, run_data(day))
        results = run_segments(adapter, PROJECT, SEGMENTS, T0 + timedelta(days=day))
        assert {r.status for r in results} == {"success"}, results
    at = T0 + timedelta(days=6)
    explain(adapter, PROJECT, PROJECT.segments["ev_count"], "1", at)
    diff(adapter, PROJECT, SEGMENTS, at)
    assert len(texts) > 50


@pytest.mark.parametrize("name", ["snowflake", "bigquery", "redshift", "trino"])
def test_generating_compiled_trees_without_copies_reads_the_same(name, monkeypatch):
    d = get_dialect(name)
    texts = checking(d, monkeypatch)
    for seg in PROJECT.enabled.values():
        d.sql(view_query(PROJECT, seg, d))
    for entity in {s.entity for s in PROJECT.enabled.values()}:
        segments = [s for s in PROJECT.enabled.values() if s.entity == entity]
        d.sql(evaluation_query(PROJECT, entity, segments, d, T0))
    assert len(texts) > len(PROJECT.enabled)
