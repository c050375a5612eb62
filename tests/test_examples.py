"""The examples as shipped: the crontab line (log folder created, run logged) and the
Airflow DAG run by a real Airflow (`airflow dags test`, Airflow in its own virtualenv,
installed by .ci/install.sh), against a copy of the demo project on DuckDB."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from .conftest import require

ROOT = Path(__file__).parent.parent
AIRFLOW_VENV = Path(os.environ.get("SEGSQL_AIRFLOW_VENV", "/opt/segsql-ci/airflow"))
BIN = str(Path(sys.executable).parent)  # where `segsql` is installed
DAG_FILE = ROOT / "examples" / "airflow" / "segsql_dag.py"


def demo_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "segments", project / "segments")
    shutil.copy(ROOT / "profiles.yml", project / "profiles.yml")
    return project


def test_the_crontab_line_creates_its_log_folder_and_logs_the_run(tmp_path):
    project = demo_project(tmp_path)
    demo = subprocess.run(
        [sys.executable, "-m", "segsql.cli", "demo", "--users", "200", "--events", "3000"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    crontab = (ROOT / "examples" / "cron" / "crontab").read_text()
    settings = dict(
        line.split("=", 1) for line in crontab.splitlines() if line and line[0].isupper()
    )
    (line,) = [x for x in crontab.splitlines() if x.startswith("*/15")]
    command = line.split(None, 5)[5]  # after the five schedule fields
    (tmp_path / "prod.env").write_text("SEGSQL_EXAMPLE=1\n")
    logs = tmp_path / "logs" / "segsql"  # does not exist yet
    command = (
        command.replace("/srv/segsql/project", str(project))
        .replace("/srv/segsql/prod.env", str(tmp_path / "prod.env"))
        .replace("/srv/segsql/venv/bin/segsql", f"{sys.executable} -m segsql.cli")
        .replace("/tmp/segsql.lock", str(tmp_path / "segsql.lock"))
        .replace("--target prod", "--target dev")
    )
    env = {**os.environ, "SEGSQL_LOGS": str(logs), "PATH": settings["PATH"] + ":" + BIN}
    assert settings["SEGSQL_LOGS"] == "/var/log/segsql"
    result = subprocess.run(
        [settings["SHELL"], "-c", command], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = (logs / "run.log").read_text()
    assert "segsql run:" in log and "Done in" in log


def airflow(*args, env, timeout=600):
    return subprocess.run(
        [str(AIRFLOW_VENV / "bin" / "airflow"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_airflow_dags_test_runs_segsql_at_data_interval_end(tmp_path):
    if not (AIRFLOW_VENV / "bin" / "airflow").exists():
        require("airflow", f"no Airflow in {AIRFLOW_VENV} (.ci/install.sh installs it)")
    project = demo_project(tmp_path)
    home = tmp_path / "airflow_home"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "examples" / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "SEGSQL_PROJECT_DIR": str(project),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    env.pop("VIRTUAL_ENV", None)
    migrate = airflow("db", "migrate", env=env)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    logical = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(
        minute=0, second=0, microsecond=0
    )
    run = airflow("dags", "test", "segsql_segments", logical.isoformat(), env=env)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    # the DAG run's data interval, from Airflow's own database
    db = sqlite3.connect(home / "airflow.db")
    ((end, state),) = db.execute(
        "SELECT data_interval_end, state FROM dag_run WHERE dag_id = 'segsql_segments'"
    ).fetchall()
    db.close()
    assert state == "success", output[-6000:]
    interval_end = datetime.fromisoformat(str(end)).replace(tzinfo=timezone.utc)
    # the task log shows the command as rendered (Airflow 3 prints the interval's end as
    # `2026-12-04 15:00:00+00:00`, Airflow 2 as `2026-12-04T15:00:00+00:00`)
    assert any(f'--as-of "{interval_end.isoformat(sep=sep)}"' in output for sep in (" ", "T")), (
        output[-6000:]
    )
    assert f"as of {interval_end:%Y-%m-%d %H:%M:%S} UTC" in output
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT DISTINCT as_of, status FROM segsql.segsql_runs").fetchall()
    con.close()
    assert rows and {r[1] for r in rows} == {"success"}
    assert {r[0].astimezone(timezone.utc) for r in rows} == {interval_end}


@pytest.mark.parametrize("name", ["segsql_dag.py"])
def test_the_dag_file_has_no_hard_coded_paths(name):
    text = (ROOT / "examples" / "airflow" / name).read_text()
    assert "/opt/airflow" not in text and "conn.warehouse" not in text


def out(result) -> list[str]:
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("OUT ")]
    return line.split()[1:]


def test_the_dag_reads_an_optional_connection_without_port_zero(tmp_path):
    """The `warehouse()` macro in Airflow's own Python: a connection without a port gives
    5432, a missing connection falls back to the worker's env vars."""
    if not (AIRFLOW_VENV / "bin" / "airflow").exists():
        require("airflow", f"no Airflow in {AIRFLOW_VENV} (.ci/install.sh installs it)")
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('dag', {str(DAG_FILE)!r})\n"
        "dag = importlib.util.module_from_spec(spec); spec.loader.exec_module(dag)\n"
        "w = dag.warehouse\n"
        "print('OUT', w('host', 'PGHOST'), w('port', 'PGPORT', '5432'), w('login', 'PGUSER'),"
        " w('schema', 'PGDATABASE'))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "PGUSER": "from_env"}
    env.pop("PGPORT", None)
    env.pop("PGHOST", None)
    with_conn = {
        **env,
        "AIRFLOW_CONN_SEGSQL_WAREHOUSE": "postgresql://bob:pw@db.internal/analytics",
    }
    python = str(AIRFLOW_VENV / "bin" / "python")
    got = subprocess.run([python, "-c", script], env=with_conn, capture_output=True, text=True)
    assert got.returncode == 0, got.stderr[-3000:]
    assert out(got) == ["db.internal", "5432", "bob", "analytics"]
    got = subprocess.run([python, "-c", script], env=env, capture_output=True, text=True)
    assert got.returncode == 0, got.stderr[-3000:]
    assert out(got) == ["5432", "from_env"]  # no host, no database: empty
