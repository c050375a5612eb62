"""The lifecycle example project (examples/lifecycle) uses every guardrail; it passes
`segsql validate --offline` and `segsql test`, and runs on the demo warehouse with the
brake refusing a truncated events table."""

from __future__ import annotations

import shutil

import duckdb
from click.testing import CliRunner

from segsql.cli import cli

from .conftest import HERE

EXAMPLE = HERE.parent / "examples" / "lifecycle"


def test_validate_offline_and_fixtures():
    invoke = CliRunner().invoke
    result = invoke(cli, ["validate", "--offline", "--project-dir", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    result = invoke(cli, ["test", "--project-dir", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "3 passed, 0 failed" in result.output


def test_runs_on_the_demo_warehouse(tmp_path):
    root = tmp_path / "lifecycle"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("target", "*.duckdb*"))
    invoke = CliRunner().invoke
    base = ["--project-dir", str(root)]
    demo = invoke(
        cli, ["demo", *base, "--users", "2000", "--events", "100000", "--end", "2026-03-01"]
    )
    assert demo.exit_code == 0, demo.output
    for day in ("2026-02-20", "2026-02-24"):
        result = invoke(cli, ["run", *base, "--as-of", day])
        assert result.exit_code == 0, result.output
    result = invoke(cli, ["validate", *base])
    assert result.exit_code == 0, result.output
    report = invoke(cli, ["report", "winback", *base, "--from", "2026-02-20", "--to", "2026-02-24"])
    assert report.exit_code == 0 and "Newcombe" in report.output, report.output
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("DELETE FROM main.events")
    con.close()
    # deleted rows are seen by a full refresh, and that is the run the brake stops
    result = invoke(cli, ["run", *base, "--as-of", "2026-02-25", "--full-refresh"])
    assert result.exit_code == 1, result.output
    assert "would exit" in result.output and "max_exit_share" in result.output
