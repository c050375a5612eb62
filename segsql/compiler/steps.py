"""The evaluation of several T at once: a backfill's steps in one query (runner/backfill.py).

The evaluation query of a run renders T as a literal. Rendered with T as a column of a
steps table instead (`Conditions` takes an expression), and joined LATERAL to that
table, it is the same query at every step: an engine that decorrelates it (DuckDB)
evaluates all the steps set-based, with T as a column of every scan; one that does not
(Postgres) runs it once per step, inside one statement. Either way it is the query a run
at that T evaluates, so its rows are what each run would have computed.
"""

from __future__ import annotations

from sqlglot import exp

from ..dialects.base import Dialect
from ..model.types import Project, Segment
from . import evaluation_query

STEP = "segsql_step"  # the step's number, 0 for the first
STEP_T = "segsql_t"  # its T, a timestamp (the type a run's T literal has)
STEPS_ALIAS = "segsql_steps"


def steps_evaluation_query(
    project: Project, entity: str, segments: list[Segment], d: Dialect, steps: exp.Table
) -> exp.Select:
    """One row per step and entity existing at its T: STEP, STEP_T, then the columns of
    `evaluation_query` at that T, the reasons' included. `steps` has STEP and STEP_T."""
    T = exp.column(exp.to_identifier(STEP_T, quoted=True), table=exp.to_identifier(STEPS_ALIAS))
    inner = evaluation_query(project, entity, segments, d, T, reasons=True)
    lateral = exp.Lateral(
        this=inner.subquery(copy=False), alias=exp.TableAlias(this=exp.to_identifier("segsql_e"))
    )
    step = exp.column(exp.to_identifier(STEP, quoted=True), table=exp.to_identifier(STEPS_ALIAS))
    return (
        exp.select(step, T.copy(), exp.Column(this=exp.Star(), table=exp.to_identifier("segsql_e")))
        .from_(exp.alias_(steps.copy(), STEPS_ALIAS, table=True))
        .join(lateral, copy=False)
    )
