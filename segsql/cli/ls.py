"""`segsql ls`: segments and their last runs."""

from __future__ import annotations

from typing import Any

import click

from ..errors import SegsqlError, printable
from .artifacts import iso_utc
from .options import Context, common, output, redact, select_option, warn


@click.command(name="ls")
@common
@select_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="json: one document {segments: [...]} on stdout, for scripts.",
)
def ls(ctx: Context, select, fmt) -> None:
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
            warn(f"(no run state: {printable(redact(str(err)))})", event="no_run_state")
    if fmt == "json":
        output({"segments": [_as_json(s, status.get(s.name)) for s in segments]})
        return
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
    output(
        "\n".join(
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        )
    )


def _as_json(seg, last) -> dict[str, Any]:
    """One segment of `ls --format json` (last run: its as_of in UTC and its members)."""
    return {
        "name": seg.name,
        "entity": seg.entity,
        "enabled": seg.enabled,
        "tags": list(seg.tags),
        "owner": seg.owner,
        "refresh": str(seg.refresh) if seg.refresh else None,
        "description": seg.description,
        "file": seg.loc.file if seg.loc else None,
        "line": seg.loc.line if seg.loc else None,
        "last_run_as_of": iso_utc(last[0]) if last else None,
        "members": int(last[1]) if last else None,
    }
