"""`segsql run`: refresh the due segments, print a line per segment."""

from __future__ import annotations

import time

import click

from ..errors import printable
from .options import Context, common, parse_as_of, redact, refuse_future, say, select_option
from .progress import Progress


@click.command()
@common
@select_option
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Evaluation time T: ISO date or timestamp, offsets allowed (default: now, UTC); "
    "at most 5 minutes after now.",
)
@click.option(
    "--all", "force", is_flag=True, help="Refresh every selected segment, ignoring `refresh:`."
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first segment that fails.")
@click.option(
    "--accept-exits",
    is_flag=True,
    help="Write segments that `max_exit_share` would refuse (many members exiting at once).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Evaluate from all events and rebuild the kept state (also sees rows that "
    "landed later than `lookback` allows).",
)
@click.option(
    "--lock-timeout",
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another run on the same target to finish, then exit 1 naming it.",
)
def run(
    ctx: Context, select, as_of, force, fail_fast, accept_exits, full_refresh, lock_timeout
) -> None:
    """Refresh the due segments and append membership changes."""
    from ..clock import utcnow
    from ..errors import RunFailed
    from ..model.select import select as pick
    from ..runner.run import run_segments
    from .artifacts import segment_results, write_artifacts

    now = utcnow()
    when = parse_as_of(as_of) or now
    refuse_future(when, now)
    project = ctx.project()
    segments = pick(project, select)
    target = ctx.target()
    say(
        f"segsql run: {len(segments)} segment(s) selected, target '{target.name}' "
        f"({target.type}), schema '{target.schema}', as of {when:%Y-%m-%d %H:%M:%S} UTC",
        event="run_start",
        selected=len(segments),
        target=target.name,
        adapter_type=target.type,
        as_of=f"{when:%Y-%m-%dT%H:%M:%SZ}",
    )
    started = time.perf_counter()
    adapter = ctx.connect(lock_timeout)
    lines = RunLines(len(segments))
    try:
        results = run_segments(
            adapter,
            project,
            segments,
            when,
            force=force,
            fail_fast=fail_fast,
            accept_exits=accept_exits,
            full_refresh=full_refresh,
            report=lines.report,
        )
    finally:
        lines.close()
        adapter.close()
    elapsed = time.perf_counter() - started
    write_artifacts(ctx, project, "run", segment_results(ctx, results, when), elapsed=elapsed)
    ok = sum(r.status == "success" for r in results)
    failed = [r for r in results if r.status == "error"]
    skipped = sum(r.status == "skipped" for r in results)
    not_run = sum(r.status == "not_run" for r in results)  # --fail-fast stopped before them
    say(
        f"Done in {elapsed:.2f}s: {ok} refreshed, {len(failed)} failed, "
        f"{skipped} not due" + (f", {not_run} not run (--fail-fast)" if not_run else ""),
        event="run_done",
        level="error" if failed else "info",
        seconds=round(elapsed, 3),
        refreshed=ok,
        failed=len(failed),
        not_due=skipped,
        not_run=not_run,
    )
    if failed:
        raise RunFailed(
            f"{len(failed)} segment(s) failed: "
            + ", ".join(r.segment for r in failed)
            + (f"; {not_run} not run (--fail-fast)" if not_run else "")
        )


class RunLines:
    """The lines of a run from the runner's `report(event, result, i, n)` callback: how many
    are due once it is known, then one line per segment when its work is done (aligned
    however many there are), with its time or, for a batch, its share of the batch's."""

    def __init__(self, selected: int) -> None:
        self.selected = selected
        self.progress = Progress("refreshing")
        self.announced = False
        self.batch: list[str] = []  # the segments of the batch being worked on
        self.batch_done = True

    def report(self, event: str, result, i: int, n: int) -> None:
        if not self.announced:
            self.announced = True
            not_due = self.selected - n
            self.progress.line(
                f"{n} of {self.selected} due"
                + (f" ({not_due} not due yet: refresh)" if not_due else ""),
                event="run_due",
                due=n,
                not_due=not_due,
            )
            self.progress.start(n)
        if event == "start":  # the starts of one batch come together, before its work
            if self.batch_done:
                self.batch, self.batch_done = [], False
            self.batch.append(result.segment)
            more = f" +{len(self.batch) - 1} more" if len(self.batch) > 1 else ""
            self.progress.current(f"{self.batch[0]}{more}")
            return
        self.batch_done = True
        width = len(str(n))
        pos = f"{i:>{width}} of {n}"
        fields = {"segment": result.segment, "status": result.status, "index": i, "total": n}
        if result.status == "success":
            share = f" (batch of {result.batch})" if result.batch > 1 else ""
            self.progress.line(
                f"{pos} OK    {result.segment:<28} members {result.members:>8}  "
                f"+{result.entered} -{result.exited}  in {result.seconds:.2f}s{share}",
                event="segment_done",
                **fields,
                members=result.members,
                entered=result.entered,
                exited=result.exited,
                seconds=round(result.seconds, 3),
                batch=result.batch,
            )
        else:
            self.progress.line(
                f"{pos} ERROR {result.segment:<28} {printable(redact(result.error or ''))}",
                event="segment_error",
                level="error",
                **fields,
                seconds=round(result.seconds, 3),
                error=printable(redact(result.error or "")),
            )
        self.progress.advance()

    def close(self) -> None:
        self.progress.close()
