"""`segsql backfill`: a new segment's history from before it existed (SPEC section 11).

It refreshes the selected segments at T = from, from + every, ... while T < to, then at
`to`, in order, each step writing exactly what `segsql run --all --select S --as-of T`
writes, evaluated on the warehouse as it is now. Its first step is the segments' first
successful run, so its entries are `initial`. Only segments without a successful run can
be backfilled: anything else is refused before anything is written.

Where the engine and the segments allow it (`batchable`), all the steps but the last are
evaluated in one query per entity type and written in one transaction (`batched`,
state/steps.py); the last, and every step elsewhere, is an ordinary run (`run_segments`).
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
from .run import (
    SegmentResult,
    definition_hash,
    prepare,
    read_last_success,
    replace_views,
    run_segments,
)

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
    batch_started: Callable[[int], None] | None = None,
    batch: bool = True,
) -> list[list[SegmentResult]]:
    """Run `segments` at each of `times` in order (each step a forced run); stops after
    a step in which a segment failed (its later history would have a hole). Returns the
    results per step done. Where `batchable`, all the steps but the last are written
    together (`batched`); the last is an ordinary run, which writes the kept state that
    later runs start from; `batch_started` is told how many steps the batch has before
    it starts. `batch=False`: every step an ordinary run (bench/backfill.py measures
    both)."""
    refuse_ran(adapter, segments)
    done: list[list[SegmentResult]] = []
    first = 0
    if batch and len(times) > 1 and batchable(adapter, segments):
        if batch_started is not None:
            batch_started(len(times) - 1)
        steps = batched(adapter, project, segments, times[:-1])
        if steps is not None:
            done.extend(steps)
            first = len(steps)
    if step_done is not None:
        for i, results in enumerate(done):
            step_done(i, times[i], results)
    for i in range(first, len(times)):
        # the views and state tables are the same at every T: made at the first step only
        results = run_segments(adapter, project, segments, times[i], force=True, setup=i == 0)
        done.append(results)
        if step_done is not None:
            step_done(i, times[i], results)
        if any(r.status == "error" for r in results):
            break
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
    """The steps at `times` in one transaction, the first being the segments' first run:
    after the setup of a run (state tables, live views), each step's change rows and
    `success` rows, then the membership rows of the last (state/steps.py). Returns the
    results per step; None, with nothing written but the views, when a view or the
    batch fails (the caller runs the steps one by one, where errors are reported)."""
    try:
        with adapter.run_lock():
            project = check_sources(adapter, project, segments)  # its zone-aware columns
            prepare(adapter, project)
            for run_id, segment, way in adapter.recover():
                log.warning(
                    "recovered interrupted refresh of %s (run %s): rolled %s", segment, run_id, way
                )
            if replace_views(adapter, project, segments):
                return None
            started = utcnow()
            staged = _Staged.of(adapter, project, segments, times, started)
            with adapter.transaction():
                staged.write(adapter, project, segments, started)
            found: dict[tuple[int, str], dict[str, int]] = {}
            for step, segment, kind, n in adapter.fetch(
                exp.select(exp.Star()).from_(staged.counts)
            ):
                found.setdefault((int(step), segment), {})[kind] = int(n)
    except Exception as err:  # noqa: BLE001 - step by step instead, where errors are reported
        log.warning("writing the backfill's steps together failed; running them one by one")
        log.debug("the batch failed with: %s", one_line(err))
        return None
    seconds = (utcnow() - started).total_seconds() / (len(times) * len(segments))
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
        for i in range(len(times))
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
        self, adapter: Adapter, project: Project, segments: list[Segment], started: datetime
    ) -> None:
        """The change rows, the last step's memberships, the `success` rows."""
        d = adapter.dialect
        step_T = c(STEP_T, SOURCE)  # the T of a change row's step
        for entity, (table, segs) in self.evaluated.items():
            # (the change rows read only the segment and the Reasons of these)
            reasons = [
                SegmentRun(
                    "",
                    seg.name,
                    entity,
                    started,
                    started,
                    "",
                    reasons=Reasons(table, entity, reason_expr(d, project, seg, SOURCE, step_T)),
                )
                for seg in segs
            ]
            rows = step_change_rows(self.changes, self.steps, entity, reasons)
            adapter.execute(insert(adapter.table(CHANGES), rows, CHANGES))
        memberships = adapter.table(MEMBERSHIPS)
        names = [lit(seg.name) for seg in segments]  # (a segment that never ran has none)
        adapter.execute(exp.delete(memberships.copy(), where=c("segment").isin(*names)))
        rows = last_memberships(self.members, self.changes, self.steps, self.last)
        adapter.execute(insert(memberships, rows, MEMBERSHIPS))
        hashes = {seg.name: definition_hash(project, seg) for seg in segments}
        rows = step_run_rows(d, self.steps, self.counts, hashes, started, utcnow())
        adapter.execute(insert(adapter.table(RUNS), rows, RUNS))
