"""The `reason` column of the change rows (SPEC section 12): joined from the run's
evaluation table for the changed entities only, in the statement that appends them.

A SegmentRun carries its `Reasons`: the evaluation table and the segment's reason
expression over that table's columns (compiler/reasons.py builds it, the runner passes
it on), so the writes here only join and pick.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ..compiler import ENTITY_MISSING, EVALUATION_ID
from ..dialects.base import lit
from .tables import c

SOURCE = "segsql_r"  # the alias of the evaluation table that reason expressions read


@dataclass
class Reasons:
    """Where a segment's reasons come from."""

    evaluated: exp.Table  # the run's evaluation table of the segment's entity type
    entity_type: str
    expression: exp.Expression  # JSON text over the columns of SOURCE


def add_reason(
    query: exp.Select,
    alias: str,
    runs: list,
    by_segment: bool = True,
    also: exp.Expression | None = None,
) -> exp.Select:
    """Append `reason` to a select of change rows over `alias` (which has entity_type,
    entity_id and, `by_segment`, segment): the reason of the row's segment among `runs`
    (SegmentRuns of one entity type), ENTITY_MISSING for an entity without an evaluation
    row (deleted, hidden by `created_at`, or of the segment's former entity type), NULL
    for segments written without reasons. `also`: one more condition on the evaluation
    row (a backfill's step, state/steps.py)."""
    with_reasons = [run for run in runs if run.reasons is not None]
    if not with_reasons:
        return query.select(exp.null(), copy=False)
    first = with_reasons[0].reasons
    on = exp.and_(
        exp.EQ(this=c(EVALUATION_ID, SOURCE), expression=c("entity_id", alias)),
        exp.EQ(this=c("entity_type", alias), expression=lit(first.entity_type)),
        *([also] if also is not None else []),
    )
    query.join(
        exp.alias_(first.evaluated.copy(), SOURCE, table=True),
        on=on,
        join_type="left",
        copy=False,
    )
    missing = exp.If(this=c(EVALUATION_ID, SOURCE).is_(exp.null()), true=lit(ENTITY_MISSING))
    if not by_segment:  # one segment's rows
        reason = exp.Case(ifs=[missing], default=first.expression.copy())
    else:
        reason = exp.Case(
            ifs=[
                missing,
                *(
                    exp.If(
                        this=c("segment", alias).eq(lit(run.segment)),
                        true=run.reasons.expression.copy(),
                    )
                    for run in with_reasons
                ),
            ]
        )
    return query.select(exp.alias_(reason, "reason", quoted=True, copy=False), copy=False)
