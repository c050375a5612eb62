"""`segsql explain SEGMENT ID`: why an entity is in or out of a segment at T."""

from __future__ import annotations

import click

from ..errors import UsageError, did_you_mean
from .options import Context, as_of_option, common, format_option, output, parse_as_of


@click.command()
@common
@click.argument("segment")
@click.argument("entity_id")
@as_of_option
@format_option
def explain(ctx: Context, segment, entity_id, as_of, output_format) -> None:
    """Evaluate SEGMENT for ENTITY_ID at T (default now): every condition with its value
    and measure, then the verdict. Writes nothing; exit 1 if the id does not exist at T."""
    from ..clock import utcnow
    from ..runner.explain import explain as run_explain
    from ..runner.explain import render_text

    when = parse_as_of(as_of) or utcnow()
    project = ctx.project()
    seg = project.segments.get(segment)
    if seg is None or not seg.enabled:
        known = [s.name for s in project.segments.values() if s.enabled]
        raise UsageError(f"no enabled segment '{segment}'{did_you_mean(segment, known)}")
    adapter = ctx.connect()
    try:
        result = run_explain(adapter, project, seg, entity_id, when)
    finally:
        adapter.close()
    if output_format == "json":
        output(result.to_json())
    else:
        output("\n".join(render_text(result)))
