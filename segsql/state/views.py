"""`segsql_views`: which SQL each of segsql's views was last created from (docs/tables.md).

Append-only: a row (view, sql_hash, replaced_at) each time a run (re)creates a view. A
run replaces a view only when its SQL has changed since (or it is missing, or the run
is a `--full-refresh`), so an unchanged project costs the warehouse no DDL. Dropping the
table is safe: the next run creates every view again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlglot import exp

from ..dialects.base import lit
from .tables import c

VIEWS = "segsql_views"

VIEW_TABLE: dict[str, list[tuple[str, str]]] = {
    VIEWS: [("view", "TEXT"), ("sql_hash", "TEXT"), ("replaced_at", "INSTANT")],
}


def sql_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recorded_query(table: exp.Table) -> exp.Select:
    return exp.select(c("view"), c("sql_hash"), c("replaced_at")).from_(table.copy())


def latest_hashes(rows: list[tuple]) -> dict[str, str]:
    """view -> the hash of its latest row, from the rows of `recorded_query`."""
    latest: dict[str, tuple[datetime, str]] = {}
    for view, digest, at in rows:
        if view not in latest or at >= latest[view][0]:
            latest[view] = (at, digest)
    return {view: digest for view, (_, digest) in latest.items()}


def replaced_rows(d, hashes: dict[str, str], at: datetime) -> exp.Values:
    """One row per view replaced, as one VALUES list (in column order)."""
    return exp.values([(lit(view), lit(digest), d.instant(at)) for view, digest in hashes.items()])
