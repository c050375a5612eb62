"""The views over segsql's tables, created with them (`run`'s prepare step): the history
view and, per entity type of the project, the typed views for BI (docs/tables.md)."""

from __future__ import annotations

import logging

from sqlglot import exp

from ..adapters.base import Adapter
from ..model.types import Project
from ..state.history import (
    HISTORY,
    history_query,
    typed_history_view,
    typed_memberships_query,
    typed_memberships_view,
)
from ..state.tables import CHANGES, MEMBERSHIPS
from .views import replace_changed_views

log = logging.getLogger("segsql.run")


def key_type(adapter: Adapter, project: Project, entity: str) -> exp.DataType | None:
    """The type of the entity key column in the warehouse; None when the table or column
    is missing or its type is one sqlglot cannot read (then the typed views keep text)."""
    src = project.entity_source(entity)
    columns = adapter.relation_columns(src.table)
    found = (columns or {}).get(adapter.dialect.normalize(src.key)) or (columns or {}).get(src.key)
    if found is None:
        return None
    try:
        return adapter.dialect.dtype(found)
    except Exception:  # noqa: BLE001 - an exotic type: the typed view keeps the text id
        log.warning(
            "entity %s: key type %r not understood; its typed views keep text", entity, found
        )
        return None


def replace_state_views(
    adapter: Adapter, project: Project | None = None, force: bool = False
) -> None:
    """segsql_membership_history, and each entity type's typed memberships and history
    views (when its entity table exists); each only when it changed (runner/views.py)."""
    changes = adapter.table(CHANGES)
    views: dict[str, exp.Query] = {HISTORY: history_query(changes)}
    entities = sorted({s.entity for s in project.sources.values() if s.entity}) if project else []
    for entity in entities:
        kind = key_type(adapter, project, entity)
        views[typed_memberships_view(entity)] = typed_memberships_query(
            adapter.table(MEMBERSHIPS), entity, kind
        )
        views[typed_history_view(entity)] = history_query(changes, entity, kind)
    for error in replace_changed_views(adapter, views, force).values():
        raise error
