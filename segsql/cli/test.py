"""`segsql test`: the `tests:` fixtures."""

from __future__ import annotations

import click

from .options import Context, common, line, select_option


@click.command()
@common
@select_option
def test(ctx: Context, select) -> None:
    """Run the `tests:` fixtures, each in a fresh embedded DuckDB."""
    from ..errors import RunFailed
    from ..model.select import select as pick
    from ..runner.fixtures import run_fixtures
    from .artifacts import Result, profile_name, test_id, write_artifacts

    project = ctx.project()
    chosen = {s.name for s in pick(project, select)} if select else None
    results = run_fixtures(project, chosen)
    profile = profile_name(ctx)
    failed = 0
    for r in results:
        fields = {"fixture": r.fixture.name, "segment": r.fixture.segment}
        if r.ok:
            line(f"PASS  {r.fixture.name} ({r.fixture.segment})", event="test_pass", **fields)
        else:
            failed += 1
            line(
                "\n      ".join(
                    [f"FAIL  {r.fixture.name} ({r.fixture.segment}) at {r.fixture.loc}"] + r.details
                ),
                event="test_fail",
                level="error",
                location=str(r.fixture.loc),
                **fields,
            )
    write_artifacts(
        ctx,
        project,
        "test",
        [
            Result(
                test_id(profile, r.fixture.name),
                "success" if r.ok else "error",
                as_of=r.fixture.as_of,
                message=None if r.ok else "; ".join(r.details),
            )
            for r in results
        ],
    )
    line(f"{len(results) - failed} passed, {failed} failed", event="test_done", failed=failed)
    if failed:
        raise RunFailed(f"{failed} test(s) failed")
