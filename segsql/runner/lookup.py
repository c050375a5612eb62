"""`segsql lookup`: the segments an entity was a member of at T, from the history
(SPEC section 11). Reads only; never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..adapters.base import Adapter
from ..errors import UsageError, did_you_mean
from ..model.types import Project
from ..state.history import history_query, members_at
from ..state.tables import CHANGES


@dataclass(frozen=True)
class Stretch:
    segment: str
    holdout: bool
    since: datetime


def check_entity(project: Project, entity: str) -> None:
    known = sorted({s.entity for s in project.sources.values() if s.entity})
    if entity not in known:
        raise UsageError(
            f"--entity '{entity}' is not an entity type of this project (known: "
            f"{', '.join(known) or 'none'}){did_you_mean(entity, known)}"
        )


def lookup(adapter: Adapter, entity: str, entity_id: str, as_of: datetime) -> list[Stretch]:
    """(segment, holdout, since) of each segment the entity was in at T, by segment name;
    empty when segsql never ran on this target."""
    if adapter.relation_columns((adapter.schema, CHANGES)) is None:
        return []
    history = history_query(adapter.table(CHANGES))
    rows = adapter.fetch(members_at(history, entity, entity_id, adapter.dialect.instant(as_of)))
    return [Stretch(str(s), bool(h), since) for s, h, since in rows]
