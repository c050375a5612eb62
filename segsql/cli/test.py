"""`segsql test`: the `tests:` fixtures."""

from __future__ import annotations

import click

from .options import Context, common, select_option


@click.command()
@common
@select_option
def test(ctx: Context, select) -> None:
    """Run the `tests:` fixtures, each in a fresh embedded DuckDB."""
    from ..errors import RunFailed
    from ..model.select import select as pick
    from ..runner.fixtures import run_fixtures

    project = ctx.project()
    chosen = {s.name for s in pick(project, select)} if select else None
    results = run_fixtures(project, chosen)
    failed = 0
    for r in results:
        if r.ok:
            click.echo(f"PASS  {r.fixture.name} ({r.fixture.segment})")
        else:
            failed += 1
            click.echo(f"FAIL  {r.fixture.name} ({r.fixture.segment}) at {r.fixture.loc}")
            for line in r.details:
                click.echo(f"      {line}")
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise RunFailed(f"{failed} test(s) failed")
