"""Why an entity entered or exited (SPEC section 12): the `reason` of a change row.

The evaluation query of a run already computes every feature of every condition; with
`reasons`, it also keeps what the reasons need that the rest of the run does not
(`reason_columns`): the measure of each event condition directly under a `where` (or
nested in all / any / not there), one column per aggregate however many parts read it,
and the truth value of a part that is not recomputed later (`in_segment`, sequences,
`parent`, `members`, properties, `sql`). The write then builds the JSON text for the
changed entities only (`reason_expr`), in the same statement that appends the change
rows: an event part's truth value from its stored measure (the same comparison), that
of a `where` of one condition from the segment's own column. The evaluation table holds
each column for every entity, so each one it does not need is work saved on every run.

`reason_expr` is the one function that builds a reason, suppressions and priority
groups (a suppressed or displaced member) included.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
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
from ..plan.planner import EntityPlan, aggregate_of
from .conditions import ZERO_WHEN_EMPTY, Conditions
from .guards import eligible_column, suppressed_column
from .nodes import KEY, coalesce, paren, present

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


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def value_column(cond: Condition) -> str:
    """The evaluation column of a part's truth value (a `segsql_` name: no segment's), for
    a part that the change-row statement cannot recompute (see `stored`), named after the
    condition: one column for every segment with that part (a shared "not staff", say)."""
    return f"segsql_rv_{_digest(repr(cond))}"


def where_column(segment: str) -> str:
    """The evaluation column of a segment's own `where` (before its guards), kept for a
    segment with suppressions: its reason names one only when the `where` holds."""
    return f"segsql_rw_{_digest(segment)}"


def measure_column(cond: EventCond) -> str:
    """The evaluation column of an event condition's measure, named after its aggregate:
    one column for every condition (of any segment) that measures the same value."""
    return f"segsql_rm_{_digest(repr((cond.sources, aggregate_of(cond))))}"


def single(where: Condition) -> bool:
    """`where` is one condition, or `not` of one: its part's truth value is the segment's
    own column (when no guard holds, see `reason_expr`), or its negation."""
    return not isinstance(where, (All, AnyOf))


def stored(cond: Condition) -> bool:
    """The change-row statement can recompute the condition's truth value from stored
    measures: it is made of event conditions under all / any / not. (A property or `sql`
    part keeps its truth value: reading the entity table again in the write, for the
    changed rows only, measured no cheaper than a boolean column, and could see a row
    changed since the evaluation.)"""
    if isinstance(cond, (All, AnyOf)):
        return all(stored(c) for c in cond.items)
    if isinstance(cond, Not):
        return stored(cond.item)
    if isinstance(cond, EventCond):
        # the stored measure of a since_nth_last is NULL both without n anchors (false)
        # and without a value (`is_null: true` holds): that test needs its own column
        return not (
            isinstance(cond.window, SinceNthLast)
            and any(t.op == "is_null" and t.value for t in cond.measure.tests)
        )
    return False  # a property or `sql` part: its own column (see `reason_columns`)


def _leaves(cond: Condition) -> Iterator[Condition]:
    """The conditions under all / any / not (not into an event condition's `where`)."""
    if isinstance(cond, (All, AnyOf)):
        for c in cond.items:
            yield from _leaves(c)
    elif isinstance(cond, Not):
        yield from _leaves(cond.item)
    else:
        yield cond


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
    """The extra columns of an evaluation query with reasons: each measure that a part
    reads (once, however many parts read it) and the truth value of each part that the
    change-row statement cannot recompute. Every column costs: the evaluation table holds
    it for every entity, where the reasons are built for the changed ones only."""
    out: dict[str, exp.Expression] = {}
    for seg in segments:
        if applied_suppressions(plan.project, seg):
            out[where_column(seg.name)] = r.boolean(plan, seg.where, two_valued=True)
        for _, cond in reason_parts(seg.where):
            recomputed = not single(seg.where) and stored(cond)
            if not single(seg.where) and not recomputed and value_column(cond) not in out:
                out[value_column(cond)] = r.boolean(plan, cond, two_valued=True)
            for leaf in _leaves(cond) if recomputed else [cond]:
                if isinstance(leaf, EventCond) and measure_column(leaf) not in out:
                    out[measure_column(leaf)] = measure_value(r, plan, leaf)
    return out


class _Recomputed(Conditions):
    """A part's truth value in the change-row statement: an event condition compares its
    stored measure (a column of the evaluation table `table`) as the evaluation compares
    the aggregate (the same `tests`)."""

    def __init__(self, dialect: Dialect, as_of: datetime | exp.Expression, table: str):
        super().__init__(dialect, as_of)
        self.table = table

    def _stored_event(self, plan: EntityPlan, cond: EventCond) -> exp.Expression:
        # NULL (no n anchors of a since_nth_last) compares as NULL: false, as in `_event`
        return paren(self.tests(self.col(measure_column(cond), self.table), cond.measure.tests))

    BOOLEANS = {**Conditions.BOOLEANS, EventCond: _stored_event}


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


def reason_expr(
    d: Dialect,
    project: Project,
    segment: Segment,
    table: str,
    as_of: datetime | exp.Expression,
) -> exp.Expression:
    """The `reason` JSON text of one segment's change row at T = `as_of`, from the columns
    of the evaluation table aliased `table` (see `reason_columns` and guards.py); the
    caller writes ENTITY_MISSING for an entity that no longer exists at T (no evaluation
    row). The reason names what made the difference: a suppression that holds for an
    entity whose `where` holds, a segment of its priority group that took an entity
    eligible for this one; otherwise the parts under `where` (then no guard made the
    difference, so the segment's own column is its `where`)."""
    where = _col(where_column(segment.name), table)
    guards = [
        (exp.and_(where, _col(suppressed_column(s.name), table)), [{"suppression": s.name}])
        for s in applied_suppressions(project, segment)
    ]
    rivals = sorted(segment.outranked_by, key=lambda n: project.segments[n].priority or 0)
    eligible = _col(eligible_column(segment.name), table)
    guards += [
        (
            exp.and_(eligible, _col(eligible_column(n), table)),
            [{"priority_group": segment.priority_group, "member_of": n}],
        )
        for n in rivals
    ]
    parts = _parts_expr(_Recomputed(d, as_of, table), project, segment, table)
    if not guards:
        return parts
    return exp.Case(
        ifs=[
            exp.If(this=held, true=exp.Literal.string(json.dumps(reason)))
            for held, reason in guards
        ],
        default=parts,
    )


def _truth(
    r: _Recomputed, project: Project, segment: Segment, cond: Condition, table: str
) -> tuple[exp.Expression, str, str]:
    """A part's truth value: (a boolean, its JSON when true, when false or NULL)."""
    if single(segment.where):  # the segment's own column: `where`, or `not` of the part
        value: exp.Expression = _col(segment.name, table)
        if isinstance(segment.where, Not):
            return value, "false", "true"
    elif stored(cond):
        value = r.boolean(EntityPlan(project, segment.entity, {}), cond)
    else:
        value = _col(value_column(cond), table)
    return value, "true", "false"


@dataclass
class _Truth:
    """A truth value in a JSON text: the text when it holds, when not (or NULL)."""

    value: exp.Expression
    yes: str
    no: str


class _Text:
    """The pieces of a JSON text, concatenated with as few operations as can be: literal
    text next to a truth value goes into both branches of its CASE (the concatenation
    is most of what a reason costs per change row)."""

    def __init__(self) -> None:
        self.pieces: list[str | _Truth | exp.Expression] = []

    def text(self, s: str) -> None:
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, str):
            self.pieces[-1] = last + s
        elif isinstance(last, _Truth):
            last.yes += s
            last.no += s
        else:
            self.pieces.append(s)

    def truth(self, value: exp.Expression, yes: str, no: str) -> None:
        before = self.pieces[-1] if self.pieces else None
        if isinstance(before, str):  # the text before it goes into the CASE
            self.pieces.pop()
        else:
            before = ""
        self.pieces.append(_Truth(value, before + yes, before + no))

    def expression(self, node: exp.Expression) -> None:
        self.pieces.append(node)

    def sql(self) -> exp.Expression:
        out: list[exp.Expression] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(exp.Literal.string(piece))
            elif isinstance(piece, _Truth):
                yes, no = exp.Literal.string(piece.yes), exp.Literal.string(piece.no)
                out.append(exp.Case(ifs=[exp.If(this=piece.value, true=yes)], default=no))
            else:
                out.append(piece)
        return _concat(out)


def _parts_expr(r: _Recomputed, project: Project, segment: Segment, table: str) -> exp.Expression:
    json_text = _Text()
    json_text.text("[")
    for i, (path, cond) in enumerate(reason_parts(segment.where)):
        json_text.text(("," if i else "") + "{" + f'"path": {json.dumps(path)}, "value": ')
        json_text.truth(*_truth(r, project, segment, cond, table))
        if isinstance(cond, EventCond):
            json_text.text(', "measure": ')
            value = r.col(measure_column(cond), table)
            json_text.expression(_measure_json(r.d, value, measure_kind(cond)))
        json_text.text("}")
    json_text.text("]")
    return json_text.sql()
