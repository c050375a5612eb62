"""Why an entity entered or exited (SPEC section 12): the `reason` of a change row.

The evaluation query of a run already computes every feature of every condition; with
`reasons`, it also names, per segment, the truth value of each condition directly under
`where` and, for an event condition, its measured value (`reason_columns`). The write
then builds the JSON text for the changed entities only, from those columns of the
evaluation table (`reason_expr`), in the same statement that appends the change rows.

`reason_expr` is the one function that builds a reason, suppressions and priority
groups (a suppressed or displaced member) included.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlglot import exp

from ..dialects.base import Dialect
from ..model.guards import applied_suppressions
from ..model.types import (
    TIME_OPS,
    All,
    AnyOf,
    Condition,
    EventCond,
    Not,
    Project,
    Segment,
    SinceNthLast,
)
from ..plan.planner import EntityPlan
from .conditions import ZERO_WHEN_EMPTY, Conditions
from .guards import eligible_column, suppressed_column
from .nodes import KEY, coalesce, present

ENTITY_MISSING = '[{"entity_missing": true}]'
NUMBER_MEASURES = ("count", "count_distinct", "sum", "avg")


def reason_parts(where: Condition) -> list[tuple[str, Condition]]:
    """(path, condition) of each condition directly under `where`, in YAML order."""
    if isinstance(where, All):
        return [(f"where.all[{i}]", c) for i, c in enumerate(where.items)]
    if isinstance(where, AnyOf):
        return [(f"where.any[{i}]", c) for i, c in enumerate(where.items)]
    if isinstance(where, Not):
        return [("where.not", where.item)]
    return [("where", where)]


def _digest(segment: str) -> str:
    return hashlib.sha1(segment.encode()).hexdigest()[:10]


def value_column(segment: str, i: int) -> str:
    """The evaluation column of part i's truth value (a `segsql_` name: no segment's)."""
    return f"segsql_rv_{_digest(segment)}_{i}"


def measure_column(segment: str, i: int) -> str:
    return f"segsql_rm_{_digest(segment)}_{i}"


def measure_kind(cond: EventCond) -> str:
    """How a measure is written in JSON: `number`, `timestamp` (ISO text) or `text`."""
    kind = cond.measure.kind
    if kind in NUMBER_MEASURES:
        return "number"
    if kind in ("first", "last"):
        return "timestamp"
    values = [
        v
        for t in cond.measure.tests
        for v in (t.value if isinstance(t.value, tuple) else (t.value,))
    ]
    if any(t.op in TIME_OPS for t in cond.measure.tests) or any(
        isinstance(v, datetime) for v in values
    ):
        return "timestamp"
    if values and all(isinstance(v, str) for v in values):
        return "text"  # min / max of a text column
    return "number"  # min / max of a property: cast to a number (docs/language.md)


def measure_value(r: Conditions, plan: EntityPlan, cond: EventCond) -> exp.Expression:
    """An event condition's measured value at T, as its comparison sees it (count, sum
    and count_distinct 0 without events); NULL for a `since_nth_last` without n anchors."""
    feature = plan.aggregate(cond)
    value: exp.Expression = r.col(feature.column, feature.scan)
    if cond.measure.kind in ZERO_WHEN_EMPTY:
        value = coalesce(value, exp.Literal.number(0))
    if isinstance(cond.window, SinceNthLast):
        value = exp.Case(ifs=[exp.If(this=present(r.col(KEY, feature.scan)), true=value)])
    return value


def reason_columns(
    r: Conditions, plan: EntityPlan, segments: list[Segment]
) -> dict[str, exp.Expression]:
    """The extra columns of an evaluation query with reasons: per segment and part, its
    two-valued truth value and, for an event condition, its measure."""
    out: dict[str, exp.Expression] = {}
    for seg in segments:
        for i, (_, cond) in enumerate(reason_parts(seg.where)):
            out[value_column(seg.name, i)] = r.boolean(plan, cond, two_valued=True)
            if isinstance(cond, EventCond):
                out[measure_column(seg.name, i)] = measure_value(r, plan, cond)
    return out


def _col(name: str, table: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True), table=exp.to_identifier(table))


def _concat(parts: list[exp.Expression]) -> exp.Expression:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=True)
    return out


def _json_string(d: Dialect, text: exp.Expression) -> exp.Expression:
    """Text as a JSON string: quoted, backslashes and quotes escaped."""
    escaped = exp.func(
        "REPLACE",
        exp.func("REPLACE", text, exp.Literal.string("\\"), exp.Literal.string("\\\\")),
        exp.Literal.string('"'),
        exp.Literal.string('\\"'),
    )
    return _concat([exp.Literal.string('"'), escaped, exp.Literal.string('"')])


def _measure_json(d: Dialect, value: exp.Expression, kind: str) -> exp.Expression:
    text = d.to_text(value)
    if kind == "timestamp":  # `2026-03-01 08:00:00` -> `2026-03-01T08:00:00`
        text = _json_string(
            d, exp.func("REPLACE", text, exp.Literal.string(" "), exp.Literal.string("T"))
        )
    elif kind == "text":
        text = _json_string(d, text)
    return coalesce(text, exp.Literal.string("null"))


def reason_expr(d: Dialect, project: Project, segment: Segment, table: str) -> exp.Expression:
    """The `reason` JSON text of one segment's change row, from the columns of the
    evaluation table aliased `table` (see `reason_columns` and guards.py); the caller
    writes ENTITY_MISSING for an entity that no longer exists at T (no evaluation row).
    A suppressed entity's reason names the suppression, one that another segment of
    its priority group took names that segment; otherwise the parts under `where`."""
    guards = [
        (suppressed_column(s.name), [{"suppression": s.name}])
        for s in applied_suppressions(project, segment)
    ]
    rivals = sorted(segment.outranked_by, key=lambda n: project.segments[n].priority or 0)
    guards += [
        (eligible_column(n), [{"priority_group": segment.priority_group, "member_of": n}])
        for n in rivals
    ]
    parts = _parts_expr(d, segment, table)
    if not guards:
        return parts
    return exp.Case(
        ifs=[
            exp.If(this=_col(column, table), true=exp.Literal.string(json.dumps(reason)))
            for column, reason in guards
        ],
        default=parts,
    )


def _parts_expr(d: Dialect, segment: Segment, table: str) -> exp.Expression:
    parts: list[exp.Expression] = [exp.Literal.string("[")]
    for i, (path, cond) in enumerate(reason_parts(segment.where)):
        head = ("," if i else "") + "{" + f'"path": {json.dumps(path)}, "value": '
        parts.append(exp.Literal.string(head))
        truth = exp.Case(
            ifs=[
                exp.If(
                    this=_col(value_column(segment.name, i), table), true=exp.Literal.string("true")
                )
            ],
            default=exp.Literal.string("false"),
        )
        parts.append(truth)
        if isinstance(cond, EventCond):
            parts.append(exp.Literal.string(', "measure": '))
            value = _col(measure_column(segment.name, i), table)
            parts.append(_measure_json(d, value, measure_kind(cond)))
        parts.append(exp.Literal.string("}"))
    parts.append(exp.Literal.string("]"))
    return _concat(parts)
