"""`segsql ls`: segments and their last runs."""

from __future__ import annotations

from typing import Any

import click

from ..errors import SegsqlError, printable
from .options import Context, common, redact, select_option


@click.command(name="ls")
@common
@select_option
def ls(ctx: Context, select) -> None:
    """List segments: entity, tags, owner, refresh, last run and size."""
    from ..model.select import select as pick
    from ..runner.status import segment_status

    project = ctx.project()
    segments = pick(project, select, include_disabled=True)
    status: dict[str, Any] = {}
    if ctx.has_profile():
        try:
            adapter = ctx.connect()
            try:
                status = segment_status(adapter)
            finally:
                adapter.close()
        except SegsqlError as err:
            click.echo(f"(no run state: {printable(redact(str(err)))})", err=True)
    rows = [("SEGMENT", "ENTITY", "TAGS", "OWNER", "REFRESH", "LAST RUN (as of)", "MEMBERS")]
    for s in segments:
        last = status.get(s.name)
        rows.append(
            (
                s.name + ("" if s.enabled else " (disabled)"),
                s.entity,
                ",".join(s.tags) or "-",
                s.owner or "-",
                str(s.refresh or "every run"),
                f"{last[0]:%Y-%m-%d %H:%M}" if last else "never",
                str(last[1]) if last else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
