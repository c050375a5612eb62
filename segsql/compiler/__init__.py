"""From the model to SQL: the live view of a segment, and the evaluation query of a run."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..dialects.base import Dialect
from ..model.guards import guarded
from ..model.types import Condition, Project, Segment
from ..plan import EntityPlan, plan_entity
from .guards import guard_outputs
from .reasons import ENTITY_MISSING, reason_columns, reason_expr
from .render import ENTITY, EVALUATION_ID, Renderer

__all__ = [
    "ENTITY_MISSING",
    "EVALUATION_ID",
    "Renderer",
    "evaluation_plan",
    "evaluation_query",
    "holdout_expr",
    "plan_for",
    "reason_expr",
    "scan_queries",
    "view_query",
]


def plan_for(
    project: Project,
    entity: str,
    outputs: dict[str, Condition],
    dialect: Dialect,
    states: dict | None = None,
) -> EntityPlan:
    """The plan of `outputs` over `entity` for a dialect: the one place that reads the
    dialect's capabilities (a row store fuses its scans, see `plan_entity`). `states`:
    the kept features an incremental run reads (plan/incremental.py)."""
    return plan_entity(project, entity, outputs, fuse=dialect.row_store, states=states)


def holdout_expr(d: Dialect, segment: Segment, entity_text: exp.Expression) -> exp.Expression:
    """TRUE for the held-out members: a stable hash of (segment name, entity id text)."""
    if not segment.holdout:
        return exp.false()
    seed = exp.DPipe(this=exp.Literal.string(f"{segment.name}:"), expression=entity_text, safe=True)
    return exp.LT(this=d.holdout_bucket(seed), expression=exp.Literal.number(segment.holdout))


def view_query(
    project: Project, segment: Segment, d: Dialect, as_of: datetime | None = None
) -> exp.Select:
    """The segment's members at T (now, unless `as_of`): entity_id (the key's own type)
    and holdout."""
    d.check_text(project, [segment])
    renderer = Renderer(d, as_of)
    key = renderer.col(project.entity_source(segment.entity).key, ENTITY)
    holdout = holdout_expr(d, segment, d.to_text(key))
    # the condition is planned like an output, but rendered in WHERE (not as a column);
    # suppressions and priority groups apply (model/guards.py)
    cond = guarded(project, segment)
    plan = plan_for(project, segment.entity, {segment.name: cond}, d)
    where = renderer.boolean(plan, cond)
    return renderer.select(plan, outputs={}, columns={"holdout": holdout}, where=where)


def evaluation_plan(
    project: Project,
    entity: str,
    segments: list[Segment],
    d: Dialect,
    states: dict | None = None,
) -> EntityPlan:
    """The plan of an evaluation query (`evaluation_query`): the same plan for the same
    arguments, so that its scans can be named by their aliases (`stored`)."""
    outputs = {s.name: guarded(project, s) for s in segments}
    outputs.update(guard_outputs(project, segments))
    return plan_for(project, entity, outputs, d, states)


def evaluation_query(
    project: Project,
    entity: str,
    segments: list[Segment],
    d: Dialect,
    as_of: datetime | exp.Expression,
    reasons: bool = False,
    states: dict | None = None,
    stored: dict[str, exp.Table] | None = None,
) -> exp.Select:
    """One row per existing entity: its id as text (`segsql_entity_id`, a name no segment
    can take) and one boolean per segment, named after it (its guarded condition:
    suppressions and priority groups apply), plus the guard columns of `guards.py`; with
    `reasons`, the columns that the change rows' `reason` is built from (reasons.py).
    `states`: the kept features to start from (an incremental run, runner/incremental.py);
    `stored`: scan alias -> a table holding that scan of the plan at T (`scan_queries`),
    read instead of the events. `as_of` may be an expression: T as a column (steps.py)."""
    d.check_text(project, segments)
    plan = evaluation_plan(project, entity, segments, d, states)
    renderer = Renderer(d, as_of)
    columns = reason_columns(renderer, plan, segments) if reasons else None
    return renderer.select(plan, key_as_text=True, columns=columns, stored=stored)


def scan_queries(
    plan: EntityPlan, d: Dialect, as_of: datetime, aliases: set[str]
) -> dict[str, exp.Select]:
    """alias -> the query of that scan of `plan` at T: KEY (the entity key in its own
    type) and one column per aggregate (`Scan.columns`), grouped by entity over all the
    events of the scan's rows, whether or not the entity exists."""
    renderer = Renderer(d, as_of)
    return {s.alias: renderer.scan(plan, s) for s in plan.scans.values() if s.alias in aliases}
