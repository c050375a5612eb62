"""DuckDB files that segsql writes (the demo warehouse, the target database with segsql's
tables and views) open in the newest DuckDB CLI of the package index (`duckdb-cli`, in the
dev extra), whatever newer storage format the Python library could write."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from segsql.cli import cli

from .conftest import require, write_project

ROOT = Path(__file__).parent.parent


def duckdb_cli() -> str:
    """The `duckdb` executable: $SEGSQL_DUCKDB_CLI, else the one on PATH."""
    found = os.environ.get("SEGSQL_DUCKDB_CLI") or shutil.which("duckdb")
    require("duckdb-cli", None if found else "no `duckdb` executable (pip install duckdb-cli)")
    return found


def cli_query(path: Path, sql: str) -> str:
    result = subprocess.run(
        [duckdb_cli(), "-readonly", "-csv", "-noheader", str(path), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Error" not in result.stderr, result.stderr
    return result.stdout.strip()


def test_the_demo_and_a_run_open_in_the_duckdb_cli(tmp_path):
    shutil.copytree(ROOT / "segments", tmp_path / "segments")  # the demo's segments
    shutil.copy(ROOT / "profiles.yml", tmp_path / "profiles.yml")
    runner = CliRunner()
    demo = runner.invoke(
        cli, ["demo", "--users", "300", "--events", "5000", "--project-dir", str(tmp_path)]
    )
    assert demo.exit_code == 0, demo.output
    run = runner.invoke(cli, ["run", "--all", "--project-dir", str(tmp_path)])
    assert run.exit_code == 0, run.output
    path = tmp_path / "warehouse.duckdb"
    assert cli_query(path, "SELECT count(*) FROM main.users") == "300"
    members = cli_query(
        path, "SELECT sum(members) FROM segsql.segsql_runs WHERE status = 'success'"
    )
    assert int(members) > 0
    # a segment's live view, compiled by segsql, runs in the CLI too
    assert int(cli_query(path, "SELECT count(*) FROM segsql.power_users")) >= 0


def test_an_old_file_keeps_working(tmp_path):
    """A file made before (in the library's own format) is still opened and written."""
    import duckdb

    from segsql.adapters.duckdb import STORAGE_VERSION

    assert STORAGE_VERSION.startswith("v1.")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id, 'trial' AS plan FROM range(3)")
    con.close()
    write_project(
        tmp_path,
        """
        sources:
          users: {table: main.users, entity: user, key: user_id}
        segments:
          - name: trial
            where: {property: plan, eq: trial}
        """,
    )
    run = CliRunner().invoke(cli, ["run", "--project-dir", str(tmp_path)])
    assert run.exit_code == 0, run.output
    assert "members        3" in run.output
