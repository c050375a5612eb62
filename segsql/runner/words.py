"""Conditions in plain words, for `segsql explain` (a support agent reads them without
knowing SQL): `session_start in the last 5d: count 3, needs < 2 -> false`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..model.types import (
    During,
    EventCond,
    MembersCond,
    ParentCond,
    PropertyCond,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    SqlCond,
    Test,
    Within,
)

SYMBOLS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def value_text(v: Any) -> str:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nothing"
    if isinstance(v, str):
        return repr(v)
    return str(v)


def test_text(t: Test) -> str:
    v = t.value
    if t.op in SYMBOLS:
        return f"{SYMBOLS[t.op]} {value_text(v)}"
    if t.op in ("in", "not_in"):
        items = ", ".join(value_text(i) for i in v)
        return f"{'one of' if t.op == 'in' else 'none of'} [{items}]"
    if t.op == "between":
        return f"between {value_text(v[0])} and {value_text(v[1])}"
    if t.op == "is_null":
        return "empty" if v else "not empty"
    if t.op == "within":
        return f"within the last {v}"
    if t.op == "older_than":
        return f"older than {v}"
    if t.op == "matches":
        return f"matches /{v}/"
    return f"{t.op.replace('_', ' ')} {value_text(v)}"


def tests_text(tests: tuple[Test, ...]) -> str:
    return " and ".join(test_text(t) for t in tests)


def events_text(events: tuple[str, ...] | None) -> str:
    if events is None:
        return "any event"
    return " or ".join(events)


def window_text(w: Any) -> str:
    if w is None:
        return "ever"
    if isinstance(w, Within):
        return f"in the last {w.duration}"
    if isinstance(w, During):
        return f"from {w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M}"
    if isinstance(w, SinceProperty):
        return f"since {w.prop}" + (f" (for {w.duration})" if w.duration else "")
    if isinstance(w, SinceNthLast):
        return f"since the {_nth(w.n)} last {events_text(w.events)}"
    return str(w)


def _nth(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def measure_name(cond: EventCond) -> str:
    m = cond.measure
    name = m.kind.replace("_", " ")
    return f"{name} of {m.of}" if m.of is not None else name


def describe(cond: Any, value: bool, measure: Any = None, shown: Any = None) -> str:
    """One line for a node of the tree: what it asks, what was found, the verdict."""
    verdict = "true" if value else "false"
    if isinstance(cond, EventCond):
        filtered = " (filtered)" if cond.where is not None else ""
        source = f" in {', '.join(cond.sources)}" if len(cond.sources) == 1 else ""
        return (
            f"{events_text(cond.events)}{filtered}{source} {window_text(cond.window)}: "
            f"{measure_name(cond)} {value_text(measure)}, needs {tests_text(cond.measure.tests)}"
            f" -> {verdict}"
        )
    if isinstance(cond, PropertyCond):
        return f"{cond.prop} is {value_text(shown)}, needs {tests_text(cond.tests)} -> {verdict}"
    if isinstance(cond, SequenceCond):
        steps = " then ".join(
            ("no " if s.absent else "") + events_text(s.events) for s in cond.steps
        )
        within = f" within {cond.within}" if cond.within else ""
        done = f", completed within {cond.completed_within}" if cond.completed_within else ""
        return f"sequence {steps}{within}{done} -> {verdict}"
    if isinstance(cond, ParentCond):
        how = "matching its condition" if cond.where is not None else "existing"
        return f"parent {cond.parent} {how} -> {verdict}"
    if isinstance(cond, MembersCond):
        return (
            f"{cond.child} members{' matching' if cond.where is not None else ''}: count "
            f"{value_text(measure)}, needs {tests_text(cond.tests)} -> {verdict}"
        )
    if isinstance(cond, SqlCond):
        return f"sql: {cond.sql} -> {verdict}"
    return verdict
