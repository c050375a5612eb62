"""`segsql run`: refresh the due segments at T and record what changed.

Order of work: read state -> decide what is due -> refuse an --as-of before a segment's
last successful run (nothing written) -> schema, state tables, views -> per entity type
one evaluation of all its due segments, then one batched write of them
(`Adapter.write_segments`: one transaction on transactional engines); if that fails, each
segment is written on its own, so that a failing segment fails alone.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from ..adapters.base import Adapter
from ..clock import utcnow
from ..compiler import evaluation_query, holdout_expr, view_query
from ..errors import UsageError, one_line
from ..model.types import Project, Segment
from ..model.walk import dependencies
from ..state.tables import RUNS, TABLES, SegmentRun, c, insert
from ..state.writes import last_success, run_row

log = logging.getLogger("segsql.run")


@dataclass
class SegmentResult:
    """One segment's outcome. `seconds`: its own write, or for segments written together
    in one batch, the batch's time divided equally among them."""

    segment: str
    status: str  # success | error | skipped
    members: int = 0
    entered: int = 0
    exited: int = 0
    seconds: float = 0.0
    error: str | None = None


def definition_hash(project: Project, segment: Segment) -> str:
    """Changes when the segment or anything it references changes (not its description)."""
    seen, todo, parts = set(), [segment.name], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        seg = project.segments[name]
        parts.append(repr((seg.name, seg.entity, seg.holdout, seg.where)))
        todo.extend(dependencies(seg))
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def read_last_success(adapter: Adapter) -> dict[str, datetime]:
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return {}
    return {seg: ts for seg, ts in adapter.fetch(last_success(adapter.table(RUNS)))}


def due_segments(
    segments: list[Segment], last: dict[str, datetime], as_of: datetime, force: bool
) -> list[Segment]:
    return [
        s
        for s in segments
        if force
        or s.refresh is None
        or s.name not in last
        or as_of >= last[s.name] + timedelta(seconds=s.refresh.seconds)
    ]


def check_as_of(due: list[Segment], last: dict[str, datetime], as_of: datetime) -> None:
    late = [
        f"{s.name} (last run at {last[s.name]:%Y-%m-%d %H:%M:%S})"
        for s in due
        if s.name in last and as_of < last[s.name]
    ]
    if late:
        raise UsageError(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S} is earlier than the last successful "
            "run of: " + ", ".join(late) + "; nothing was written"
        )


def prepare(adapter: Adapter) -> None:
    """segsql's schema and state tables."""
    adapter.create_schema()
    for name, columns in TABLES.items():
        adapter.create_table(adapter.table(name), columns)


def replace_views(adapter: Adapter, project: Project, segments: list[Segment]) -> dict[str, str]:
    """(Re)create the live view of each segment; returns segment -> error for failures."""
    failed = {}
    for seg in segments:
        try:
            adapter.replace_view(seg.name, view_query(project, seg, adapter.dialect))
        except Exception as err:  # noqa: BLE001 - that segment fails, the others go on
            failed[seg.name] = f"cannot create view: {one_line(err)}"
    return failed


def run_segments(
    adapter: Adapter,
    project: Project,
    selected: list[Segment],
    as_of: datetime,
    *,
    force: bool = False,
    fail_fast: bool = False,
    lock_timeout: float = 0,
    report: Callable[[str, SegmentResult | None, int, int], None] | None = None,
    timings: Callable[[str, float], None] | None = None,
) -> list[SegmentResult]:
    """Refresh the due segments among `selected`; returns one result per selected segment.
    Holds the target's run lock throughout (waiting up to `lock_timeout` seconds).
    `timings(phase, seconds)` is called after each step of the work, with `phase` one of
    "views" (the live views), "evaluate" (one entity type's evaluation query) and "write"
    (one entity type's batched write, or one segment written on its own)."""
    report = report or (lambda *_: None)
    timings = timings or (lambda *_: None)
    with adapter.run_lock(lock_timeout):
        return _run_locked(adapter, project, selected, as_of, force, fail_fast, report, timings)


def _timed(timings: Callable[[str, float], None], phase: str, fn, *args):
    """fn(*args), its wall time reported as `phase` (also when it raises)."""
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        timings(phase, time.perf_counter() - start)


def _run_locked(adapter, project, selected, as_of, force, fail_fast, report, timings):
    last = read_last_success(adapter)
    due = due_segments(selected, last, as_of, force)
    check_as_of(due, last, as_of)
    prepare(adapter)
    for run_id, segment, way in adapter.recover():
        log.warning("recovered interrupted refresh of %s (run %s): rolled %s", segment, run_id, way)
    view_errors = _timed(timings, "views", replace_views, adapter, project, selected)
    started = utcnow()
    run_id = f"{started:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    results = {
        s.name: SegmentResult(
            s.name, "error" if s.name in view_errors else "skipped", error=view_errors.get(s.name)
        )
        for s in selected
    }
    order = {name: i for i, name in enumerate(topological([s.name for s in due], project))}
    due.sort(key=lambda s: order[s.name])
    by_entity: dict[str, list[Segment]] = {}
    for seg in due:
        by_entity.setdefault(seg.entity, []).append(seg)
    done = 0
    for entity, segments in by_entity.items():
        evaluated = _timed(
            timings, "evaluate", _evaluate, adapter, project, entity, segments, as_of
        )
        batch = _batchable(segments, view_errors, fail_fast)
        written = _timed(
            timings, "write", _write_batch, adapter, project, batch, evaluated, as_of, run_id
        )
        for seg in segments:
            done += 1
            report("start", SegmentResult(seg.name, "running"), done, len(due))
            if seg.name in view_errors:
                result = results[seg.name]
                _record_error(adapter, _segment_run(project, seg, as_of, run_id), result.error)
            elif seg.name in written:
                result = written[seg.name]
            else:  # no evaluation table, or the batch failed: on its own, as its own error
                result = _timed(
                    timings, "write", _refresh, adapter, project, seg, evaluated, as_of, run_id
                )
            results[seg.name] = result
            report("done", result, done, len(due))
            if result.status == "error" and fail_fast:
                return list(results.values())
    return list(results.values())


def _evaluate(
    adapter: Adapter, project: Project, entity: str, segments: list[Segment], as_of: datetime
) -> exp.Table | None:
    """All due segments of one entity type in one query, into a temp table; None when it
    fails (each segment is then evaluated on its own, so one bad segment fails alone)."""
    try:
        return adapter.temp_table(
            f"segsql_eval_{entity}",
            evaluation_query(project, entity, segments, adapter.dialect, as_of),
        )
    except Exception:  # noqa: BLE001 - retried per segment, where the error is reported
        return None


def _batchable(
    segments: list[Segment], view_errors: dict[str, str], fail_fast: bool
) -> list[Segment]:
    """The segments to write together: those whose view was created; with --fail-fast,
    only those before the first that failed (the run stops there)."""
    out = []
    for seg in segments:
        if seg.name in view_errors:
            if fail_fast:
                break
            continue
        out.append(seg)
    return out


def _members(adapter: Adapter, seg: Segment, source: exp.Table) -> exp.Select:
    """The segment's members at T: (entity_id text, holdout) from the evaluation table
    (whose id column is EVALUATION_ID: a segment may be named `entity_id`)."""
    from ..compiler import EVALUATION_ID

    return (
        exp.select(
            exp.alias_(c(EVALUATION_ID), "entity_id", quoted=True),
            exp.alias_(
                holdout_expr(adapter.dialect, seg, c(EVALUATION_ID)), "holdout", quoted=True
            ),
        )
        .from_(source.copy())
        .where(c(seg.name))
    )


def _write_batch(
    adapter: Adapter,
    project: Project,
    segments: list[Segment],
    evaluated: exp.Table | None,
    as_of: datetime,
    run_id: str,
) -> dict[str, SegmentResult]:
    """Write `segments` together (one transaction where the engine has them); returns the
    results of those written. After a failure, only those the engine had committed anyway
    (see `_after_failed_batch`): the caller writes the others one by one."""
    if evaluated is None or not segments:
        return {}
    start = time.perf_counter()
    runs = [_segment_run(project, seg, as_of, run_id) for seg in segments]
    members = {seg.name: _members(adapter, seg, evaluated) for seg in segments}
    try:
        counts = adapter.write_segments(runs, members, utcnow)
    except Exception as err:  # noqa: BLE001 - retried one by one, where errors are reported
        log.warning("writing %d segments together failed; writing them one by one", len(runs))
        log.debug("the batch failed with: %s", one_line(err))
        counts = _after_failed_batch(adapter, runs)
    seconds = (time.perf_counter() - start) / len(runs)
    return {name: SegmentResult(name, "success", *n, seconds=seconds) for name, n in counts.items()}


def _after_failed_batch(
    adapter: Adapter, runs: list[SegmentRun]
) -> dict[str, tuple[int, int, int]]:
    """The counts of the segments of a failed batch that are committed all the same: all
    of them if it failed after its commit; on engines without transactions (swap.py), those
    written before the failing one, which is repaired here (rolled forward or back)."""
    try:
        done = _committed(adapter, runs[0].run_id)
    except Exception:  # noqa: BLE001 - the warehouse is gone; the next run recovers
        return {}
    failing = next((run for run in runs if run.segment not in done), None)
    if failing is not None and (counts := _repair(adapter, failing)) is not None:
        done[failing.segment] = counts
    return {run.segment: done[run.segment] for run in runs if run.segment in done}


def _refresh(
    adapter: Adapter,
    project: Project,
    seg: Segment,
    evaluated: exp.Table | None,
    as_of: datetime,
    run_id: str,
) -> SegmentResult:
    start = time.perf_counter()
    run = _segment_run(project, seg, as_of, run_id)
    try:
        source = evaluated
        if source is None:
            source = adapter.temp_table(
                "segsql_eval_one",
                evaluation_query(project, seg.entity, [seg], adapter.dialect, as_of),
            )
        counts = adapter.write_segment(run, _members(adapter, seg, source), utcnow)
        return SegmentResult(seg.name, "success", *counts, seconds=time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001 - recorded, reported, and the run goes on
        message = one_line(err)
        committed = _repair(adapter, run)
        if committed is not None:  # the engine had already committed it (see swap.py)
            return SegmentResult(
                seg.name, "success", *committed, seconds=time.perf_counter() - start
            )
        _record_error(adapter, run, message)
        return SegmentResult(seg.name, "error", seconds=time.perf_counter() - start, error=message)


def _repair(adapter: Adapter, run: SegmentRun) -> tuple[int, int, int] | None:
    """After a failed write: let the adapter roll it forward or back; the counts if it
    turned out committed."""
    try:
        adapter.recover(failing=(run.run_id, run.segment))
        return _committed(adapter, run.run_id, run.segment).get(run.segment)
    except Exception:  # noqa: BLE001 - the warehouse is gone; the next run recovers
        return None


def _committed(
    adapter: Adapter, run_id: str, segment: str | None = None
) -> dict[str, tuple[int, int, int]]:
    """segment -> (members, entered, exited) of the `success` rows of run `run_id` (of
    `segment` only, if given)."""
    where = exp.and_(
        c("run_id").eq(exp.Literal.string(run_id)),
        c("status").eq(exp.Literal.string("success")),
    )
    if segment is not None:
        where = exp.and_(where, c("segment").eq(exp.Literal.string(segment)))
    rows = adapter.fetch(
        exp.select(c("segment"), c("members"), c("entered"), c("exited"))
        .from_(adapter.table(RUNS))
        .where(where)
    )
    return {seg: (int(m), int(e), int(x)) for seg, m, e, x in rows}


def _segment_run(project: Project, seg: Segment, as_of: datetime, run_id: str) -> SegmentRun:
    return SegmentRun(run_id, seg.name, seg.entity, as_of, utcnow(), definition_hash(project, seg))


def _record_error(adapter: Adapter, run: SegmentRun, message: str) -> None:
    """An `error` row in segsql_runs, where the warehouse can still take it."""
    try:
        with adapter.transaction():
            adapter.execute(
                insert(
                    adapter.table(RUNS),
                    run_row(run, adapter.dialect, "error", utcnow(), None, message[:2000]),
                    RUNS,
                )
            )
    except Exception:  # noqa: BLE001 - the warehouse is gone; the CLI still reports it
        pass


def topological(names: list[str], project: Project) -> list[str]:
    """Segments after the segments they reference (for a readable order of work)."""
    out: list[str] = []

    def visit(name: str) -> None:
        if name in out:
            return
        for dep in dependencies(project.segments[name]):
            visit(dep)
        out.append(name)

    for name in names:
        visit(name)
    return [n for n in out if n in names]
