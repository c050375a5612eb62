"""Reading run state back (for `segsql ls`)."""

from __future__ import annotations

from datetime import datetime

from ..adapters.base import Adapter
from ..state.tables import RUNS
from ..state.writes import latest_success


def segment_status(adapter: Adapter) -> dict[str, tuple[datetime, int]]:
    """segment -> (as_of, members) of its last successful run."""
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return {}
    rows = adapter.fetch(latest_success(adapter.table(RUNS), "as_of", "members"))
    return {seg: (as_of, members) for seg, as_of, members in rows}
