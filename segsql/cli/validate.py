"""`segsql validate`: the definitions, then the warehouse."""

from __future__ import annotations

import click

from ..errors import printable
from .options import Context, common, error, redact, say


@click.command()
@common
@click.option("--offline", is_flag=True, help="Check the definitions only (no connection).")
def validate(ctx: Context, offline) -> None:
    """Check the definitions, then the warehouse: tables, columns and event names.

    Exits 2 when it finds any problem, in the definitions or in the warehouse."""
    from ..errors import DefinitionError
    from ..runner.checks import check_warehouse

    project = ctx.project()
    n = len(project.segments)
    say(
        f"Definitions OK: {len(project.sources)} source(s), {n} segment(s), "
        f"{len(project.fixtures)} test(s).",
        event="definitions_ok",
    )
    if offline:
        return
    adapter = ctx.connect()
    try:
        problems = check_warehouse(adapter, project)
    finally:
        adapter.close()
    for p in problems:
        error(printable(redact(f"Error: {p}")), event="warehouse_problem")
    if problems:  # a definition that does not fit the warehouse: exit 2, like a bad file
        raise DefinitionError(f"{len(problems)} problem(s) found in the warehouse")
    say(
        f"Warehouse OK: every table, column and event name used exists "
        f"(target '{ctx.target().name}').",
        event="warehouse_ok",
    )
