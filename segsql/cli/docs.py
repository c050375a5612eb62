"""`segsql docs generate`: the static catalog site, target/docs/index.html."""

from __future__ import annotations

import time

import click

from ..errors import printable
from .options import Context, common, redact, say, warn


@click.group()
def docs() -> None:
    """The catalog site of the project's segments."""


@docs.command()
@common
@click.option(
    "--offline", is_flag=True, help="Definitions only: do not read run history from the target."
)
def generate(ctx: Context, offline) -> None:
    """Write target/docs/index.html: one self-contained page (works from file://) with every
    segment, a plain-language description, its YAML, lineage and, from the target's run
    history, size over time, entered/exited per run, overlap and volatility."""
    from datetime import datetime, timezone

    from ..docs.site import render
    from .artifacts import write_artifacts

    started = time.perf_counter()
    project = ctx.project()
    history, note = None, "no warehouse data (--offline)"
    if not offline and not ctx.has_profile():
        note = "no warehouse data (no profiles.yml)"
    elif not offline:
        history, note = _history(ctx)
    title = f"segsql segments - {ctx.project_dir.name}"
    html = render(
        project,
        title=title,
        history=history,
        warehouse_note=note,
        generated_at=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
    )
    out = ctx.project_dir / "target" / "docs" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    write_artifacts(ctx, project, "docs")
    say(
        f"Docs written to {out.relative_to(ctx.project_dir)} in "
        f"{time.perf_counter() - started:.2f}s: {len(project.segments)} segment(s); {note}",
        event="docs_done",
        path=str(out),
        segments=len(project.segments),
    )


def _history(ctx: Context):
    """The target's run history, or None and why (the page is written either way)."""
    from ..docs.history import read_history
    from ..errors import SegsqlError

    target = ctx.target()
    say(f"Reading run history from target '{target.name}' ({target.type}) ...", event="docs_read")
    try:
        adapter = ctx.connect()
        try:
            history = read_history(adapter)
        finally:
            adapter.close()
    except (SegsqlError, Exception) as err:  # noqa: BLE001 - the page goes without it
        reason = printable(redact(str(err).splitlines()[0] if str(err) else type(err).__name__))
        warn(f"(no run history: {reason})", event="no_run_state")
        return None, f"no warehouse data: {reason}"
    runs = sum(len(v) for v in history.runs.values())
    return history, f"run history of target '{target.name}': {runs} successful segment run(s)"
