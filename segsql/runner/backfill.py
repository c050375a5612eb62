"""`segsql backfill`: a new segment's history from before it existed (SPEC section 11).

It refreshes the selected segments at T = from, from + every, ... while T < to, then at
`to`, in order, each step writing exactly what `segsql run --all --select S --as-of T`
writes, evaluated on the warehouse as it is now. Its first step is the segments' first
successful run, so its entries are `initial`. Only segments without a successful run can
be backfilled: anything else is refused before anything is written.

The first and the last step are ordinary runs (`run_segments`). Where the engine and the
segments allow it (`batchable`), the steps between are evaluated in one query per entity
type and written in one transaction (`batched`, state/steps.py); else each is a run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from ..adapters.base import Adapter
from ..clock import utcnow
from ..compiler import reason_expr
from ..compiler.steps import STEP_T, steps_evaluation_query
from ..dialects.base import lit
from ..errors import UsageError, one_line
from ..model.types import Duration, Project, Segment
from ..state.reasons import SOURCE, Reasons
from ..state.steps import (
    last_memberships,
    members_rows,
    step_change_rows,
    step_changes,
    step_counts,
    step_run_rows,
    steps_rows,
)
from ..state.tables import CHANGES, MEMBERSHIPS, RUNS, SegmentRun, c, insert
from .checks import check_sources
from .guardrails import exit_share_limit, has_run_rules
from .run import SegmentResult, definition_hash, read_last_success, run_segments

log = logging.getLogger("segsql.backfill")

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
    batch: bool = True,
) -> list[list[SegmentResult]]:
    """Run `segments` at each of `times` in order (each step a forced run); stops after
    a step in which a segment failed (its later history would have a hole). Returns the
    results per step done. Where `batchable`, the steps between the first and the last
    are written together (`batched`); the first and the last are ordinary runs, the last
    one writing the kept state that later runs start from. `batch=False`: every step an
    ordinary run (bench/backfill.py measures both)."""
    refuse_ran(adapter, segments)
    batch = batch and len(times) > 2 and batchable(adapter, segments)
    done: list[list[SegmentResult]] = []

    def record(i: int, results: list[SegmentResult]) -> bool:
        done.append(results)
        if step_done is not None:
            step_done(i, times[i], results)
        return any(r.status == "error" for r in results)

    i = 0
    while i < len(times):
        if batch and i == 1:
            steps = batched(adapter, project, segments, times[:-1])
            if steps is not None:
                for k, results in enumerate(steps, start=1):
                    record(k, results)
                i = len(times) - 1
                continue
        # the views and state tables are the same at every T: made at the first step only;
        # a batched first step keeps no state (the steps after it are evaluated whole)
        results = run_segments(
            adapter,
            project,
            segments,
            times[i],
            force=True,
            setup=i == 0,
            state=not (batch and i == 0),
        )
        if record(i, results):
            break
        i += 1
    return done


def batchable(adapter: Adapter, segments: list[Segment]) -> bool:
    """Can the steps be written together: an engine with transactions that evaluates a
    query per row of a table (`lateral_queries`), and no rule that depends on the step
    before (cooldown, dwell, the exit brake: they are applied step by step)."""
    return (
        adapter.SUPPORTS_TRANSACTIONS
        and adapter.dialect.lateral_queries
        and not any(has_run_rules(s) or exit_share_limit(adapter, s) is not None for s in segments)
    )


def batched(
    adapter: Adapter, project: Project, segments: list[Segment], times: list[datetime]
) -> list[list[SegmentResult]] | None:
    """Steps 1.. of `times` (step 0 written already, by an ordinary run) in one
    transaction: each step's change rows and `success` rows, then the membership rows of
    the last (state/steps.py). Returns the results per step; None, with nothing written,
    when it fails (the caller goes on step by step, where errors are reported)."""
    last = len(times) - 1
    try:
        with adapter.run_lock():
            project = check_sources(adapter, project, segments)  # its zone-aware columns
            started = utcnow()
            staged = _Staged.of(adapter, project, segments, times, started)
            with adapter.transaction():
                staged.write(adapter, project, segments, times[0], started)
            found: dict[tuple[int, str], dict[str, int]] = {}
            for step, segment, kind, n in adapter.fetch(
                exp.select(exp.Star()).from_(staged.counts)
            ):
                found.setdefault((int(step), segment), {})[kind] = int(n)
    except Exception as err:  # noqa: BLE001 - step by step instead, where errors are reported
        log.warning("writing the backfill's steps together failed; running them one by one")
        log.debug("the batch failed with: %s", one_line(err))
        return None
    seconds = (utcnow() - started).total_seconds() / (last * len(segments))
    return [
        [
            SegmentResult(
                seg.name,
                "success",
                *(found.get((i, seg.name), {}).get(k, 0) for k in ("members", "entered", "exited")),
                seconds=seconds,
                batch=len(segments),
            )
            for seg in segments
        ]
        for i in range(1, last + 1)
    ]


@dataclass
class _Staged:
    """The temp tables of a batch of steps (state/steps.py); `evaluated`: per entity
    type, the evaluation of every step and the segments in it."""

    steps: exp.Table
    evaluated: dict[str, tuple[exp.Table, list[Segment]]]
    members: exp.Table
    changes: exp.Table
    counts: exp.Table
    last: int

    @classmethod
    def of(
        cls,
        adapter: Adapter,
        project: Project,
        segments: list[Segment],
        times: list[datetime],
        started: datetime,
    ) -> _Staged:
        d = adapter.dialect
        ids = [f"{started:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}-{i}" for i in range(len(times))]
        steps = adapter.temp_table(
            "segsql_steps", steps_rows(d, list(zip(times, ids, strict=True)))
        )
        by_entity: dict[str, list[Segment]] = {}
        for seg in segments:
            by_entity.setdefault(seg.entity, []).append(seg)
        evaluated = {
            entity: (
                adapter.temp_table(
                    f"segsql_eval_steps_{entity}",
                    steps_evaluation_query(project, entity, segs, d, steps),
                ),
                segs,
            )
            for entity, segs in by_entity.items()
        }
        last = len(times) - 1
        members = adapter.temp_table("segsql_step_members", members_rows(d, evaluated))
        changes = adapter.temp_table("segsql_step_changes", step_changes(members, last))
        counts = adapter.temp_table("segsql_step_counts", step_counts(members, changes))
        return cls(steps, evaluated, members, changes, counts, last)

    def write(
        self,
        adapter: Adapter,
        project: Project,
        segments: list[Segment],
        first: datetime,
        started: datetime,
    ) -> None:
        """The change rows, the last step's memberships (replacing step 0's), the
        `success` rows."""
        d = adapter.dialect
        step_T = c(STEP_T, SOURCE)  # the T of a change row's step
        for entity, (table, segs) in self.evaluated.items():
            # (the change rows read only the segment and the Reasons of these)
            reasons = [
                SegmentRun(
                    "",
                    seg.name,
                    entity,
                    first,
                    started,
                    "",
                    reasons=Reasons(table, entity, reason_expr(d, project, seg, SOURCE, step_T)),
                )
                for seg in segs
            ]
            rows = step_change_rows(self.changes, self.steps, entity, reasons)
            adapter.execute(insert(adapter.table(CHANGES), rows, CHANGES))
        memberships = adapter.table(MEMBERSHIPS)
        names = [lit(seg.name) for seg in segments]
        adapter.execute(exp.delete(memberships.copy(), where=c("segment").isin(*names)))
        rows = last_memberships(self.members, self.changes, self.steps, self.last, d.instant(first))
        adapter.execute(insert(memberships, rows, MEMBERSHIPS))
        hashes = {seg.name: definition_hash(project, seg) for seg in segments}
        rows = step_run_rows(d, self.steps, self.counts, hashes, started, utcnow())
        adapter.execute(insert(adapter.table(RUNS), rows, RUNS))
