"""The kept signatures of entity-table rows (narrowing, plan/narrow.py): what tells a
run which entities' properties changed since the previous one.

`segsql_entity_signatures` holds (entity_type, entity_id, signature) as of the last run
that wrote them, which writes only the rows that changed; its commit row is a row of
`segsql_feature_state` (feature SIGNATURES_FEATURE, its generation the run's id), in the
same transaction as that run's memberships. A run may narrow a segment's evaluation
only if the segment's last successful run is the one that wrote the signatures. A
signature missing or different makes the entity *changed* (evaluated), so a lost or
stale row costs work, never a wrong member. Dropping the table is safe.
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..dialects.base import lit
from ..plan.incremental import Horizon
from .features import FEATURE_TABLES, LOG, SIGNATURES, log_row
from .tables import c

SIGNATURES_FEATURE = "segsql:signatures"  # its commit rows in segsql_feature_state


def changed_signatures(rows: exp.Select, stored: exp.Table, entity_type: str) -> exp.Select:
    """(entity_id, signature) of the entities whose signature in `rows` (entity_id,
    signature: the entity table now) differs from the stored one, is new, or is gone
    (signature NULL)."""
    old = (
        exp.select(c("entity_id"), c("signature"))
        .from_(stored.copy())
        .where(c("entity_type").eq(lit(entity_type)))
    )
    return (
        exp.select(
            exp.alias_(
                exp.func("COALESCE", c("entity_id", "n"), c("entity_id", "o")),
                "entity_id",
                quoted=True,
            ),
            exp.alias_(c("signature", "n"), "signature", quoted=True),
        )
        .from_(rows.subquery("n", copy=False), copy=False)
        .join(
            old.subquery("o"),
            join_type="full",
            on=c("entity_id", "n").eq(c("entity_id", "o")),
            copy=False,
        )
        .where(
            exp.or_(
                c("entity_id", "n").is_(exp.null()),
                c("entity_id", "o").is_(exp.null()),
                exp.NEQ(this=c("signature", "n"), expression=c("signature", "o")),
            ),
            copy=False,
        )
    )


def signature_writes(
    stored: exp.Table, changed: exp.Table, entity_type: str
) -> list[exp.Expression]:
    """Make the stored signatures those of `changed_signatures`' rows in `changed`."""
    ids = exp.select(c("entity_id")).from_(changed.copy())
    return [
        exp.delete(
            stored.copy(),
            where=exp.and_(c("entity_type").eq(lit(entity_type)), c("entity_id").isin(query=ids)),
        ),
        exp.insert(
            exp.select(lit(entity_type), c("entity_id"), c("signature"))
            .from_(changed.copy())
            .where(exp.not_(c("signature").is_(exp.null()))),
            stored.copy(),
            columns=_columns(SIGNATURES),
        ),
    ]


def commit_row(
    log: exp.Table, entity_type: str, run_id: str, as_of: datetime, horizons: dict[str, Horizon]
) -> exp.Insert:
    """The commit row of the signatures a run wrote (in segsql_feature_state), with what
    the run saw of each event source of the entity type (`horizons`)."""
    row = log_row(SIGNATURES_FEATURE, entity_type, run_id, run_id, as_of, horizons)
    return exp.insert(exp.values([tuple(row)]), log.copy(), columns=_columns(LOG))


def _columns(table: str) -> list[exp.Identifier]:
    return [exp.to_identifier(n, quoted=True) for n, _ in FEATURE_TABLES[table]]
