"""`segsql backfill`: history for new segments, step by step from --from to --to."""

from __future__ import annotations

import time

import click

from ..errors import printable
from .artifacts import segment_results, write_artifacts
from .options import Context, common, parse_as_of, redact, refuse_future, say, select_option
from .progress import Progress


def _every(value: str):
    from ..definitions.values import parse_duration
    from ..errors import DefinitionError, Location, UsageError

    try:
        return parse_duration(value, Location("--every", 0), "--every")
    except DefinitionError as err:
        raise UsageError(f"--every expects a duration such as 1d, 6h or 2w; got {value!r}") from err


@click.command()
@common
@select_option
@click.option("--from", "start", required=True, help="First T (ISO date or timestamp, UTC).")
@click.option("--to", "end", required=True, help="Last T; later runs continue from here.")
@click.option("--every", required=True, help="Step between two T: 1d, 6h, 2w ...")
def backfill(ctx: Context, select, start, end, every) -> None:
    """Give segments that never ran their history: a run at each T from --from to --to."""
    from ..clock import utcnow
    from ..errors import RunFailed, UsageError
    from ..model.select import select as pick
    from ..runner.backfill import backfill as run_backfill
    from ..runner.backfill import steps

    if not select:
        raise UsageError("backfill needs --select (the new segments to backfill)")
    first, last = parse_as_of(start), parse_as_of(end)
    refuse_future(last, utcnow())
    times = steps(first, last, _every(every))
    project = ctx.project()
    segments = pick(project, select)
    target = ctx.target()
    say(
        f"segsql backfill: {len(segments)} segment(s), {len(times)} step(s) from "
        f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC, target '{target.name}'"
    )
    started = time.perf_counter()
    adapter = ctx.connect()
    progress = Progress("backfill")
    progress.start(len(times))
    failed: list[str] = []

    def step_done(i, T, results):
        ok = [r for r in results if r.status == "success"]
        bad = [r for r in results if r.status == "error"]
        failed.extend(r.segment for r in bad)
        message = (
            f"step {i + 1} of {len(times)} at {T:%Y-%m-%d %H:%M:%S}: {len(ok)} ok, "
            f"members {sum(r.members for r in ok)}, +{sum(r.entered for r in ok)} "
            f"-{sum(r.exited for r in ok)}"
        )
        for r in bad:
            message += f"; ERROR {r.segment}: {printable(redact(r.error or ''))}"
        progress.line(message, event="backfill_step", as_of=T.isoformat(), failed=len(bad))
        progress.current(f"{T:%Y-%m-%d %H:%M}")
        progress.advance()

    def batch_started(n: int) -> None:  # a pause before the first step's line
        say(
            f"steps 1-{n} are evaluated in one query per entity type and written in one "
            "transaction: they are reported together once written"
        )

    try:
        done = run_backfill(adapter, project, segments, times, step_done, batch_started)
    finally:
        progress.close()
        adapter.close()
    elapsed = time.perf_counter() - started
    if done:
        write_artifacts(
            ctx,
            project,
            "backfill",
            segment_results(ctx, summed(done), times[len(done) - 1]),
            elapsed=elapsed,
        )
    say(f"Done in {elapsed:.2f}s: {len(done)} of {len(times)} step(s)", event="backfill_done")
    if failed:
        raise RunFailed(
            f"backfill stopped at step {len(done)} of {len(times)}: "
            f"{', '.join(sorted(set(failed)))} failed"
        )


def summed(steps):
    """One result per segment for run_results.json: its last step, with the changes and
    the time of every step added up."""
    from dataclasses import replace

    out = {}
    for results in steps:
        for r in results:
            before = out.get(r.segment)
            if before is not None and r.status == "success" and before.status == "success":
                r = replace(
                    r,
                    entered=before.entered + r.entered,
                    exited=before.exited + r.exited,
                    seconds=before.seconds + r.seconds,
                )
            out[r.segment] = r
    return list(out.values())
