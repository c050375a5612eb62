"""`segsql diff`: what the next run would change, writing nothing."""

from __future__ import annotations

import click

from .options import (
    Context,
    as_of_option,
    common,
    format_option,
    output,
    parse_as_of,
    select_option,
)


@click.command()
@common
@select_option
@as_of_option
@format_option
def diff(ctx: Context, select, as_of, output_format) -> None:
    """Evaluate the selected segments at T (default now) and compare them with the stored
    memberships: would enter, would exit, definition changed. Writes nothing."""
    from ..clock import utcnow
    from ..model.select import select as pick
    from ..runner.diff import diff as preview

    when = parse_as_of(as_of) or utcnow()
    project = ctx.project()
    segments = pick(project, select)
    adapter = ctx.connect()
    try:
        results = preview(adapter, project, segments, when)
    finally:
        adapter.close()
    if output_format == "json":
        document = {"as_of": when.isoformat(), "segments": [r.to_json() for r in results]}
        output(document)
        return
    lines = [f"segsql diff at {when:%Y-%m-%d %H:%M:%S} UTC"]
    width = max([len("SEGMENT"), *(len(r.segment) for r in results)])
    lines.append(
        f"{'SEGMENT':<{width}}  {'STORED':>8}  {'AT T':>8}  {'ENTER':>7}  {'EXIT':>7}  DEFINITION"
    )
    for r in results:
        changed = "changed" if r.definition_changed else "same"
        if r.refused:
            changed += "  REFUSED: more exits than max_exit_share (run --accept-exits)"
        lines.append(
            f"{r.segment:<{width}}  {r.stored:>8}  {r.members:>8}  {'+' + str(r.enter):>7}  "
            f"{'-' + str(r.exit):>7}  {changed}"
        )
        if r.sample_enter:
            lines.append(f"{'':<{width}}    would enter: {', '.join(r.sample_enter)}")
        if r.sample_exit:
            lines.append(f"{'':<{width}}    would exit:  {', '.join(r.sample_exit)}")
    output("\n".join(lines))
