"""`segsql report`: the outcome of a segment's holdout experiment (SPEC section 14).

The counting is one query in the warehouse (compiler/outcomes.py); the statistics are
Python on the counts (runner/stats.py): per arm (treated: holdout FALSE, control:
holdout TRUE) entrants, how many met the goal, the rate and its Wilson interval; the
difference treated minus control with Newcombe's hybrid score interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..adapters.base import Adapter
from ..compiler.outcomes import outcome_query
from ..errors import UsageError
from ..model.types import Project, Segment
from ..state.tables import CHANGES
from .checks import check_sources
from .stats import Difference, newcombe, wilson

# an arm with fewer entrants is reported, but too small to conclude anything from
MIN_ARM = 30


@dataclass(frozen=True)
class Arm:
    name: str  # treated | control
    entrants: int
    reached: int

    @property
    def rate(self) -> float | None:
        return self.reached / self.entrants if self.entrants else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.reached, self.entrants) if self.entrants else None


@dataclass(frozen=True)
class Report:
    segment: str
    start: datetime
    end: datetime
    goal: str
    treated: Arm
    control: Arm
    difference: Difference | None

    @property
    def too_small(self) -> list[Arm]:
        return [a for a in (self.treated, self.control) if a.entrants < MIN_ARM]

    @property
    def conclusion(self) -> str:
        if self.too_small:
            arms = " and ".join(f"{a.name} ({a.entrants} entrants)" for a in self.too_small)
            return f"too small to conclude: {arms}; each arm needs at least {MIN_ARM} entrants"
        d = self.difference
        assert d is not None
        if d.low > 0:
            return "treated met the goal more often than control (the 95% interval excludes 0)"
        if d.high < 0:
            return "treated met the goal less often than control (the 95% interval excludes 0)"
        return "no difference shown: the 95% interval includes 0"


def goal_text(seg: Segment) -> str:
    goal = seg.goal
    assert goal is not None
    names = "any event" if goal.events is None else " or ".join(goal.events)
    where = " (with a filter)" if goal.where is not None else ""
    return f"{names}{where} within {goal.within} of entering"


def build_report(
    adapter: Adapter, project: Project, seg: Segment, start: datetime, end: datetime
) -> Report:
    """Count the arms in the warehouse, then the statistics."""
    if seg.goal is None:
        raise UsageError(
            f"segment '{seg.name}' has no 'goal:'; add one (e.g. goal: {{event: purchase, "
            "within: 14d}) to report its holdout outcome"
        )
    if end < start:
        raise UsageError("--to is before --from")
    counts = {False: (0, 0), True: (0, 0)}
    if adapter.relation_columns((adapter.schema, CHANGES)) is not None:
        project = check_sources(adapter, project, [seg])
        query = outcome_query(project, seg, adapter.dialect, adapter.table(CHANGES), start, end)
        for holdout, entrants, reached in adapter.fetch(query):
            counts[bool(holdout)] = (int(entrants), int(reached or 0))
    treated = Arm("treated", *counts[False])
    control = Arm("control", *counts[True])
    return Report(
        seg.name,
        start,
        end,
        goal_text(seg),
        treated,
        control,
        newcombe(treated.reached, treated.entrants, control.reached, control.entrants),
    )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def report_text(r: Report) -> str:
    lines = [
        f"segment {r.segment}: entered {r.start:%Y-%m-%d %H:%M:%S} to {r.end:%Y-%m-%d %H:%M:%S}"
        f" UTC; goal: {r.goal}",
        f"{'arm':<8} {'entrants':>9} {'met goal':>9} {'rate':>7}  95% interval",
    ]
    for arm in (r.treated, r.control):
        ci = arm.interval
        shown = f"{_pct(ci[0])} to {_pct(ci[1])}" if ci else "-"
        lines.append(
            f"{arm.name:<8} {arm.entrants:>9} {arm.reached:>9} {_pct(arm.rate):>7}  {shown}"
        )
    d = r.difference
    if d is not None:
        lines.append(
            f"difference (treated - control): {100 * d.estimate:+.1f} points, 95% interval "
            f"{100 * d.low:+.1f} to {100 * d.high:+.1f} (Newcombe hybrid score)"
        )
    else:
        lines.append("difference (treated - control): - (an arm has no entrants)")
    lines.append(r.conclusion)
    return "\n".join(lines)


def report_json(r: Report) -> dict[str, Any]:
    def arm(a: Arm) -> dict[str, Any]:
        ci = a.interval
        return {
            "entrants": a.entrants,
            "met_goal": a.reached,
            "rate": a.rate,
            "interval": list(ci) if ci else None,
        }

    d = r.difference
    return {
        "segment": r.segment,
        "from": r.start.isoformat() + "Z",
        "to": r.end.isoformat() + "Z",
        "goal": r.goal,
        "treated": arm(r.treated),
        "control": arm(r.control),
        "difference": None
        if d is None
        else {"estimate": d.estimate, "low": d.low, "high": d.high, "method": "newcombe"},
        "too_small": [a.name for a in r.too_small],
        "conclusion": r.conclusion,
    }
