"""Airflow DAG: test the segment definitions, then refresh the segments.

Each run evaluates the segments as of the end of its data interval, so a backfill or a
retry of an old run computes membership as it was then (`--as-of` accepts the
`2026-01-01T00:00:00+00:00` form Airflow renders). segsql refuses an `--as-of` earlier
than a segment's last successful run, hence `max_active_runs=1` and no catch-up.

Out of the box it runs against the DuckDB demo of the segsql repository it sits in
(`segsql demo` writes the warehouse on the first run). A user sets three things
(README.md beside this file):

    airflow variables set segsql_project_dir /srv/segsql/project   # or env SEGSQL_PROJECT_DIR
    airflow variables set segsql_target prod                       # or env SEGSQL_TARGET
    airflow connections add segsql_warehouse --conn-uri 'postgresql://user:pw@host:5432/db'

The connection is optional: without it, the target's settings come from the environment
of the worker (profiles.yml reads PGHOST, PGPORT, ... with env_var()).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow import DAG

try:  # Airflow 3 (and 2.x with the standard provider)
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2 without it
    from airflow.operators.bash import BashOperator

# The defaults, when neither an Airflow Variable nor an env var says otherwise: the
# repository's own project (segments/, profiles.yml with the DuckDB target `dev`).
DEMO_PROJECT = Path(__file__).resolve().parents[2]
DEFAULTS = {
    "project_dir": os.environ.get("SEGSQL_PROJECT_DIR", str(DEMO_PROJECT)),
    "target": os.environ.get("SEGSQL_TARGET", "dev"),
}
CONNECTION = "segsql_warehouse"  # optional; its fields become PGHOST, PGPORT, ...

# Jinja, rendered by Airflow for each run (Variables are read then, not when the file is
# parsed): keep it out of f-strings.
ENV = {
    "SEGSQL_PROJECT_DIR": "{{ var.value.get('segsql_project_dir', params.project_dir) }}",
    "SEGSQL_TARGET": "{{ var.value.get('segsql_target', params.target) }}",
    "PGHOST": "{{ warehouse('host', 'PGHOST') }}",
    "PGPORT": "{{ warehouse('port', 'PGPORT', '5432') }}",
    "PGUSER": "{{ warehouse('login', 'PGUSER') }}",
    "PGPASSWORD": "{{ warehouse('password', 'PGPASSWORD') }}",
    "PGDATABASE": "{{ warehouse('schema', 'PGDATABASE') }}",
}
# The demo warehouse, written once when the DuckDB target has no file yet.
DEMO = (
    'cd "$SEGSQL_PROJECT_DIR" && if [ "$SEGSQL_TARGET" = dev ] && [ ! -e warehouse.duckdb ]; '
    "then segsql demo --users 2000 --events 100000; fi"
)
TEST = 'cd "$SEGSQL_PROJECT_DIR" && segsql test'
RUN = (
    'cd "$SEGSQL_PROJECT_DIR" && '
    'segsql run --target "$SEGSQL_TARGET" --as-of "{{ data_interval_end }}"'
)


def warehouse(field: str, env: str, default: str = "") -> str:
    """A field of the `segsql_warehouse` connection; without that connection (or that
    field), the worker's env var `env`, else `default`. A connection without a port gives
    the default port, not 0."""
    value = None
    try:
        try:
            from airflow.sdk import BaseHook  # Airflow 3
        except ImportError:
            from airflow.hooks.base import BaseHook  # Airflow 2

        value = getattr(BaseHook.get_connection(CONNECTION), field, None)
    except Exception:  # noqa: BLE001 - no such connection: a first try on DuckDB
        value = None
    if value in (None, "", 0):
        return os.environ.get(env, default)
    return str(value)


with DAG(
    dag_id="segsql_segments",
    description="Refresh segsql segments and record membership changes",
    schedule=timedelta(minutes=15),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params=DEFAULTS,
    user_defined_macros={"warehouse": warehouse},
    default_args={
        "owner": "data-platform",
        # a broken setup (exit 2: bad definitions or profile) fails within a minute; a
        # warehouse that hiccups gets one more try
        "retries": 1,
        "retry_delay": timedelta(seconds=30),
        "execution_timeout": timedelta(minutes=30),
        "env": ENV,
        "append_env": True,
    },
    tags=["segsql", "segments"],
) as dag:
    demo = BashOperator(task_id="segsql_demo", bash_command=DEMO, retries=0)
    # Fixtures run in an embedded DuckDB: no warehouse connection is needed.
    test = BashOperator(task_id="segsql_test", bash_command=TEST, retries=0)
    run = BashOperator(task_id="segsql_run", bash_command=RUN)

    demo >> test >> run
