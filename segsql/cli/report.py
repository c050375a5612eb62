"""`segsql report SEGMENT --from --to`: the holdout experiment outcome of a segment."""

from __future__ import annotations

import click

from ..errors import UsageError, did_you_mean
from .options import Context, common, output


def _instant(value: str, option: str):
    from ..clock import parse_instant

    try:
        return parse_instant(value)
    except (ValueError, OverflowError):
        raise UsageError(
            f"{option} expects an ISO date or timestamp such as 2026-01-01 or "
            f"2026-01-01T06:00:00+00:00; got {value!r}"
        ) from None


@click.command()
@common
@click.argument("segment")
@click.option("--from", "start", required=True, help="First entry time (ISO date or timestamp).")
@click.option("--to", "end", required=True, help="Last entry time (ISO date or timestamp).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def report(ctx: Context, segment, start, end, fmt) -> None:
    """Entrants per holdout arm, how many met the segment's goal, and the difference."""
    from ..runner.report import build_report, report_json, report_text

    start, end = _instant(start, "--from"), _instant(end, "--to")
    project = ctx.project()
    seg = project.segments.get(segment)
    if seg is None:
        raise UsageError(f"unknown segment '{segment}'{did_you_mean(segment, project.segments)}")
    adapter = ctx.connect()
    try:
        result = build_report(adapter, project, seg, start, end)
    finally:
        adapter.close()
    # output(): with --log-format json the document (or the text) is one "output" object
    output(report_json(result) if fmt == "json" else report_text(result))
