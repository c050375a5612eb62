"""`segsql run`: refresh the due segments, print a line per segment."""

from __future__ import annotations

import sys
import time

import click

from ..errors import printable
from .options import Context, common, parse_as_of, redact, refuse_future, say, select_option


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
def run(ctx: Context, select, as_of, force, fail_fast, full_refresh, lock_timeout) -> None:
    """Refresh the due segments and append membership changes."""
    from ..clock import utcnow
    from ..errors import RunFailed
    from ..model.select import select as pick
    from ..runner.run import run_segments

    now = utcnow()
    when = parse_as_of(as_of) or now
    refuse_future(when, now)
    project = ctx.project()
    segments = pick(project, select)
    target = ctx.target()
    say(
        f"segsql run: {len(segments)} segment(s), target '{target.name}' ({target.type}), "
        f"schema '{target.schema}', as of {when:%Y-%m-%d %H:%M:%S} UTC"
    )
    started = time.perf_counter()
    adapter = ctx.connect(lock_timeout)
    tty = sys.stdout.isatty()

    def report(event, result, i, n):
        if event == "start":
            if tty:
                say(f"{i} of {n} START {result.segment} ...")
            return
        if result.status == "success":
            say(
                f"{i} of {n} OK    {result.segment:<28} members {result.members:>8}  "
                f"+{result.entered} -{result.exited}  in {result.seconds:.2f}s"
            )
        else:
            say(f"{i} of {n} ERROR {result.segment:<28} {printable(redact(result.error or ''))}")

    try:
        results = run_segments(
            adapter,
            project,
            segments,
            when,
            force=force,
            fail_fast=fail_fast,
            full_refresh=full_refresh,
            report=report,
        )
    finally:
        adapter.close()
    ok = sum(r.status == "success" for r in results)
    failed = [r for r in results if r.status == "error"]
    skipped = sum(r.status == "skipped" for r in results)
    not_run = sum(r.status == "not_run" for r in results)  # --fail-fast stopped before them
    say(
        f"Done in {time.perf_counter() - started:.2f}s: {ok} refreshed, {len(failed)} failed, "
        f"{skipped} not due" + (f", {not_run} not run (--fail-fast)" if not_run else "")
    )
    if failed:
        raise RunFailed(
            f"{len(failed)} segment(s) failed: "
            + ", ".join(r.segment for r in failed)
            + (f"; {not_run} not run (--fail-fast)" if not_run else "")
        )
