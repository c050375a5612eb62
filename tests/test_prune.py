"""`segsql prune` (SPEC sections 4 and 7): segments removed from the definitions lose
their view and their members (an `exited` row each, a run row), atomically per segment;
`--dry-run` only lists; a disabled segment is not removed."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlglot import exp

from segsql.cli import cli
from segsql.definitions.project import load_project
from segsql.runner.fixtures import load_tables
from segsql.runner.prune import prune
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS

from .conftest import HERE, write_project

PROJECT = load_project(HERE / "projects" / "guardrails")
T0 = datetime(2026, 3, 1, 12)
KEEP, GONE, OFF = "flagged_cooldown", "flagged_dwell", "active_unbraked"


@pytest.fixture(params=["duckdb", "postgres", "clickhouse"])
def engine(request):
    """DuckDB and Postgres (transactions) and ClickHouse (the swap strategy)."""
    return request.param


def rows(adapter, table, *columns, segment=None):
    query = exp.select(*(exp.column(c) for c in columns)).from_(adapter.table(table))
    if segment is not None:
        query = query.where(exp.column("segment").eq(exp.Literal.string(segment)))
    return sorted(tuple(str(v) for v in r) for r in adapter.fetch(query))


def test_prune_removed_segments(adapter):
    data = {
        "users": [{"user_id": i, "flag": i % 2 == 0} for i in range(6)],
        "events": [{"user_id": i, "event_name": "login", "ts": T0} for i in range(3)],
    }
    load_tables(adapter, PROJECT, data)
    segments = [PROJECT.segments[n] for n in (KEEP, GONE, OFF)]
    assert {r.status for r in run_segments(adapter, PROJECT, segments, T0)} == {"success"}
    before = [rows(adapter, t, "segment", "entity_id") for t in (MEMBERSHIPS, CHANGES)]
    # the definitions change: GONE is removed, OFF disabled
    kept = {n: s for n, s in PROJECT.segments.items() if n != GONE}
    kept[OFF] = dataclasses.replace(kept[OFF], enabled=False)
    project = dataclasses.replace(PROJECT, segments=kept)

    found = prune(adapter, project, dry_run=True)
    assert [(r.segment, r.count, r.has_view) for r in found] == [(GONE, 3, True)]
    assert [rows(adapter, t, "segment", "entity_id") for t in (MEMBERSHIPS, CHANGES)] == before

    prune(adapter, project, now=datetime(2026, 3, 2))
    assert rows(adapter, MEMBERSHIPS, "entity_id", segment=GONE) == []
    assert rows(adapter, CHANGES, "entity_id", "change", segment=GONE) == sorted(
        [(str(i), "entered") for i in (0, 2, 4)] + [(str(i), "exited") for i in (0, 2, 4)]
    )
    runs = rows(adapter, RUNS, "status", "members", "entered", "exited", segment=GONE)
    assert ("success", "0", "0", "3") in runs  # the prune's run row
    assert adapter.relation_columns((adapter.schema, GONE)) is None  # the view is gone
    # the others are untouched, the disabled one too
    assert rows(adapter, MEMBERSHIPS, "entity_id", segment=OFF) == [("0",), ("1",), ("2",)]
    assert adapter.relation_columns((adapter.schema, OFF)) is not None
    assert prune(adapter, project) == []  # nothing left to do


def test_cli_prune(tmp_path):
    import duckdb

    two = """
    sources:
      users: {table: main.users, entity: user, key: user_id}
    segments:
      - {name: a, where: {property: user_id, gte: 0}}
      - {name: b, where: {property: user_id, gte: 1}}
    """
    root = write_project(tmp_path, two)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id FROM range(3)")
    con.close()
    invoke = CliRunner().invoke
    assert invoke(cli, ["run", "--project-dir", str(root)]).exit_code == 0
    result = invoke(cli, ["prune", "--project-dir", str(root)])
    assert result.exit_code == 0 and "Nothing to prune" in result.output
    write_project(
        tmp_path, two.replace("      - {name: b, where: {property: user_id, gte: 1}}\n", "")
    )
    result = invoke(cli, ["prune", "--dry-run", "--project-dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "would prune b: drop view, 2 member(s) would exit" in result.output
    result = invoke(cli, ["prune", "--project-dir", str(root)])
    assert result.exit_code == 0 and "pruned b: view dropped, 2 member(s) exited" in result.output
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    assert con.execute(
        "SELECT count(*) FROM segsql.segsql_membership_changes "
        "WHERE segment = 'b' AND change = 'exited'"
    ).fetchone() == (2,)
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'"
    ).fetchone() == (0,)
    con.close()
