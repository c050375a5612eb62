"""`segsql backfill`: history for new segments, step by step from --from to --to."""

from __future__ import annotations

import sys
import time

import click

from ..errors import printable
from .options import Context, common, parse_as_of, redact, refuse_future, say, select_option


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
    tty = sys.stdout.isatty()
    failed: list[str] = []
    try:
        if tty:
            with click.progressbar(length=len(times), label="backfill", show_pos=True) as bar:

                def on_tty(i, T, results):
                    bar.label = f"backfill {T:%Y-%m-%d %H:%M}"
                    bar.update(1)
                    failed.extend(r.segment for r in results if r.status == "error")

                done = run_backfill(adapter, project, segments, times, on_tty)
        else:

            def on_line(i, T, results):
                ok = [r for r in results if r.status == "success"]
                bad = [r for r in results if r.status == "error"]
                failed.extend(r.segment for r in bad)
                line = (
                    f"step {i + 1} of {len(times)} at {T:%Y-%m-%d %H:%M:%S}: {len(ok)} ok, "
                    f"members {sum(r.members for r in ok)}, +{sum(r.entered for r in ok)} "
                    f"-{sum(r.exited for r in ok)}"
                )
                for r in bad:
                    line += f"; ERROR {r.segment}: {printable(redact(r.error or ''))}"
                say(line)

            done = run_backfill(adapter, project, segments, times, on_line)
    finally:
        adapter.close()
    say(f"Done in {time.perf_counter() - started:.2f}s: {len(done)} of {len(times)} step(s)")
    if failed:
        raise RunFailed(
            f"backfill stopped at step {len(done)} of {len(times)}: "
            f"{', '.join(sorted(set(failed)))} failed"
        )
