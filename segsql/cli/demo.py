"""`segsql demo`: the demo warehouse."""

from __future__ import annotations

import os
import time

import click

from ..errors import UsageError
from .options import Context, common, parse_as_of, say


@click.command()
@common
@click.option("--users", default=10_000, show_default=True)
@click.option("--events", default=1_000_000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--end", default=None, help="Last day of data (default: today, UTC).")
def demo(ctx: Context, users, events, seed, end) -> None:
    """Write a deterministic demo warehouse (SaaS + e-commerce) into the DuckDB target."""
    from ..runner.demo import generate

    target = ctx.target()
    if target.type != "duckdb":
        raise UsageError(
            f"`segsql demo` writes to a DuckDB target; '{target.name}' is {target.type}"
        )
    path = target.options.get("path", "warehouse.duckdb")
    if not os.path.isabs(path):
        path = str(ctx.project_dir / path)
    started = time.perf_counter()
    counts = generate(path, users=users, events=events, seed=seed, end=parse_as_of(end))
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    say(f"Demo warehouse written to {path} in {time.perf_counter() - started:.1f}s: {summary}")
