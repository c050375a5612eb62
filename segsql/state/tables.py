"""segsql's own tables (docs/tables.md): their names and columns, and the small builders
every statement about them uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

MEMBERSHIPS = "segsql_memberships"
CHANGES = "segsql_membership_changes"
RUNS = "segsql_runs"

TABLES: dict[str, list[tuple[str, str]]] = {
    MEMBERSHIPS: [
        ("segment", "TEXT"),
        ("entity_type", "TEXT"),
        ("entity_id", "TEXT"),
        ("holdout", "BOOLEAN"),
        ("entered_at", "INSTANT"),
        ("run_id", "TEXT"),
    ],
    CHANGES: [
        ("run_id", "TEXT"),
        ("segment", "TEXT"),
        ("entity_type", "TEXT"),
        ("entity_id", "TEXT"),
        ("change", "TEXT"),
        ("changed_at", "INSTANT"),
        ("holdout", "BOOLEAN"),
        ("initial", "BOOLEAN"),
        ("reason", "TEXT"),
    ],
    RUNS: [
        ("run_id", "TEXT"),
        ("segment", "TEXT"),
        ("as_of", "INSTANT"),
        ("started_at", "INSTANT"),
        ("finished_at", "INSTANT"),
        ("status", "TEXT"),
        ("members", "BIGINT"),
        ("entered", "BIGINT"),
        ("exited", "BIGINT"),
        ("definition_hash", "TEXT"),
        ("error", "TEXT"),
        ("mode", "TEXT"),
    ],
}


# what the rows written before a column existed hold in it (see Adapter.upgrade_table)
UPGRADE_DEFAULTS: dict[str, object] = {"initial": False, "mode": "full"}


@dataclass
class SegmentRun:
    """What one segment's refresh writes, shared by every write strategy."""

    run_id: str
    segment: str
    entity_type: str
    as_of: datetime
    started_at: datetime
    definition_hash: str
    first_run: bool = False  # the segment has no successful run yet: its entries are `initial`
    mode: str = "full"  # how its members were computed: `full` or `incremental`
    reasons: Any = None  # state.reasons.Reasons: where its change rows' `reason` comes from


def c(name: str, table: str | None = None) -> exp.Column:
    return exp.column(
        exp.to_identifier(name, quoted=True), table=exp.to_identifier(table) if table else None
    )


def columns_of(table: str) -> list[str]:
    return [name for name, _ in TABLES[table]]


def insert(table: exp.Table, query: exp.Query, name: str) -> exp.Insert:
    """INSERT INTO table (its columns) `query`; the query becomes part of the statement
    (not copied: callers build it for this statement)."""
    return exp.insert(
        query,
        table.copy(),
        columns=[exp.to_identifier(n, quoted=True) for n in columns_of(name)],
        copy=False,
    )
