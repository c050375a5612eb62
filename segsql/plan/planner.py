"""The plan: which per-entity features the due segments need, deduplicated across segments.

A plan is computed from the model alone (no SQL, no connection), so it can be explained
(`segsql compile --plan`) and changed without touching the language or the runner.

Feature kinds and how they are computed:
- aggregate: a conditional aggregate in a *scan* (one GROUP BY per set of event sources);
  identical aggregates of different segments are one column.
- anchor: the n-th most recent anchor event per entity (a window function), for
  `since_nth_last`.
- sequence: a chain of per-step joins keeping the earliest next step, per entity.
- parent: a sub-plan over the parent entity, joined by the child's parent key.
- members: a sub-plan over the child entity, counted per parent key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    Prop,
    SequenceCond,
    SinceNthLast,
    Window,
    Within,
)


@dataclass(frozen=True)
class Aggregate:
    """One aggregate over event rows: e.g. COUNT of `add_to_cart` in the last 7 days."""

    kind: str  # count, count_distinct, sum, avg, min, max, first, last
    of: Prop | None
    events: tuple[str, ...] | None
    where: Condition | None
    window: Window | None


@dataclass
class Scan:
    """One pass over a set of event sources, grouped by entity."""

    alias: str
    sources: tuple[str, ...]
    columns: dict[Aggregate, str] = field(default_factory=dict)

    def lower_bound(self) -> Window | None:
        """The widest constant lower time bound every aggregate shares (for pre-filtering)."""
        windows = [a.window for a in self.columns]
        if windows and all(isinstance(w, Within) for w in windows):
            return max(windows, key=lambda w: w.duration.seconds)  # type: ignore[union-attr]
        if windows and all(isinstance(w, During) for w in windows):
            return min(windows, key=lambda w: w.start)  # type: ignore[union-attr]
        return None

    def event_names(self) -> tuple[str, ...] | None:
        """The event names this scan needs, or None when some aggregate takes any event."""
        names: set[str] = set()
        for agg in self.columns:
            if agg.events is None:
                return None
            names.update(agg.events)
        return tuple(sorted(names))


@dataclass
class EntityPlan:
    project: Project
    entity: str
    outputs: dict[str, Condition]
    scans: dict[tuple[str, ...], Scan] = field(default_factory=dict)
    anchors: dict[SinceNthLast, str] = field(default_factory=dict)
    sequences: dict[SequenceCond, str] = field(default_factory=dict)
    parents: dict[ParentCond, tuple[str, EntityPlan]] = field(default_factory=dict)
    members: dict[MembersCond, tuple[str, EntityPlan]] = field(default_factory=dict)
    _counter: int = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    # -- lookups used by the renderer
    def aggregate(self, cond: EventCond) -> tuple[str, str]:
        """(scan alias, column) of an event condition's aggregate."""
        scan = self.scans[cond.sources]
        return scan.alias, scan.columns[aggregate_of(cond)]


def aggregate_of(cond: EventCond) -> Aggregate:
    return Aggregate(cond.measure.kind, cond.measure.of, cond.events, cond.where, cond.window)


def plan_entity(project: Project, entity: str, outputs: dict[str, Condition]) -> EntityPlan:
    """Plan the evaluation of `outputs` (name -> condition) over entities of `entity`."""
    plan = EntityPlan(project, entity, dict(outputs))
    for cond in outputs.values():
        _collect(plan, cond)
    return plan


def _collect(plan: EntityPlan, cond: Condition) -> None:
    if isinstance(cond, (All, AnyOf)):
        for item in cond.items:
            _collect(plan, item)
    elif isinstance(cond, Not):
        _collect(plan, cond.item)
    elif isinstance(cond, InSegment):
        _collect(plan, plan.project.segments[cond.segment].where)
    elif isinstance(cond, EventCond):
        if isinstance(cond.window, SinceNthLast) and cond.window not in plan.anchors:
            plan.anchors[cond.window] = plan._name("a")
        scan = plan.scans.get(cond.sources)
        if scan is None:
            scan = plan.scans[cond.sources] = Scan(plan._name("s"), cond.sources)
        agg = aggregate_of(cond)
        if agg not in scan.columns:
            scan.columns[agg] = f"f{len(scan.columns) + 1}"
    elif isinstance(cond, SequenceCond):
        if cond not in plan.sequences:
            plan.sequences[cond] = plan._name("q")
    elif isinstance(cond, ParentCond):
        if cond not in plan.parents:
            outputs = {"ok": cond.where} if cond.where is not None else {}
            plan.parents[cond] = (plan._name("p"), plan_entity(plan.project, cond.parent, outputs))
    elif isinstance(cond, MembersCond) and cond not in plan.members:
        outputs = {"ok": cond.where} if cond.where is not None else {}
        plan.members[cond] = (plan._name("m"), plan_entity(plan.project, cond.child, outputs))


def explain(plan: EntityPlan, indent: str = "") -> str:
    """A human-readable account of the plan (what `compile --plan` prints)."""
    src = plan.project.entity_source(plan.entity)
    lines = [
        f"{indent}entity '{plan.entity}' from {src.table_name} "
        f"({len(plan.outputs)} output(s): {', '.join(plan.outputs) or '-'})"
    ]
    for scan in plan.scans.values():
        names = scan.event_names()
        bound = scan.lower_bound()
        lines.append(
            f"{indent}  scan {scan.alias}: {' + '.join(scan.sources)}, events "
            f"{', '.join(names) if names else 'any'}"
            + (f", from {_window_text(bound)}" if bound else "")
            + f", group by entity -> {len(scan.columns)} aggregate(s)"
        )
        for agg, column in scan.columns.items():
            lines.append(f"{indent}    {column}: {_agg_text(agg)}")
    for anchor, alias in plan.anchors.items():
        lines.append(
            f"{indent}  anchor {alias}: {anchor.n}-th most recent "
            f"{_events_text(anchor.events)} (window function)"
        )
    for seq, alias in plan.sequences.items():
        steps = " -> ".join(
            ("not " if s.absent else "") + _events_text(s.events) for s in seq.steps
        )
        lines.append(f"{indent}  sequence {alias}: {steps} (step-by-step joins)")
    for cond, (alias, sub) in plan.parents.items():
        lines.append(f"{indent}  parent {alias}: join on {cond.column}")
        lines.append(explain(sub, indent + "    "))
    for cond, (alias, sub) in plan.members.items():
        lines.append(f"{indent}  members {alias}: count of '{cond.child}' per {cond.column}")
        lines.append(explain(sub, indent + "    "))
    return "\n".join(lines)


def _events_text(events: tuple[str, ...] | None) -> str:
    return "any event" if events is None else "|".join(events)


def _window_text(window: Window | None) -> str:
    if isinstance(window, Within):
        return f"T-{window.duration}"
    if isinstance(window, During):
        return f"{window.start:%Y-%m-%d %H:%M:%S} to {window.end:%Y-%m-%d %H:%M:%S}"
    return type(window).__name__ if window else "all time"


def _agg_text(agg: Aggregate) -> str:
    of = f"({agg.of})" if agg.of else ""
    where = " where ..." if agg.where is not None else ""
    return f"{agg.kind}{of} of {_events_text(agg.events)}{where}, {_window_text(agg.window)}"
