"""`segsql run`: refresh the due segments at T and record what changed.

Order of work: read state -> decide what is due -> refuse an --as-of before a segment's
last successful run (nothing written) -> schema, state tables, views -> per entity type
one evaluation of all its due segments -> per segment one atomic write.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler import evaluation_query, holdout_expr, view_query
from ..errors import UsageError
from ..model.types import Project, Segment
from . import faults
from .state import CHANGES, MEMBERSHIPS, RUNS, TABLES, SegmentRun, c, last_success, run_row

log = logging.getLogger("segsql.run")


@dataclass
class SegmentResult:
    segment: str
    status: str  # success | error | skipped
    members: int = 0
    entered: int = 0
    exited: int = 0
    seconds: float = 0.0
    error: str | None = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def definition_hash(project: Project, segment: Segment) -> str:
    """Changes when the segment or anything it references changes (not its description)."""
    from ..definitions.project import dependencies

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


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


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
) -> list[SegmentResult]:
    """Refresh the due segments among `selected`; returns one result per selected segment.
    Holds the target's run lock throughout (waiting up to `lock_timeout` seconds)."""
    report = report or (lambda *_: None)
    with adapter.run_lock(lock_timeout):
        return _run_locked(adapter, project, selected, as_of, force, fail_fast, report)


def _run_locked(adapter, project, selected, as_of, force, fail_fast, report):
    last = read_last_success(adapter)
    due = due_segments(selected, last, as_of, force)
    check_as_of(due, last, as_of)
    prepare(adapter)
    for run_id, segment, way in adapter.recover():
        log.warning("recovered interrupted refresh of %s (run %s): rolled %s", segment, run_id, way)
    view_errors = replace_views(adapter, project, selected)
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
        evaluated = _evaluate(adapter, project, entity, segments, as_of)
        for seg in segments:
            done += 1
            report("start", SegmentResult(seg.name, "running"), done, len(due))
            if seg.name in view_errors:
                result = results[seg.name]
                _record_error(adapter, _segment_run(project, seg, as_of, run_id), result.error)
            else:
                result = _refresh(adapter, project, seg, evaluated, as_of, run_id)
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
        members = (
            exp.select(
                c("entity_id"),
                exp.alias_(
                    holdout_expr(adapter.dialect, seg, c("entity_id")), "holdout", quoted=True
                ),
            )
            .from_(source.copy())
            .where(c(seg.name))
        )
        counts = adapter.write_segment(run, members, lambda: utcnow())
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
        rows = adapter.fetch(
            exp.select(c("members"), c("entered"), c("exited"))
            .from_(adapter.table(RUNS))
            .where(
                exp.and_(
                    c("run_id").eq(exp.Literal.string(run.run_id)),
                    c("segment").eq(exp.Literal.string(run.segment)),
                    c("status").eq(exp.Literal.string("success")),
                )
            )
        )
    except Exception:  # noqa: BLE001 - the warehouse is gone; the next run recovers
        return None
    return tuple(int(v) for v in rows[0]) if rows else None  # type: ignore[return-value]


def _segment_run(project: Project, seg: Segment, as_of: datetime, run_id: str) -> SegmentRun:
    return SegmentRun(run_id, seg.name, seg.entity, as_of, utcnow(), definition_hash(project, seg))


def _record_error(adapter: Adapter, run: SegmentRun, message: str) -> None:
    """An `error` row in segsql_runs, where the warehouse can still take it."""
    from .state import insert

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
    from ..definitions.project import dependencies

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


__all__ = ["run_segments", "SegmentResult", "utcnow", "faults", "CHANGES", "MEMBERSHIPS"]
