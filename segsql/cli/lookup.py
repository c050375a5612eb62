"""`segsql lookup ID`: the segments an entity was in at T, from the history."""

from __future__ import annotations

import click

from .options import Context, as_of_option, common, format_option, output, parse_as_of


@click.command()
@common
@click.argument("entity_id")
@click.option("--entity", default="user", show_default=True, help="The entity type of the id.")
@as_of_option
@format_option
def lookup(ctx: Context, entity_id, entity, as_of, output_format) -> None:
    """The segments ENTITY_ID was a member of at T (default now), from the history."""
    from ..clock import utcnow
    from ..runner.lookup import check_entity
    from ..runner.lookup import lookup as find

    when = parse_as_of(as_of) or utcnow()
    project = ctx.project()
    check_entity(project, entity)
    adapter = ctx.connect()
    try:
        stretches = find(adapter, entity, entity_id, when)
    finally:
        adapter.close()
    if output_format == "json":
        document = {
            "entity_type": entity,
            "entity_id": entity_id,
            "as_of": when.isoformat(),
            "segments": [
                {"segment": s.segment, "holdout": s.holdout, "since": s.since.isoformat()}
                for s in stretches
            ],
        }
        output(document)
        return
    if not stretches:
        output("")  # nothing in text; one empty "output" object in json logs
        return
    width = max(len("SEGMENT"), *(len(s.segment) for s in stretches))
    lines = [f"{'SEGMENT':<{width}}  HOLDOUT  SINCE (UTC)"]
    for s in stretches:
        holdout = "yes" if s.holdout else "no"
        lines.append(f"{s.segment:<{width}}  {holdout:<7}  {s.since:%Y-%m-%d %H:%M:%S}")
    output("\n".join(lines))
