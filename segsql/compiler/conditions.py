"""Conditions: a condition tree as a boolean over the entity row and its joined features,
and comparisons (the `eq`, `in`, `within`, ... keys) of one value.

Three-valued logic: SQL comparisons with NULL give NULL, which acts like FALSE under AND,
OR and WHERE (they are monotonic). Only `not` could turn that NULL into a wrong answer,
so `not x` is rendered `NOT COALESCE(x, FALSE)`: "a comparison with NULL is FALSE, and `not`
turns FALSE into TRUE" (docs/language.md, Conditions) with one COALESCE per `not`.

Each condition type and each comparison key renders through a dispatch table
(`BOOLEANS`, `EVENT_BOOLEANS`, `TESTS`), never an isinstance ladder.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp

from ..dialects.base import Dialect, lit
from ..model.guards import guarded_where
from ..model.types import (
    All,
    AnyOf,
    Condition,
    Duration,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    ParentCond,
    Prop,
    PropertyCond,
    SequenceCond,
    SinceNthLast,
    SqlCond,
    Test,
)
from ..plan.planner import EntityPlan
from .nodes import (
    ENTITY,
    EV,
    KEY,
    Names,
    and_,
    coalesce,
    is_null,
    not_,
    or_,
    paren,
    present,
)

ZERO_WHEN_EMPTY = ("count", "count_distinct", "sum")
TIME_OPS = ("within", "older_than", "before", "after")


@functools.lru_cache(maxsize=4096)
def _parsed_sql(sql: str, dialect: str) -> exp.Expression:
    """An escape-hatch condition parsed once (callers copy it), bare columns bound to the
    entity table."""
    tree = sqlglot.parse_one(sql, read=dialect)
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(ENTITY))
    return tree


def _combine(
    items: list[exp.Expression], join: Callable[..., exp.Expression], empty: exp.Expression
) -> exp.Expression:
    """`all` / `any` of rendered items: ANDed / ORed in parentheses, or the empty value."""
    return paren(join(*items)) if items else empty


def _compare(node: type[exp.Binary]) -> Callable[..., exp.Expression]:
    """A comparison key rendered as one binary operator against the value."""

    def render(self: Conditions, x: exp.Expression, v: Any) -> exp.Expression:
        return node(this=x, expression=self.value(v))

    return render


def _values(test: Test) -> tuple[Any, ...]:
    return test.value if isinstance(test.value, tuple) else (test.value,)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_kind(test: Test | None) -> str:
    """How a JSON value is read for one comparison key (docs/language.md, Sources): `text`,
    or cast to a `number`, `bool` or `timestamp` when every value of the key is one."""
    if test is None or test.op == "is_null":
        return "text"
    if test.op in TIME_OPS:
        return "timestamp"
    values = _values(test)
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(_is_number(v) for v in values):
        return "number"
    if all(isinstance(v, datetime) for v in values):
        return "timestamp"
    return "text"


def as_json_text(test: Test) -> Test:
    """A comparison of JSON text: its numbers and booleans as their JSON spelling (`7` is
    the text "7", `true` the text "true"), so that they compare with text as text."""

    def spelled(v: Any) -> Any:
        return json.dumps(v) if isinstance(v, (bool, int, float)) else v

    if isinstance(test.value, tuple):
        return Test(test.op, tuple(spelled(v) for v in test.value))
    return Test(test.op, spelled(test.value))


class Conditions(Names):
    """Booleans and comparisons for one dialect and one evaluation time T."""

    BOOLEANS: ClassVar[dict[type, Callable[..., exp.Expression]]]
    EVENT_BOOLEANS: ClassVar[dict[type, Callable[..., exp.Expression]]]
    TESTS: ClassVar[dict[str, Callable[..., exp.Expression]]]

    def __init__(self, dialect: Dialect, as_of: datetime | exp.Expression | None = None):
        """`as_of`: T as a datetime (a literal), an expression (a column: a backfill's
        steps, compiler/steps.py) or None (the current time)."""
        self.d = dialect
        if isinstance(as_of, exp.Expression):
            self._T = as_of
        else:
            self._T = dialect.timestamp(as_of) if as_of is not None else dialect.now()

    @property
    def T(self) -> exp.Expression:
        """The evaluation time (a fresh node each use: trees are built without copying)."""
        return self._T.copy()

    def ago(self, duration: Duration, base: exp.Expression | None = None) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift(base if base is not None else self.T, -amount, unit)

    def later(self, base: exp.Expression, duration: Duration) -> exp.Expression:
        amount, unit = duration.sql_interval
        return self.d.shift(base, amount, unit)

    # ------------------------------------------------------------------ booleans
    def boolean(
        self, plan: EntityPlan, cond: Condition, *, two_valued: bool = False
    ) -> exp.Expression:
        out = self._boolean(plan, cond)
        return coalesce(out, exp.false()) if two_valued else out

    def _boolean(self, plan: EntityPlan, cond: Condition) -> exp.Expression:
        render = self.BOOLEANS.get(type(cond))
        if render is None:
            raise TypeError(f"cannot render {type(cond).__name__}")
        return render(self, plan, cond)

    def _all(self, plan: EntityPlan, cond: All) -> exp.Expression:
        return _combine([self._boolean(plan, c) for c in cond.items], and_, exp.true())

    def _any(self, plan: EntityPlan, cond: AnyOf) -> exp.Expression:
        return _combine([self._boolean(plan, c) for c in cond.items], or_, exp.false())

    def _not(self, plan: EntityPlan, cond: Not) -> exp.Expression:
        return not_(self.boolean(plan, cond.item, two_valued=True))

    def _property(self, plan: EntityPlan, cond: PropertyCond) -> exp.Expression:
        src = plan.project.entity_source(plan.entity)
        return self.property_tests(cond.prop, cond.tests, ENTITY, src.zone_aware)

    def _in_segment(self, plan: EntityPlan, cond: InSegment) -> exp.Expression:
        # the referenced segment's members after its suppressions and priority group
        return self._boolean(plan, guarded_where(plan.project, cond.segment))

    def _event(self, plan: EntityPlan, cond: EventCond) -> exp.Expression:
        feature = plan.aggregate(cond)
        value: exp.Expression = self.col(feature.column, feature.scan)
        if cond.measure.kind in ZERO_WHEN_EMPTY:
            value = coalesce(value, exp.Literal.number(0))
        out = self.tests(value, cond.measure.tests)
        if isinstance(cond.window, SinceNthLast):  # fewer than n anchors: FALSE
            out = and_(present(self.col(KEY, feature.scan)), out)
        return paren(out)

    def _sequence(self, plan: EntityPlan, cond: SequenceCond) -> exp.Expression:
        return present(self.col(KEY, plan.sequences[cond]))

    def _parent(self, plan: EntityPlan, cond: ParentCond) -> exp.Expression:
        return present(self.col(KEY, plan.parents[cond].alias))

    def _members(self, plan: EntityPlan, cond: MembersCond) -> exp.Expression:
        count = coalesce(self.col("n", plan.members[cond].alias), exp.Literal.number(0))
        return paren(self.tests(count, cond.tests))

    def sql_condition(self, cond: SqlCond) -> exp.Expression:
        """The escape hatch: parsed (never pasted), its bare columns bound to the entity."""
        return paren(_parsed_sql(cond.sql, cond.dialect).copy())

    def _sql(self, plan: EntityPlan, cond: SqlCond) -> exp.Expression:
        return self.sql_condition(cond)

    BOOLEANS = {
        All: _all,
        AnyOf: _any,
        Not: _not,
        PropertyCond: _property,
        InSegment: _in_segment,
        EventCond: _event,
        SequenceCond: _sequence,
        ParentCond: _parent,
        MembersCond: _members,
        SqlCond: _sql,
    }

    # ------------------------------------------------------------------ event filters
    def event_boolean(self, cond: Condition, instants: frozenset[str]) -> exp.Expression:
        """An event `where` filter over `ev` (properties and combinators only)."""
        return self.EVENT_BOOLEANS[type(cond)](self, cond, instants)

    def _event_all(self, cond: All, instants: frozenset[str]) -> exp.Expression:
        items = [self.event_boolean(c, instants) for c in cond.items]
        return _combine(items, and_, exp.true())

    def _event_any(self, cond: AnyOf, instants: frozenset[str]) -> exp.Expression:
        items = [self.event_boolean(c, instants) for c in cond.items]
        return _combine(items, or_, exp.false())

    def _event_not(self, cond: Not, instants: frozenset[str]) -> exp.Expression:
        return not_(coalesce(self.event_boolean(cond.item, instants), exp.false()))

    def _event_property(self, cond: PropertyCond, instants: frozenset[str]) -> exp.Expression:
        return self.property_tests(cond.prop, cond.tests, EV, instants)

    EVENT_BOOLEANS = {
        All: _event_all,
        AnyOf: _event_any,
        Not: _event_not,
        PropertyCond: _event_property,
    }

    # ------------------------------------------------------------------ comparisons
    def property_tests(
        self, prop: Prop, tests: tuple[Test, ...], table: str, instants: frozenset[str]
    ) -> exp.Expression:
        """Each comparison key is typed alone (docs/language.md, Sources): JSON text is cast per
        key, and a key compared as text compares its numbers by their JSON spelling."""
        parts = []
        for t in tests:
            value = self.prop_value(prop, table, instants, t)
            if prop.path and t.op != "is_null" and json_kind(t) == "text":
                t = as_json_text(t)
            parts.append(self.test(value, t))
        return paren(and_(*parts)) if len(parts) > 1 else parts[0]

    def prop_value(
        self,
        prop: Prop,
        table: str,
        instants: frozenset[str],
        test: Test | None = None,
        as_number: bool = False,
    ) -> exp.Expression:
        """A property's value: a column as is; a JSON key as text, or cast as `test`'s
        values need (or to a number, `as_number`). A column in `instants` (of a zone-aware
        type in the table read) is read as its instant in UTC."""
        column = self.col(prop.column, table)
        if not prop.path:
            return self.d.utc(column) if prop.column in instants else column
        text = self.d.json_text(column, prop.path)
        kind = "number" if as_number else json_kind(test)
        if kind == "number":
            return self.d.to_number(text)
        if kind == "bool":
            return self.d.to_bool(text)
        if kind == "timestamp":
            return self.d.to_timestamp(text)
        return text

    def value(self, v: Any) -> exp.Expression:
        return self.d.timestamp(v) if isinstance(v, datetime) else lit(v)

    def tests(self, x: exp.Expression, tests: tuple[Test, ...]) -> exp.Expression:
        parts = [self.test(x if i == 0 else x.copy(), t) for i, t in enumerate(tests)]
        return and_(*parts)

    def test(self, x: exp.Expression, t: Test) -> exp.Expression:
        """The comparison `t` of `x` (which it takes over: pass a fresh node)."""
        render = self.TESTS.get(t.op)
        if render is None:
            raise ValueError(f"unknown comparison {t.op}")
        return render(self, x, t.value)

    def _within(self, x: exp.Expression, v: Duration) -> exp.Expression:
        return and_(
            exp.GTE(this=x, expression=self.ago(v)),
            exp.LTE(this=x.copy(), expression=self.T),
        )

    def _in(self, x: exp.Expression, v: tuple) -> exp.Expression:
        return exp.In(this=x, expressions=[self.value(i) for i in v])

    TESTS = {
        "eq": _compare(exp.EQ),
        "ne": _compare(exp.NEQ),
        "gt": _compare(exp.GT),
        "gte": _compare(exp.GTE),
        "lt": _compare(exp.LT),
        "lte": _compare(exp.LTE),
        "in": _in,
        "not_in": lambda self, x, v: not_(self._in(x, v)),
        "between": lambda self, x, v: exp.Between(
            this=x, low=self.value(v[0]), high=self.value(v[1])
        ),
        "contains": lambda self, x, v: self.d.contains(x, v),
        "starts_with": lambda self, x, v: self.d.starts_with(x, v),
        "ends_with": lambda self, x, v: self.d.ends_with(x, v),
        "matches": lambda self, x, v: self.d.matches(x, v),
        "is_null": lambda self, x, v: is_null(x) if v else present(x),
        "within": _within,
        "older_than": lambda self, x, v: exp.LT(this=x, expression=self.ago(v)),
        "before": _compare(exp.LT),
        "after": _compare(exp.GT),
    }
