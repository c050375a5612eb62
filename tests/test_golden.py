"""Golden SQL: every condition kind compiled for eight dialects, compared with the files
in tests/golden/<dialect>/ and parsed back by sqlglot. A sqlglot upgrade that changes
output shows up here. Regenerate with SEGSQL_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from segsql.compiler import view_query
from segsql.definitions.project import load_project
from segsql.dialects import get_dialect

from .conftest import CONDITIONS

GOLDEN = Path(__file__).parent / "golden"
DIALECTS = [
    "duckdb",
    "postgres",
    "snowflake",
    "bigquery",
    "spark",
    "clickhouse",
    "redshift",
    "trino",
]
PROJECT = load_project(CONDITIONS)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("segment", sorted(PROJECT.enabled))
def test_golden_sql(dialect, segment):
    d = get_dialect(dialect)
    sql = d.sql(view_query(PROJECT, PROJECT.segments[segment], d), pretty=True) + "\n"
    path = GOLDEN / dialect / f"{segment}.sql"
    if os.environ.get("SEGSQL_UPDATE_GOLDEN") or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"missing golden file {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert sql == path.read_text(), f"compiled SQL differs from {path}"
    sqlglot.parse_one(sql, read=d.sqlglot)  # must be valid in its own dialect
