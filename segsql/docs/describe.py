"""A plain-language description of a segment, generated from its definition: "Users whose
plan is trial, with fewer than 2 session_start events in the last 5 days, and who never
had a setup_completed event"."""

from __future__ import annotations

from datetime import datetime

from ..model.types import (
    All,
    AnyOf,
    Condition,
    Duration,
    During,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    ParentCond,
    PropertyCond,
    Segment,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    SqlCond,
    Test,
    Within,
)

_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}


def plural(word: str, n: int | float = 2) -> str:
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def duration(d: Duration) -> str:
    return f"{d.amount} {plural(_UNITS[d.unit], d.amount)}"


def value(v) -> str:
    if isinstance(v, datetime):
        return (
            f"{v:%Y-%m-%d}" if (v.hour, v.minute, v.second) == (0, 0, 0) else f"{v:%Y-%m-%d %H:%M}"
        )
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return ", ".join(value(x) for x in v)
    return str(v)


def test_phrase(t: Test) -> str:
    """What a property's value satisfies: 'is at least 18', 'ends with "@gmail.com"'."""
    v = t.value
    return {
        "eq": lambda: f"is {value(v)}",
        "ne": lambda: f"is not {value(v)}",
        "gt": lambda: f"is more than {value(v)}",
        "gte": lambda: f"is at least {value(v)}",
        "lt": lambda: f"is less than {value(v)}",
        "lte": lambda: f"is at most {value(v)}",
        "in": lambda: f"is one of {value(v)}",
        "not_in": lambda: f"is none of {value(v)}",
        "between": lambda: f"is between {value(v[0])} and {value(v[1])}",
        "contains": lambda: f'contains "{v}"',
        "starts_with": lambda: f'starts with "{v}"',
        "ends_with": lambda: f'ends with "{v}"',
        "matches": lambda: f"matches /{v}/",
        "is_null": lambda: "is not set" if v else "is set",
        "within": lambda: f"is in the last {duration(v)}",
        "older_than": lambda: f"is more than {duration(v)} ago",
        "before": lambda: f"is before {value(v)}",
        "after": lambda: f"is after {value(v)}",
    }[t.op]()


def quantity(tests: tuple[Test, ...]) -> str:
    """A count's comparisons as a quantity: 'at least 3', 'fewer than 2', 'no'."""
    parts = []
    for t in tests:
        v = t.value
        parts.append(
            {
                "eq": lambda v=v: "no" if v == 0 else f"exactly {v}",
                "ne": lambda v=v: f"other than {v}",
                "gt": lambda v=v: f"more than {v}",
                "gte": lambda v=v: f"at least {v}",
                "lt": lambda v=v: f"fewer than {v}",
                "lte": lambda v=v: f"at most {v}",
                "in": lambda v=v: f"{value(v)} (one of)",
                "not_in": lambda v=v: f"a number other than {value(v)} of",
                "between": lambda v=v: f"{v[0]} to {v[1]}",
                "is_null": lambda v=v: "an unknown number of" if v else "a known number of",
            }[t.op]()
        )
    return " and ".join(parts)


def _names(events: tuple[str, ...] | None) -> str:
    if events is None:
        return "any"
    return " or ".join(events)


def window(w) -> str:
    if w is None:
        return ""
    if isinstance(w, Within):
        return f" in the last {duration(w.duration)}"
    if isinstance(w, During):
        return f" between {value(w.start)} and {value(w.end)}"
    if isinstance(w, SinceProperty):
        if w.duration:
            return f" in the first {duration(w.duration)} after their {w.prop}"
        return f" since their {w.prop}"
    if isinstance(w, SinceNthLast):
        nth = {1: "last", 2: "2nd-last", 3: "3rd-last"}.get(w.n, f"{w.n}th-last")
        return f" since their {nth} {_names(w.events)} event"
    return ""


def _filter(where: Condition | None, entity: str) -> str:
    return f" where {clause(where, entity, 'event')}" if where is not None else ""


def _is_default_count(cond: EventCond) -> bool:
    return cond.measure.kind == "count" and cond.measure.tests == (Test("gte", 1),)


def event_phrase(cond: EventCond, entity: str, negated: bool = False) -> str:
    names, win, filt = _names(cond.events), window(cond.window), _filter(cond.where, entity)
    ev = "any event" if cond.events is None else f"{names} event"
    m = cond.measure
    if _is_default_count(cond):
        if negated and cond.events is None:
            return f"who had no events{filt}{win}" if win else f"who never had any event{filt}"
        if negated:
            return (
                f"who never had {'an' if ev[0] in 'aeiou' else 'a'} {ev}{filt}"
                if not win
                else (f"who had no {ev}{filt}{win}")
            )
        return f"who had {'an' if ev[0] in 'aeiou' else 'a'} {ev}{filt}{win}"
    prefix = "not " if negated else ""
    if m.kind == "count":
        q = quantity(m.tests)
        events = "events" if cond.events is None else f"{names} {plural('event')}"
        return f"{prefix}with {q} {events}{filt}{win}"
    if m.kind == "count_distinct":
        q = quantity(m.tests)
        return f"{prefix}with {q} distinct {m.of} values over {names} events{filt}{win}"
    tests = " and ".join(test_phrase(t) for t in m.tests)
    if m.kind in ("first", "last"):
        was = tests.replace("is ", "was ", 1)
        return f"{prefix}whose {m.kind} {ev}{filt}{win} {was}"
    word = {"sum": "total", "avg": "average", "min": "smallest", "max": "largest"}[m.kind]
    return f"{prefix}whose {word} {m.of} over {names} events{filt}{win} {tests}"


def clause(cond: Condition, entity: str, subject: str = "entity") -> str:
    """A phrase that follows the entity's plural noun ('Users ...')."""
    if isinstance(cond, All):
        if not cond.items:
            return "(all of them)"
        parts = [clause(x, entity, subject) for x in cond.items]
        return (
            ", ".join(parts[:-1]) + (", and " if len(parts) > 2 else " and ") + parts[-1]
            if len(parts) > 1
            else parts[0]
        )
    if isinstance(cond, AnyOf):
        if not cond.items:
            return "(none)"
        parts = [clause(x, entity, subject) for x in cond.items]
        return "either " + ", or ".join(parts) if len(parts) > 1 else parts[0]
    if isinstance(cond, Not):
        return negated(cond.item, entity, subject)
    if isinstance(cond, PropertyCond):
        owner = "its" if subject == "event" else "whose"
        tests = " and ".join(test_phrase(t) for t in cond.tests)
        return f"{owner} {cond.prop} {tests}" if owner == "whose" else f"{cond.prop} {tests}"
    if isinstance(cond, EventCond):
        return event_phrase(cond, entity)
    if isinstance(cond, SequenceCond):
        present = [s for s in cond.steps if not s.absent]
        absent = [s for s in cond.steps if s.absent]
        steps = ", then ".join(_names(s.events) + _filter(s.where, entity) for s in present)
        text = f"who did {steps}"
        if cond.completed_within:
            text += f" within {duration(cond.completed_within)}"
        if cond.within:
            text += f", starting in the last {duration(cond.within)}"
        if absent:
            text += f", and no {_names(absent[0].events)} after it"
        return text
    if isinstance(cond, InSegment):
        return f"in segment {cond.segment}"
    if isinstance(cond, ParentCond):
        where = f" {clause(cond.where, cond.parent)}" if cond.where is not None else ""
        return f"belonging to {'an' if cond.parent[0] in 'aeiou' else 'a'} {cond.parent}{where}"
    if isinstance(cond, MembersCond):
        q = quantity(cond.tests)
        where = f" {clause(cond.where, cond.child)}" if cond.where is not None else ""
        return f"with {q} {plural(cond.child)}{where}"
    if isinstance(cond, SqlCond):
        return f"matching the SQL `{cond.sql}`"
    return "(a condition)"


def negated(cond: Condition, entity: str, subject: str = "entity") -> str:
    if isinstance(cond, EventCond):
        return event_phrase(cond, entity, negated=True)
    if isinstance(cond, InSegment):
        return f"not in segment {cond.segment}"
    if isinstance(cond, ParentCond):
        if cond.where is None:
            return f"without {'an' if cond.parent[0] in 'aeiou' else 'a'} {cond.parent}"
        return "not " + clause(cond, entity, subject)
    if isinstance(cond, PropertyCond) and len(cond.tests) == 1:
        flip = {
            "eq": "ne",
            "ne": "eq",
            "in": "not_in",
            "not_in": "in",
            "gt": "lte",
            "lte": "gt",
            "gte": "lt",
            "lt": "gte",
        }
        t = cond.tests[0]
        verbs = {
            "contains": "does not contain",
            "starts_with": "does not start with",
            "ends_with": "does not end with",
            "matches": "does not match",
        }
        if t.op in verbs:
            owner = "its" if subject == "event" else "whose"
            shown = f"/{t.value}/" if t.op == "matches" else f'"{t.value}"'
            return f"{owner} {cond.prop} {verbs[t.op]} {shown}"
        if t.op in flip:
            return clause(PropertyCond(cond.prop, (Test(flip[t.op], t.value),)), entity, subject)
        if t.op == "is_null":
            return clause(PropertyCond(cond.prop, (Test("is_null", not t.value),)), entity, subject)
    return f"not ({clause(cond, entity, subject)})"


def describe(segment: Segment) -> str:
    """'Users whose plan is trial and who had a login event in the last 7 days.'"""
    text = f"{plural(segment.entity).capitalize()} {clause(segment.where, segment.entity)}"
    if segment.holdout:
        text += f"; {segment.holdout}% held out"
    return text + "."
