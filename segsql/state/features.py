"""The kept features of incremental refresh (SPEC section 10; docs/tables.md).

Two tables in the target schema, both append-only (a third, the entity signatures of
narrowing, is made with them: state/signatures.py):
- `segsql_feature_values`: per kept feature, rows (entity_id, n | num | ts) that each
  carry the id of the run that wrote them and the *generation* they belong to (the run
  that rebuilt the feature from all events). A feature's kept value for an entity is the
  combination (sum, least, greatest) of its rows of the current generation.
- `segsql_feature_state`: one row per (feature, run that wrote it): the commit point. A
  feature's current generation is the one of its latest row; only rows written by runs
  that have a row here are read, so rows of a run that died before its commit (on
  engines without transactions) are never seen. Dropping either table is safe: the next
  run of every segment is full and rebuilds the state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from ..plan.incremental import Horizon
from .tables import c

VALUES = "segsql_feature_values"
LOG = "segsql_feature_state"
SIGNATURES = "segsql_entity_signatures"  # of entity-table rows (state/signatures.py)

FEATURE_TABLES: dict[str, list[tuple[str, str]]] = {
    VALUES: [
        ("feature", "TEXT"),
        ("generation", "TEXT"),
        ("run_id", "TEXT"),
        ("entity_id", "TEXT"),
        ("n", "BIGINT"),
        ("num", "DOUBLE"),
        ("ts", "TIMESTAMP"),
        ("val", "TEXT"),
    ],
    LOG: [
        ("feature", "TEXT"),
        ("entity_type", "TEXT"),
        ("generation", "TEXT"),
        ("run_id", "TEXT"),
        ("as_of", "TEXT"),  # ISO, UTC: the run's T
        ("horizons", "TEXT"),  # JSON: source -> [lookback seconds, greatest loaded_at | null]
    ],
    SIGNATURES: [("entity_type", "TEXT"), ("entity_id", "TEXT"), ("signature", "TEXT")],
}

# A run compacts a feature whose generation has this many runs, or whose runs cover
# this span of T: it writes the feature's value per entity from the state (not the
# events) as a new generation, and the older generations' rows are deleted. Otherwise
# every run reads the rows of every run before it. By span, so that the rows read stay
# within about a week of events more than the compacted value: at 1M users, a day of
# the benchmark's events adds ~7% to its 4.8M rows, and a compaction costs ~1.3 s
# (bench/README.md); by count, so that a frequent cadence keeps a short list of runs.
COMPACT_AFTER = 40
COMPACT_SPAN = timedelta(days=7)


@dataclass(frozen=True)
class Kept:
    """A feature's committed state: its generation, the runs of it, their horizons."""

    generation: str
    run_ids: tuple[str, ...]
    as_of: datetime
    horizons: dict[str, Horizon]
    since: datetime  # the T of the generation's first run (its rebuild or compaction)


def log_query(log: exp.Table, entity_type: str) -> exp.Select:
    return (
        exp.select(c("feature"), c("generation"), c("run_id"), c("as_of"), c("horizons"))
        .from_(log.copy())
        .where(c("entity_type").eq(exp.Literal.string(entity_type)))
    )


def read_log(rows: list[tuple]) -> dict[str, Kept]:
    """feature -> its committed state, from the rows of `log_query`."""
    latest: dict[str, tuple] = {}
    for row in rows:
        if row[0] not in latest or row[2] > latest[row[0]][2]:
            latest[row[0]] = row
    runs: dict[tuple[str, str], list[str]] = {}
    since: dict[tuple[str, str], datetime] = {}
    for feature, generation, run_id, as_of, _ in rows:
        runs.setdefault((feature, generation), []).append(run_id)
        at = datetime.fromisoformat(as_of)
        since[(feature, generation)] = min(at, since.get((feature, generation), at))
    out = {}
    for feature, (_, generation, _run, as_of, horizons) in latest.items():
        at = datetime.fromisoformat(as_of)
        out[feature] = Kept(
            generation,
            tuple(sorted(runs[(feature, generation)])),
            at,
            {
                name: Horizon(at, int(lookback), _instant(loaded))
                for name, (lookback, loaded) in json.loads(horizons).items()
            },
            since[(feature, generation)],
        )
    return out


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def log_row(
    feature: str,
    entity_type: str,
    generation: str,
    run_id: str,
    as_of: datetime,
    horizons: dict[str, Horizon],
) -> list[exp.Expression]:
    """The commit row of one feature written by one run (literals)."""
    spelled = {
        name: [h.lookback_seconds, h.loaded_max.isoformat() if h.loaded_max else None]
        for name, h in sorted(horizons.items())
    }
    return [
        exp.Literal.string(v)
        for v in (feature, entity_type, generation, run_id, as_of.isoformat(), json.dumps(spelled))
    ]


def value_rows(
    rows: exp.Select, feature: str, generation: str, run_id: str, kept: tuple[str, ...], types
) -> exp.Select:
    """`rows` (entity_id, <kept columns>) as rows of segsql_feature_values; `types(kind)`
    spells a generic type for the NULLs of the columns the feature does not keep."""
    q = "q"
    values = [
        c(name, q) if name in kept else exp.Cast(this=exp.Null(), to=types(kind))
        for name, kind in FEATURE_TABLES[VALUES][4:]
    ]
    return exp.select(
        exp.Literal.string(feature),
        exp.Literal.string(generation),
        exp.Literal.string(run_id),
        c("entity_id", q),
        *values,
    ).from_(rows.subquery(q, copy=False))
