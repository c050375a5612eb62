"""`segsql backfill`: a new segment's history from before it existed (SPEC section 11).

It refreshes the selected segments at T = from, from + every, ... while T < to, then at
`to`, in order, each step exactly `segsql run --all --select S --as-of T` (the same
`run_segments`), evaluated on the warehouse as it is now. Its first step is the
segments' first successful run, so its entries are `initial`. Only segments without a
successful run can be backfilled: anything else is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..adapters.base import Adapter
from ..errors import UsageError
from ..model.types import Duration, Project, Segment
from .run import SegmentResult, read_last_success, run_segments

MAX_STEPS = 100_000


def steps(start: datetime, end: datetime, every: Duration) -> list[datetime]:
    """start, start + every, ... while < end, then end (once, on the grid or not)."""
    if end < start:
        raise UsageError(f"--to {end:%Y-%m-%d %H:%M:%S} is before --from {start:%Y-%m-%d %H:%M:%S}")
    step = timedelta(seconds=every.seconds)
    out, t = [], start
    while t < end:
        out.append(t)
        t += step
        if len(out) > MAX_STEPS:
            raise UsageError(
                f"--every {every} from {start:%Y-%m-%d} to {end:%Y-%m-%d} is more than "
                f"{MAX_STEPS} steps; choose a longer --every"
            )
    return [*out, end]


def refuse_ran(adapter: Adapter, segments: list[Segment]) -> None:
    """Backfill writes history before a segment's first run: one that already ran
    successfully is a usage error (exit 2), naming them; nothing is written."""
    last = read_last_success(adapter)
    ran = [s.name for s in segments if s.name in last]
    if ran:
        shown = ", ".join(f"{n} (last run at {last[n]:%Y-%m-%d %H:%M:%S})" for n in ran)
        raise UsageError(
            f"cannot backfill segments that already ran: {shown}; backfill gives a new "
            "segment its history before its first run; nothing was written"
        )


def backfill(
    adapter: Adapter,
    project: Project,
    segments: list[Segment],
    times: list[datetime],
    step_done: Callable[[int, datetime, list[SegmentResult]], None] | None = None,
) -> list[list[SegmentResult]]:
    """Run `segments` at each of `times` in order (each step a forced run); stops after
    a step in which a segment failed (its later history would have a hole). Returns the
    results per step done."""
    refuse_ran(adapter, segments)
    done: list[list[SegmentResult]] = []
    for i, T in enumerate(times):
        # the views and state tables are the same at every T: made at the first step only
        results = run_segments(adapter, project, segments, T, force=True, setup=i == 0)
        done.append(results)
        if step_done is not None:
            step_done(i, T, results)
        if any(r.status == "error" for r in results):
            break
    return done
