"""`segsql prune [--dry-run]`: drop the views of segments that no longer exist and let
their members exit."""

from __future__ import annotations

import click

from .options import Context, common, say


@click.command()
@common
@click.option("--dry-run", is_flag=True, help="List what would be pruned; change nothing.")
def prune(ctx: Context, dry_run) -> None:
    """Drop the views of removed segments and write `exited` rows for their members."""
    from ..runner.prune import prune as run_prune

    project = ctx.project()
    adapter = ctx.connect()
    try:
        found = run_prune(adapter, project, dry_run=dry_run)
    finally:
        adapter.close()
    if not found:
        say("Nothing to prune: every segment segsql has written is still defined.")
        return
    verb = "would prune" if dry_run else "pruned"
    for seg in found:
        view = ("drop view" if dry_run else "view dropped") if seg.has_view else "no view"
        exits = f"{seg.count} member(s) {'would exit' if dry_run else 'exited'}"
        say(f"{verb} {seg.segment}: {view}, {exits}")
    if dry_run:
        say(f"{len(found)} segment(s) to prune (dry run: nothing was changed)")
    else:
        say(f"Pruned {len(found)} segment(s)")
