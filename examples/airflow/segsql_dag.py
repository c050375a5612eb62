"""Airflow DAG: test the segment definitions, then refresh the segments in prod.

Each run evaluates the segments as of the end of its data interval, so a backfill or
a retry of an old run computes membership as it was then (`--as-of` accepts the
`2026-01-01T00:00:00+00:00` form Airflow renders). segsql refuses an `--as-of` earlier
than a segment's last successful run, so run this DAG with `max_active_runs=1` and
without catch-up past newer runs.

The prod target reads its connection settings from the environment (see profiles.yml);
here they come from an Airflow connection named `warehouse`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator  # Airflow 3: airflow.providers.standard...

PROJECT_DIR = "/opt/airflow/segsql"  # the segsql project (profiles.yml, segments/)

# Jinja, rendered by Airflow for each run: keep it out of f-strings.
RUN = 'segsql run --target prod --as-of "{{ data_interval_end }}"'

SEGSQL_ENV = {
    "PGHOST": "{{ conn.warehouse.host }}",
    "PGPORT": "{{ conn.warehouse.port }}",
    "PGUSER": "{{ conn.warehouse.login }}",
    "PGPASSWORD": "{{ conn.warehouse.password }}",
    "PGDATABASE": "{{ conn.warehouse.schema }}",
}

with DAG(
    dag_id="segsql_segments",
    description="Refresh segsql segments and record membership changes",
    schedule=timedelta(minutes=15),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(minutes=30),
    },
    tags=["segsql", "segments"],
) as dag:
    # Fixtures run in an embedded DuckDB: no warehouse connection is needed.
    test = BashOperator(
        task_id="segsql_test",
        bash_command=f"cd {PROJECT_DIR} && segsql test",
    )

    run = BashOperator(
        task_id="segsql_run",
        bash_command=f"cd {PROJECT_DIR} && {RUN}",
        env=SEGSQL_ENV,
        append_env=True,
    )

    test >> run
