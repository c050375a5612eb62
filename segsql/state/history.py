"""The views derived from segsql's tables (docs/tables.md): `segsql_membership_history`
(SCD2 stretches of membership, from the change log) and the typed views per entity type
(`segsql_<entity>_memberships`, `segsql_<entity>_history`), whose `entity_id` has the
entity key's own type, so that a dashboard joins them with its own tables directly.

Each view reads the tables only (never another view), so that a view is replaced
without touching the others (Postgres refuses to drop a view that another reads).
"""

from __future__ import annotations

from sqlglot import exp

from ..dialects.base import lit
from .tables import c

HISTORY = "segsql_membership_history"
HISTORY_COLUMNS = ["segment", "entity_type", "entity_id", "holdout", "valid_from", "valid_to"]
MEMBERSHIP_COLUMNS = ["segment", "entity_type", "entity_id", "holdout", "entered_at", "run_id"]


def typed_memberships_view(entity: str) -> str:
    return f"segsql_{entity}_memberships"


def typed_history_view(entity: str) -> str:
    return f"segsql_{entity}_history"


def _id(key_type: exp.DataType | None) -> exp.Expression:
    """entity_id, as text, or cast to the key's own type."""
    if key_type is None:
        return c("entity_id")
    return exp.alias_(exp.cast(c("entity_id"), key_type), "entity_id", quoted=True)


def history_query(
    changes: exp.Table, entity_type: str | None = None, key_type: exp.DataType | None = None
) -> exp.Select:
    """One row per stretch of membership (SPEC section 11): an `entered` row's
    `changed_at` is `valid_from`; the change after it of the same (segment, entity_type,
    entity_id) is its `exited` row, whose `changed_at` is `valid_to` (NULL while still a
    member). Changes alternate entered / exited per member; ties in `changed_at` (two
    runs at one T) are ordered by `run_id`, which starts with the run's start time.
    `entity_type`: that type's rows only, their id cast to `key_type`."""
    window = exp.Window(
        this=exp.Anonymous(this="LEAD", expressions=[c("changed_at")]),
        partition_by=[c("segment"), c("entity_type"), c("entity_id")],
        order=exp.Order(
            expressions=[exp.Ordered(this=c("changed_at")), exp.Ordered(this=c("run_id"))]
        ),
    )
    inner = exp.select(
        c("segment"),
        c("entity_type"),
        c("entity_id"),
        c("holdout"),
        c("change"),
        exp.alias_(c("changed_at"), "valid_from", quoted=True),
        exp.alias_(window, "valid_to", quoted=True),
    ).from_(changes.copy())
    if entity_type is not None:
        inner = inner.where(c("entity_type").eq(lit(entity_type)))
    return (
        exp.select(
            c("segment"),
            c("entity_type"),
            _id(key_type),
            c("holdout"),
            c("valid_from"),
            c("valid_to"),
        )
        .from_(inner.subquery("h"))
        .where(c("change").eq(lit("entered")))
    )


def typed_memberships_query(
    memberships: exp.Table, entity_type: str, key_type: exp.DataType | None
) -> exp.Select:
    """segsql_memberships of one entity type, its entity_id in the key's own type."""
    cols = [_id(key_type) if n == "entity_id" else c(n) for n in MEMBERSHIP_COLUMNS]
    return exp.select(*cols).from_(memberships.copy()).where(c("entity_type").eq(lit(entity_type)))


def members_at(history: exp.Select, entity_type: str, entity_id: str, T: exp.Expression):
    """The stretches of `history_query` that hold entity (type, id) at T, by segment:
    (segment, holdout, valid_from)."""
    at = exp.and_(
        c("entity_type").eq(lit(entity_type)),
        c("entity_id").eq(lit(entity_id)),
        c("valid_from") <= T,
        exp.or_(c("valid_to").is_(exp.null()), c("valid_to") > T.copy()),
    )
    return (
        exp.select(c("segment"), c("holdout"), c("valid_from"))
        .from_(history.subquery("s"))
        .where(at)
        .order_by(c("segment"))
    )
