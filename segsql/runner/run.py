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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlglot import exp

from ..adapters.base import Adapter
from ..clock import utcnow
from ..compiler import evaluation_query, holdout_expr, reason_expr, view_query
from ..errors import UsageError, one_line
from ..model.guards import applied_suppressions
from ..model.types import Project, Segment
from ..model.walk import dependencies
from ..plan.narrow import why_not
from ..state.reasons import SOURCE, Reasons
from ..state.tables import RUNS, TABLES, SegmentRun, c, insert
from ..state.views import VIEW_TABLE
from ..state.writes import last_success, run_row
from .checks import check_sources
from .guardrails import (
    exit_refusal,
    exit_refusals,
    exit_share_limit,
    guarded_members,
    has_run_rules,
    target_exit_share,
)
from .history import replace_state_views
from .incremental import (
    EntityIncrement,
    last_hashes,
    prepare_entity,
    prepare_tables,
    warn_unindexed,
)
from .narrow import Narrowing, prepare_narrowing
from .views import replace_changed_views

log = logging.getLogger("segsql.run")


@dataclass
class SegmentResult:
    """One segment's outcome. `seconds`: its own evaluation and write, or for segments
    evaluated and written together in one batch (`batch` of them), the batch's time divided
    equally among them."""

    segment: str
    status: str  # success | error | skipped
    members: int = 0
    entered: int = 0
    exited: int = 0
    seconds: float = 0.0
    error: str | None = None
    batch: int = 1  # how many segments were written together with this one (itself included)
    mode: str = "full"  # as in its segsql_runs row: full | incremental


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
        parts.extend(_guard_parts(project, seg))
        todo.extend(dependencies(seg))
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def _guard_parts(project: Project, seg: Segment) -> list[str]:
    """What of the guardrails changes a segment's members (nothing for a segment without
    them, so that its hash stays what it was)."""
    parts = [repr(("suppression", s.name, s.where)) for s in applied_suppressions(project, seg)]
    if seg.priority_group is not None:
        parts.append(repr(("priority", seg.name, seg.priority_group, seg.priority)))
    return parts


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
    """Refuse a run at T earlier than the last successful run of a due segment (it would
    rewrite history backwards); the error names a few of them and counts the rest."""
    late = [s.name for s in due if s.name in last and as_of < last[s.name]]
    if late:
        shown = ", ".join(f"{n} (last run at {last[n]:%Y-%m-%d %H:%M:%S})" for n in late[:3])
        more = f" and {len(late) - 3} more" if len(late) > 3 else ""
        raise UsageError(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S} is earlier than the last successful run of "
            f"{shown}{more}; nothing was written"
        )


def prepare(adapter: Adapter, project: Project | None = None, force: bool = False) -> None:
    """segsql's schema and state tables, created or upgraded in place, and the views over
    them: the history and the typed views of `project`'s entity types (docs/tables.md);
    `force`: the views replaced even where unchanged."""
    adapter.create_schema()
    for name, columns in {**TABLES, **VIEW_TABLE}.items():
        found = adapter.relation_columns((adapter.schema, name))
        if found is None:
            adapter.create_table(adapter.table(name), columns)
        else:
            adapter.upgrade_table(adapter.table(name), columns, found)
    replace_state_views(adapter, project, force)


def replace_views(
    adapter: Adapter, project: Project, segments: list[Segment], force: bool = False
) -> dict[str, str]:
    """(Re)create the live view of each segment where it changed (`force`: all of them);
    returns segment -> error for failures (that segment fails, the others go on)."""
    views = {seg.name: view_query(project, seg, adapter.dialect) for seg in segments}
    failed = replace_changed_views(adapter, views, force)
    return {name: f"cannot create view: {one_line(err)}" for name, err in failed.items()}


def run_segments(
    adapter: Adapter,
    project: Project,
    selected: list[Segment],
    as_of: datetime,
    *,
    force: bool = False,
    fail_fast: bool = False,
    accept_exits: bool = False,
    full_refresh: bool = False,
    report: Callable[[str, SegmentResult | None, int, int], None] | None = None,
    timings: Callable[[str, float], None] | None = None,
    setup: bool = True,
    reasons: bool = True,
    state: bool = True,
) -> list[SegmentResult]:
    """Refresh the due segments among `selected`; returns one result per selected segment
    (`skipped`: not due; `not_run`: --fail-fast stopped before it). Holds the target's run
    lock throughout (waiting up to the adapter's `lock_timeout`). `timings(phase, seconds)` is
    called after each step of the work, with `phase` one of "views" (the live views),
    "evaluate" (one entity type's evaluation query) and "write" (one entity type's batched
    write, or one segment written on its own). `accept_exits` lets segments through that
    `max_exit_share` would refuse (runner/guardrails.py). `full_refresh`: evaluate every
    due segment from all events and rebuild its kept state (runner/incremental.py).
    `setup=False` skips creating the state tables and the views (a backfill's later steps:
    the same run did it at its first). `reasons=False` writes the change rows' `reason` as
    NULL: only for measuring what reasons cost (bench/reasons.py), never from the CLI;
    `state=False` neither reads nor writes kept state (every segment is `full`), and
    neither does a target with `incremental: false` (profiles.yml)."""
    with adapter.run_lock():
        last = read_last_success(adapter)
        due = due_segments(selected, last, as_of, force)
        check_as_of(due, last, as_of)
        project = check_sources(adapter, project, selected)  # before anything is written
        target_exit_share(adapter)
        started = utcnow()
        run = Run(
            adapter,
            project,
            as_of,
            f"{started:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}",
            last,
            timings or (lambda *_: None),
            accept_exits=accept_exits,
            full_refresh=full_refresh,
            setup=setup,
            reasons=reasons,
            keep_state=state and adapter.target.incremental,
        )
        return run.refresh(selected, due, fail_fast, report or (lambda *_: None))


@dataclass
class Run:
    """One `segsql run`: where, what and when, shared by every step of its work."""

    adapter: Adapter
    project: Project
    as_of: datetime
    run_id: str
    last: dict[str, datetime]  # segment -> as_of of its last successful run
    timings: Callable[[str, float], None]
    accept_exits: bool = False
    full_refresh: bool = False
    setup: bool = True  # create the state tables and views first (see run_segments)
    reasons: bool = True  # compute the change rows' `reason` (off: bench/reasons.py only)
    keep_state: bool = True  # read and write kept state (see run_segments)
    # incremental refresh: per entity type, what it starts from (runner/incremental.py)
    increments: dict[str, EntityIncrement] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # segment -> last definition_hash
    last_runs: dict[str, str] = field(default_factory=dict)  # segment -> last success run_id
    # per entity type, its narrowing (runner/narrow.py), and the table it was evaluated into
    narrowings: dict[str, tuple[Narrowing, exp.Table]] = field(default_factory=dict)
    stateful: bool = False  # the state tables are usable
    _guarded: dict[tuple[str, str, bool], exp.Select] = field(default_factory=dict)

    def members(self, seg: Segment, source: exp.Table, whole: bool = True) -> exp.Query:
        """The members the run writes for `seg`: evaluated, then its cooldown and dwell
        applied (runner/guardrails.py); of a narrowed evaluation, with the stored members
        of the entities it did not evaluate, unless `whole` is false (`narrowed_scope`).
        Those of a segment with both run rules and a brake are read twice (the brake's
        count, the write), so they are computed once, into a temp table."""
        key = (seg.name, source.sql(), whole)
        if key in self._guarded:
            return self._guarded[key].copy()
        members: exp.Query = _members(self.adapter, seg, source)
        if whole and self.narrowed_scope(seg.entity, source) is not None:
            members = self.narrowings[seg.entity][0].members(self.adapter, seg, members)
        query = guarded_members(self.adapter, seg, members, self.as_of)
        if has_run_rules(seg) and exit_share_limit(self.adapter, seg) is not None:
            table = self.adapter.temp_table(f"segsql_guarded_{len(self._guarded) + 1}", query)
            query = exp.select(c("entity_id"), c("holdout")).from_(table)
            self._guarded[key] = query
        return query.copy()

    def narrowed_scope(self, entity: str, source: exp.Table) -> exp.Table | None:
        """The ids evaluated, where `source` is a narrowed evaluation of `entity`: the
        other entities' members are as stored."""
        narrowing, evaluated = self.narrowings.get(entity, (None, None))
        return narrowing.affected if narrowing is not None and evaluated == source else None

    def refusals(self, segments: list[Segment], evaluated: exp.Table | None) -> dict[str, str]:
        """segment -> why `max_exit_share` refuses it (segments it lets through: absent);
        one query for all of them, else one per segment; a brake that cannot be checked
        fails closed (the segment is not written)."""
        if evaluated is None or self.accept_exits:
            return {}
        out: dict[str, str] = {}
        writes = []
        for seg in segments:
            if exit_share_limit(self.adapter, seg) is None:
                continue
            try:
                writes.append((seg, self.members(seg, evaluated)))
            except Exception as err:  # noqa: BLE001 - the brake fails closed: not written
                out[seg.name] = f"cannot check max_exit_share: {one_line(err)}"
        try:
            return out | exit_refusals(self.adapter, writes, self.accept_exits)
        except Exception:  # noqa: BLE001 - each on its own, so that one fails alone
            pass
        for seg, members in writes:
            try:
                why = exit_refusal(self.adapter, seg, members, self.accept_exits)
            except Exception as err:  # noqa: BLE001 - the brake fails closed: not written
                why = f"cannot check max_exit_share: {one_line(err)}"
            if why is not None:
                out[seg.name] = why
        return out

    def timed(self, phase: str, fn, *args):
        """fn(*args), its wall time reported as `phase` (also when it raises)."""
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.timings(phase, time.perf_counter() - start)

    def segment_run(self, seg: Segment, evaluated: exp.Table | None = None) -> SegmentRun:
        """What the segment's write records; `evaluated`: the evaluation table its change
        rows' `reason` is read from (none when the run has reasons off)."""
        reasons = (
            reasons_of(self.adapter, self.project, seg, evaluated, self.as_of)
            if self.reasons
            else None
        )
        return SegmentRun(
            self.run_id,
            seg.name,
            seg.entity,
            self.as_of,
            utcnow(),
            definition_hash(self.project, seg),
            first_run=seg.name not in self.last,
            reasons=reasons,
            mode=self._mode(seg),
        )

    def _mode(self, seg: Segment) -> str:
        narrowing, _ = self.narrowings.get(seg.entity, (None, None))
        if narrowing is not None and narrowing.affected is not None:
            return "incremental"
        increment = self.increments.get(seg.entity)
        return increment.modes.get(seg.name, "full") if increment is not None else "full"

    def must_be_full(self, seg: Segment) -> bool:
        """First run, --full-refresh, or a definition changed since its last success."""
        return (
            self.full_refresh
            or seg.name not in self.last
            or self.hashes.get(seg.name) != definition_hash(self.project, seg)
        )

    def refresh(self, selected, due, fail_fast, report) -> list[SegmentResult]:
        adapter = self.adapter
        view_errors: dict[str, str] = {}
        if self.setup:
            prepare(adapter, self.project, self.full_refresh)
            for run_id, segment, way in adapter.recover():
                log.warning(
                    "recovered interrupted refresh of %s (run %s): rolled %s", segment, run_id, way
                )
            view_errors = self.timed(
                "views", replace_views, adapter, self.project, selected, self.full_refresh
            )
        self.stateful = self.keep_state and prepare_tables(adapter)
        if self.stateful and self.setup:
            warn_unindexed(adapter, self.project, due)
        self.hashes = last_hashes(adapter)
        if adapter.SUPPORTS_TRANSACTIONS:  # only narrowing reads them (runner/narrow.py)
            self.last_runs = last_hashes(adapter, "run_id")
        results = {
            s.name: SegmentResult(
                s.name,
                "error" if s.name in view_errors else "skipped",
                error=view_errors.get(s.name),
            )
            for s in selected
        }
        order = {name: i for i, name in enumerate(topological([s.name for s in due], self.project))}
        due = sorted(due, key=lambda s: order[s.name])
        batches: dict[tuple[str, bool], list[Segment]] = {}
        for seg in due:
            batches.setdefault((seg.entity, self.narrowable(seg)), []).append(seg)
        due = [seg for segments in batches.values() for seg in segments]  # order of work
        done = 0
        for (entity, _), segments in batches.items():
            for k, seg in enumerate(segments, start=done + 1):  # before its batch's work
                report("start", SegmentResult(seg.name, "running"), k, len(due))
            start = time.perf_counter()
            evaluated = self.timed("evaluate", self.evaluate, entity, segments)
            evaluation = time.perf_counter() - start
            refused = self.timed("write", self.refusals, segments, evaluated)
            batch = [
                s for s in _batchable(segments, view_errors, fail_fast) if s.name not in refused
            ]
            written = self.timed("write", self.write_batch, batch, evaluated)
            for result in written.values():  # each its share of the evaluation too
                result.seconds += evaluation / len(written)
            for seg in segments:
                done += 1
                if seg.name in view_errors:
                    result = results[seg.name]
                    _record_error(adapter, self.segment_run(seg), result.error)
                elif seg.name in refused:  # max_exit_share: an error row, nothing else
                    result = SegmentResult(seg.name, "error", error=refused[seg.name])
                    _record_error(adapter, self.segment_run(seg), refused[seg.name])
                elif seg.name in written:
                    result = written[seg.name]
                else:  # no evaluation table, or the batch failed: on its own, as its own error
                    result = self.timed("write", self.write_one, seg, evaluated)
                results[seg.name] = result
                report("done", result, done, len(due))
                if result.status == "error" and fail_fast:
                    for rest in due[done:]:
                        results[rest.name] = SegmentResult(rest.name, "not_run")
                    return list(results.values())
        return list(results.values())

    def narrowable(self, seg: Segment) -> bool:
        """Can the segment's evaluation be narrowed in this run (runner/narrow.py)? Where
        the engine can, the segments that cannot are evaluated in a batch of their own,
        so that they do not keep the others of their entity type from it."""
        if not (self.keep_state and self.adapter.SUPPORTS_TRANSACTIONS) or self.must_be_full(seg):
            return False  # (a full refresh stays one batch: one scan of the events)
        return why_not(self.project, seg) is None

    def evaluate(self, entity: str, segments: list[Segment]) -> exp.Table | None:
        """All due segments of one entity type in one query, into a temp table; None when
        it fails (each segment is then evaluated on its own, so one bad segment fails
        alone). Kept features start from their state (runner/incremental.py)."""
        try:
            increment = prepare_entity(
                self.adapter,
                self.project,
                entity,
                segments,
                self.as_of,
                full=self.must_be_full,
                usable=self.stateful,
            )
            self.increments[entity] = increment
            self.narrowings.pop(entity, None)  # another batch's, of the same entity type
            narrowing = (
                prepare_narrowing(
                    self.adapter,
                    self.project,
                    entity,
                    segments,
                    self.as_of,
                    last_runs=self.last_runs,
                    full=self.must_be_full,
                )
                if self.stateful
                else None
            )
            narrowed = narrowing is not None and narrowing.affected is not None
            # a narrowed evaluation's scans hold the affected entities only: not state
            stored = {} if narrowed else increment.store_scans(self.adapter, segments)
            query = evaluation_query(
                self.project,
                entity,
                segments,
                self.adapter.dialect,
                self.as_of,
                reasons=self.reasons,
                states=increment.states,
                stored=stored,
            )
            if narrowing is not None:
                query = narrowing.evaluation(self.adapter, self.project, query)
            table = self.adapter.temp_table(f"segsql_eval_{entity}", query)
            if narrowing is not None:
                self.narrowings[entity] = (narrowing, table)
            return table
        except Exception as err:  # noqa: BLE001 - retried per segment, where the error is reported
            log.debug("evaluating %s together failed: %s", entity, one_line(err))
            self.increments.pop(entity, None)  # evaluated in full, one by one; no state
            self.narrowings.pop(entity, None)
            return None

    def write_batch(
        self, segments: list[Segment], evaluated: exp.Table | None
    ) -> dict[str, SegmentResult]:
        """Write `segments` together (one transaction where the engine has them); returns
        the results of those written. After a failure, only those the engine had committed
        anyway (see `_after_failed_batch`): the caller writes the others one by one."""
        if evaluated is None or not segments:
            return {}
        start = time.perf_counter()
        runs = [self.segment_run(seg, evaluated) for seg in segments]
        entity = segments[0].entity
        scope = self.narrowed_scope(entity, evaluated)  # only these can enter or exit
        members = {seg.name: self.members(seg, evaluated, scope is None) for seg in segments}
        increment = self.increments.get(entity)
        narrowing, _ = self.narrowings.get(entity, (None, None))

        def write_state() -> None:
            if increment is not None:
                increment.write(self.adapter, self.run_id)
            if narrowing is not None:  # after the features: see state/signatures.py
                narrowing.write(self.adapter, self.run_id, self.as_of)

        if increment is not None or narrowing is not None:
            self.adapter.state_write = write_state
        try:
            counts = self.adapter.write_segments(runs, members, utcnow, scope)
        except Exception as err:  # noqa: BLE001 - retried one by one, where errors are reported
            log.warning("writing %d segments together failed; writing them one by one", len(runs))
            log.debug("the batch failed with: %s", one_line(err))
            counts = _after_failed_batch(self.adapter, runs)
        finally:
            self.adapter.state_write = None
        seconds = (time.perf_counter() - start) / len(runs)
        modes = {run.segment: run.mode for run in runs}
        return {
            name: SegmentResult(
                name, "success", *n, seconds=seconds, batch=len(runs), mode=modes[name]
            )
            for name, n in counts.items()
        }

    def write_one(self, seg: Segment, evaluated: exp.Table | None) -> SegmentResult:
        adapter = self.adapter
        start = time.perf_counter()
        run = self.segment_run(seg)
        try:
            source = evaluated
            if source is None:
                source = adapter.temp_table(
                    "segsql_eval_one",
                    evaluation_query(
                        self.project,
                        seg.entity,
                        [seg],
                        adapter.dialect,
                        self.as_of,
                        reasons=self.reasons,
                    ),
                )
            members = self.members(seg, source)
            refusal = exit_refusal(adapter, seg, members, self.accept_exits)
            if refusal is not None:
                _record_error(adapter, run, refusal)
                return SegmentResult(
                    seg.name, "error", seconds=time.perf_counter() - start, error=refusal
                )
            if self.reasons:
                run.reasons = reasons_of(adapter, self.project, seg, source, self.as_of)
            counts = adapter.write_segment(run, members, utcnow)
            return SegmentResult(
                seg.name, "success", *counts, seconds=time.perf_counter() - start, mode=run.mode
            )
        except Exception as err:  # noqa: BLE001 - recorded, reported, and the run goes on
            message = one_line(err)
            committed = _repair(adapter, run)
            if committed is not None:  # the engine had already committed it (see swap.py)
                return SegmentResult(
                    seg.name,
                    "success",
                    *committed,
                    seconds=time.perf_counter() - start,
                    mode=run.mode,
                )
            _record_error(adapter, run, message)
            return SegmentResult(
                seg.name, "error", seconds=time.perf_counter() - start, error=message
            )


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


def reasons_of(
    adapter: Adapter,
    project: Project,
    seg: Segment,
    evaluated: exp.Table | None,
    as_of: datetime,
) -> Reasons | None:
    """Where the segment's change rows read their `reason` (compiler/reasons.py)."""
    if evaluated is None:
        return None
    return Reasons(evaluated, seg.entity, reason_expr(adapter.dialect, project, seg, SOURCE, as_of))


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


def _after_failed_batch(
    adapter: Adapter, runs: list[SegmentRun]
) -> dict[str, tuple[int, int, int]]:
    """The counts of the segments of a failed batch that are committed all the same: all
    of them if it failed after its commit; on engines without transactions (swap.py), those
    whose swap happened: every segment of the batch without a success row is repaired here
    (rolled forward, or back without an error row: the caller writes it again)."""
    run_id = runs[0].run_id
    try:
        done = _committed(adapter, run_id)
        pending = {(run_id, run.segment) for run in runs if run.segment not in done}
        if pending:
            adapter.recover(failing=pending)
            done = _committed(adapter, run_id)
    except Exception:  # noqa: BLE001 - the warehouse is gone; the next run recovers
        return {}
    return {run.segment: done[run.segment] for run in runs if run.segment in done}


def _repair(adapter: Adapter, run: SegmentRun) -> tuple[int, int, int] | None:
    """After a failed write: let the adapter roll it forward or back; the counts if it
    turned out committed."""
    try:
        adapter.recover(failing={(run.run_id, run.segment)})
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
