"""`segsql compile --plan`: what a plan computes, in the words of the YAML.

One block per entity type: the segments it evaluates, then each part of the plan (scans,
sequences, parents, members), numbered per kind from 1 without gaps across the block
(a parent's own scans continue the count), each saying what it reads and which
segments use it. Example:

    user from main.users: 2 segment(s): onboarding_stuck, power_users
      scan 1: session_start from T-5d, in events, grouped per user
        count of session_start in the last 5d (used by onboarding_stuck)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from ..model.types import (
    All,
    AnyOf,
    Condition,
    During,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    ParentCond,
    Project,
    PropertyCond,
    Segment,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    Step,
    Test,
    Window,
    Within,
)
from ..model.walk import through_references
from .incremental import how_kept, not_kept_because
from .narrow import edges, why_not
from .planner import Aggregate, EntityPlan, Scan, ScanKind, aggregate_of


def explain(plan: EntityPlan) -> str:
    """A human-readable account of the plan (what `compile --plan` prints)."""
    src = plan.project.entity_source(plan.entity)
    names = ", ".join(plan.outputs) or "-"
    lines = [f"{plan.entity} from {src.table_name}: {len(plan.outputs)} segment(s): {names}"]
    owners = {name: [name] for name in plan.outputs}
    _parts(plan, owners, "  ", defaultdict(int), lines)
    return "\n".join(lines)


def explain_narrowing(project: Project, entity: str, segments: list[Segment]) -> list[str]:
    """What a run after another reads to find the `entity` entities that can have changed
    (plan/narrow.py), and which of `segments` are evaluated in full and why."""
    full = {s.name: why for s in segments if (why := why_not(project, s)) is not None}
    ours = [s for s in segments if s.name not in full]
    lines = []
    if ours:
        found = edges(project, entity, ours)
        assert not isinstance(found, str)
        lines.append(
            f"  narrowing (DuckDB, Postgres): {len(ours)} segment(s) evaluate only the "
            f"{entity}s that can have changed since their last run, found from:"
        )
        at: dict[tuple[str, tuple[str, ...] | None], list[int]] = {}
        for e in found.shifts:
            at.setdefault((e.source, e.events), []).append(e.seconds)
        for (source, events), shifts in at.items():
            when = ["since the last run"] if 0 in shifts else []
            if edges_at := [f"T-{_seconds_text(s)}" for s in shifts if s]:
                when.append("at " + ", ".join(edges_at))
            lines.append(f"    rows of {_events_text(events)} in {source} {', and '.join(when)}")
        rows = ["a changed property", "an added or deleted row"]
        created = project.entity_source(entity).created_at
        rows += [f"{created} after the last run"] if created else []
        rows += [_condition_text(cond) for cond in found.timed]
        for parent, column in found.parents:
            up = project.entity_source(parent).created_at
            rows.append(
                f"its {parent}'s row ({column})" + (f", {up} after the last run" if up else "")
            )
        lines.append(f"    the {entity}'s row: {'; '.join(rows)}")
    lines += [f"  evaluated in full every run: {name} ({why})" for name, why in full.items()]
    return lines


def _seconds_text(seconds: int) -> str:
    """86400 -> 1d, 5400 -> 90m: the largest unit that divides it."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _parts(
    plan: EntityPlan,
    owners: dict[str, list[str]],
    indent: str,
    counters: dict[str, int],
    lines: list[str],
) -> None:
    """The lines of a plan's parts; `owners`: output name -> the segments it stands for."""
    used = _used_by(plan, owners)

    def number(kind: str) -> int:
        counters[kind] += 1
        return counters[kind]

    for scan in plan.scans.values():
        lines.append(f"{indent}scan {number('scan')}: {scan_text(plan, scan)}")
        for agg in scan.columns:
            lines.append(f"{indent}  {_agg_text(agg)}{_used(used.get(agg))}")
            lines.append(f"{indent}    {_refresh_text(agg, top=indent == '  ')}")
    for seq in plan.sequences:
        lines.append(
            f"{indent}sequence {number('sequence')}: {_steps_text(seq)}{_used(used.get(seq))}"
        )
        lines.append(f"{indent}  {_sequence_how(plan, seq)}")
    for cond, sub in plan.parents.items():
        parent = plan.project.entity_source(cond.parent)
        what = "exists" if cond.where is None else f"satisfies {_condition_text(cond.where)}"
        lines.append(
            f"{indent}parent {number('parent')}: the {plan.entity}'s {cond.parent} "
            f"({cond.column} = {parent.table_name}.{parent.key}) {what}{_used(used.get(cond))}"
        )
        _parts(sub.plan, {"ok": used.get(cond, [])}, indent + "  ", counters, lines)
    for cond, sub in plan.members.items():
        child = plan.project.entity_source(cond.child)
        which = "" if cond.where is None else f" that satisfy {_condition_text(cond.where)}"
        lines.append(
            f"{indent}members {number('members')}: per {plan.entity}, the number of its "
            f"{cond.child}s ({child.table_name}.{cond.column}){which}{_used(used.get(cond))}"
        )
        _parts(sub.plan, {"ok": used.get(cond, [])}, indent + "  ", counters, lines)


def _refresh_text(agg: Aggregate, top: bool) -> str:
    """How an incremental run computes the aggregate (SPEC section 10)."""
    why = not_kept_because(agg) if top else "a parent / members sub-plan is recomputed each run"
    return f"incremental: {how_kept(agg)}" if why is None else f"each run from the events: {why}"


def _used(names: list[str] | None) -> str:
    return f" (used by {', '.join(names)})" if names else ""


def _used_by(plan: EntityPlan, owners: dict[str, list[str]]) -> dict[Any, list[str]]:
    """Aggregate / sequence / parent / members condition -> the segments that use it
    (through `in_segment` references too)."""
    out: dict[Any, list[str]] = defaultdict(list)
    for name, cond in plan.outputs.items():
        for node in through_references(cond, plan.project.segments):
            key: Any = None
            if isinstance(node, EventCond):
                key = aggregate_of(node)
            elif isinstance(node, (SequenceCond, ParentCond, MembersCond)):
                key = node
            if key is not None:
                for owner in owners.get(name, []):
                    if owner not in out[key]:
                        out[key].append(owner)
    return out


# ------------------------------------------------------------------ scans


def scan_text(plan: EntityPlan, scan: Scan) -> str:
    """What a scan reads and how it groups, e.g. `add_to_cart from T-7d, login (all time),
    in events, grouped per user`."""
    who = plan.entity
    if isinstance(scan.window, SinceProperty):
        rows = f"{_events_text(scan.event_names())} from each {who}'s {scan.window.prop} on"
    elif isinstance(scan.window, SinceNthLast):
        anchor = f"{_ordinal(scan.window.n)} most recent {_events_text(scan.window.events)}"
        rows = (
            f"{_events_text(scan.event_names())} from each {who}'s {anchor} on "
            f"({who}s with fewer have none)"
        )
    else:
        sets = []
        for r in scan.row_sets():
            text = _events_text(r.names)
            if set(r.sources) != set(scan.sources):
                text += f" of {' + '.join(r.sources)}"
            bounds = " or ".join(_bound_text(b) for b in r.bounds)
            sets.append(f"{text} from {bounds}" if bounds else f"{text} (all time)")
        rows = ", ".join(sets)
    distinct = " (a distinct count reads alone)" if scan.kind == ScanKind.DISTINCT else ""
    return f"{rows}, in {' + '.join(scan.sources)}{distinct}, grouped per {who}"


def _agg_text(agg: Aggregate) -> str:
    """One aggregate in the YAML's words: `sum of properties.amount of order_completed in
    the last 30d`."""
    events = _events_text(agg.events)
    if agg.kind == "count":
        what = f"count of {events}"
    elif agg.kind == "count_distinct":
        what = f"number of distinct {agg.of} of {events}"
    elif agg.kind in ("first", "last"):
        what = f"time of the {agg.kind} {events}"
    else:
        what = f"{agg.kind} of {agg.of} of {events}"
    if agg.where is not None:
        what += f" where {_condition_text(agg.where)}"
    return f"{what} {_window_text(agg.window)}"


def _events_text(events: tuple[str, ...] | None) -> str:
    return "any event" if events is None else " or ".join(events)


def _bound_text(window: Window) -> str:
    if isinstance(window, Within):
        return f"T-{window.duration}"
    assert isinstance(window, During)
    return f"{window.start:%Y-%m-%d %H:%M:%S}"


def _window_text(window: Window | None) -> str:
    text = _WINDOW_TEXT.get(type(window))
    return text(window) if text is not None else "(all time)"


_WINDOW_TEXT: dict[type, Callable[[Any], str]] = {
    Within: lambda w: f"in the last {w.duration}",
    During: lambda w: f"from {w.start:%Y-%m-%d %H:%M:%S} to {w.end:%Y-%m-%d %H:%M:%S}",
    SinceProperty: lambda w: f"since {w.prop}" + (f" for {w.duration}" if w.duration else ""),
    SinceNthLast: lambda w: f"since the {_ordinal(w.n)} most recent {_events_text(w.events)}",
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ------------------------------------------------------------------ sequences


def _step_text(step: Step) -> str:
    text = _events_text(step.events)
    if step.where is not None:
        text += f" where {_condition_text(step.where)}"
    return text


def _steps_text(seq: SequenceCond) -> str:
    steps = [("no " if s.absent else "") + _step_text(s) for s in seq.steps]
    text = ", then ".join(steps)
    if seq.within is not None:
        text += f", the first in the last {seq.within}"
    if seq.completed_within is not None:
        text += f", completed within {seq.completed_within}"
    return text


def _sequence_how(plan: EntityPlan, seq: SequenceCond) -> str:
    """How the chain is found, as the SQL finds it: which first step it starts from, and
    which event each later step takes (the earliest after the one before, but the latest
    before an absent last step, which leaves the fewest events after it)."""
    present = [s for s in seq.steps if not s.absent]
    absent = seq.steps[-1] if seq.steps[-1].absent else None
    first = _events_text(present[0].events)
    if seq.within is not None:
        first += f" in the last {seq.within}"
    if seq.completed_within is not None:
        text = f"from every {first}"
    elif absent is not None and len(present) == 1:
        text = f"from each {plan.entity}'s latest {first}"
    else:
        text = f"from each {plan.entity}'s earliest {first}"
    for i, step in enumerate(present[1:], start=2):
        pick = "latest" if absent is not None and i == len(present) else "earliest"
        text += f", then the {pick} {_events_text(step.events)} after it"
    if seq.completed_within is not None and len(present) > 1:
        text += f" (within {seq.completed_within} of the first)"
    if absent is not None:
        text += f", and no {_events_text(absent.events)} after that up to T"
    return text


# ------------------------------------------------------------------ conditions


def _condition_text(cond: Condition) -> str:
    """A short account of a filter or sub-condition (properties and combinators in full,
    other conditions by their kind)."""
    text = _CONDITION_TEXT.get(type(cond))
    return text(cond) if text is not None else "its condition"


def _combined(items: tuple[Condition, ...], word: str, empty: str) -> str:
    texts = [_condition_text(c) for c in items]
    if not texts:
        return empty
    return texts[0] if len(texts) == 1 else "(" + f" {word} ".join(texts) + ")"


def _measure_text(cond: EventCond) -> str:
    m = cond.measure
    what = m.kind + (f" of {m.of}" if m.of is not None else "")
    tests = " and ".join(_test_text(t) for t in m.tests)
    return f"{what} of {_events_text(cond.events)} {_window_text(cond.window)} {tests}"


_CONDITION_TEXT = {
    PropertyCond: lambda c: " and ".join(f"{c.prop} {_test_text(t)}" for t in c.tests),
    All: lambda c: _combined(c.items, "and", "TRUE"),
    AnyOf: lambda c: _combined(c.items, "or", "FALSE"),
    Not: lambda c: f"not {_condition_text(c.item)}",
    InSegment: lambda c: f"in_segment {c.segment}",
    EventCond: _measure_text,
}


def _test_text(test: Test) -> str:
    def text(v: Any) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)

    if isinstance(test.value, tuple):
        return f"{test.op} [{', '.join(map(text, test.value))}]"
    return f"{test.op} {text(test.value)}"
