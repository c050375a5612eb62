"""The evaluation of several T in one query (compiler/steps.py, a backfill's batched
steps): on generated condition trees and datasets (tests/reference/strategies.py), the
members at each step equal the independent reference evaluator's at that T, on the
engines that evaluate it (`lateral_queries`: DuckDB and Postgres). 150 cases each,
four T per case (SEGSQL_STEPS_EXAMPLES=N overrides). Derandomized, so CI is reproducible.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import given
from sqlglot import exp

from segsql.compiler import EVALUATION_ID
from segsql.compiler.steps import STEP, steps_evaluation_query
from segsql.runner.fixtures import load_tables
from segsql.state.steps import steps_rows
from segsql.state.tables import c

from .reference.evaluator import members as reference_members
from .reference.strategies import cases, reproducible
from .test_differential import to_project

# around the case's T: days before (windows slide past events), the same T, hours after
SHIFTS = [timedelta(days=-9), timedelta(days=-1, hours=-3), timedelta(0), timedelta(hours=5)]


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def test_steps_equal_the_reference_at_each_T(adapter, engine):
    assert adapter.dialect.lateral_queries
    n = int(os.environ.get("SEGSQL_STEPS_EXAMPLES", 150))
    checked = []

    @reproducible(n)
    @given(case=cases())
    def check(case):
        project = to_project(case.project, adapter.dialect.name)
        load_tables(adapter, project, case.tables, types=case.column_types)
        times = [case.as_of + shift for shift in SHIFTS]
        steps = adapter.temp_table(
            "segsql_steps", steps_rows(adapter.dialect, [(t, "r") for t in times])
        )
        seg = project.segments[case.segment]
        query = steps_evaluation_query(project, seg.entity, [seg], adapter.dialect, steps)
        rows = adapter.fetch(
            exp.select(c(STEP), c(EVALUATION_ID), c(seg.name)).from_(query.subquery("q"))
        )
        for i, T in enumerate(times):
            ours = {str(r[1]) for r in rows if int(r[0]) == i and r[2]}
            theirs = {str(m) for m in reference_members(case.project, case.segment, case.tables, T)}
            assert ours == theirs, f"step {i} at {T}: {sorted(ours)} != {sorted(theirs)}"
            checked.append(bool(theirs))

    check()
    assert len(checked) >= min(n, 50) * len(SHIFTS)
    assert sum(checked) >= len(checked) // 10, "too few steps with members to compare"
    print(f"{engine}: {len(checked)} steps, {sum(checked)} with members")


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
