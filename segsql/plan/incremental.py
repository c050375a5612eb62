"""Incremental refresh (SPEC section 10), the part decided from the model alone: which
features can be kept between runs, their stable ids, and the reference to kept state that
a plan reads.

A kept feature is an aggregate over all time or a fixed `during` range whose value over
a set of rows is a combination of its values over any split of those rows: count and
sum add, min/first take the least, max/last the greatest, avg is a kept sum over a kept
count; or a count over a moving `within` window, from which the rows that left the
window since the last run are subtracted (read by their timestamp: a range of the step's
width at the window's far end); or a count_distinct, kept as each value's last time (the
values counted at T are those last seen at or after T - w for a `within` window; a value
last seen before can count again only with a new row). Between runs
the state holds its value over the *settled* rows of each source: for a source without
`loaded_at`, the rows with `timestamp <= T - lookback` (rows inserted later have a later
timestamp, by contract); with `loaded_at`, the rows with `loaded_at <= L` (the greatest
`loaded_at` the run saw) and `timestamp <= T`. A run at T' reads the kept value and
aggregates only the rows that are not settled (the step since T plus the lookback), so
its value is exactly that of a full evaluation at T'.

Every other feature (sum/avg/min/max/first/last over a `within` window, count_distinct,
since_property, since_nth_last, sequences, parents and members) is computed from the
events each run, as in a full refresh: a `within` window reads only its own time range.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..model.types import Project, SinceNthLast, SinceProperty, Within

if TYPE_CHECKING:
    from .planner import Aggregate

# measure -> the kept columns it needs (of the state table, see state/features.py)
KEPT = {
    "count": ("n",),
    "sum": ("num",),
    "min": ("num",),
    "max": ("num",),
    "avg": ("num", "n"),
    "first": ("ts",),
    "last": ("ts",),
    "count_distinct": ("val", "ts"),  # each value's last time
}


def not_kept_because(agg: Aggregate) -> str | None:
    """None if the aggregate can be kept between runs; otherwise why not (for --plan)."""
    if agg.kind not in KEPT:
        return f"{agg.kind} is not kept between runs (yet)"
    if isinstance(agg.window, (SinceProperty, SinceNthLast)):
        return "its window starts at a time of each entity's own"
    if isinstance(agg.window, Within) and agg.kind not in ("count", "count_distinct"):
        return f"a moving window keeps counts only (the {agg.kind} of rows that left it is lost)"
    return None


def moving(agg: Aggregate) -> bool:
    """A count over a `within` window: rows leave it as T moves (they are subtracted)."""
    return isinstance(agg.window, Within) and agg.kind == "count"


def how_kept(agg: Aggregate) -> str:
    """How a kept aggregate is combined (for --plan)."""
    if agg.kind == "count_distinct":
        return "each value's kept last time, updated by new rows; values last seen in the window"
    if moving(agg):
        return "kept count in the window - rows that left it + count of new rows"
    return {
        "count": "kept count + count of new rows",
        "sum": "kept sum + sum of new rows",
        "min": "least of kept min and new rows",
        "max": "greatest of kept max and new rows",
        "avg": "kept (sum, count) + new rows, then sum / count",
        "first": "earliest of kept first and new rows",
        "last": "latest of kept last and new rows",
    }[agg.kind]


def source_signature(project: Project, name: str) -> tuple:
    """What a kept feature depends on in a source's definition: a change to any of it
    makes the state of the features that read the source unusable (a new feature id)."""
    s = project.sources[name]
    return (
        s.name,
        s.table,
        s.key,
        s.events_of,
        s.event,
        s.timestamp,
        s.json,
        s.loaded_at,
        str(s.lookback or "0s"),
        tuple(sorted(s.zone_aware)),
    )


def feature_id(
    project: Project, entity: str, sources: tuple[str, ...], agg: Aggregate, read: tuple[str, ...]
) -> str:
    """A stable id of a kept feature: its aggregate and the definitions of the sources it
    reads (`read`: the sources its rows come from)."""
    parts = repr((entity, sources, agg, tuple(source_signature(project, s) for s in read)))
    return hashlib.sha256(parts.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Horizon:
    """Which rows of one source a kept value covers: settled at the run at `as_of`."""

    as_of: datetime
    lookback_seconds: int
    loaded_max: datetime | None  # sources with `loaded_at`: the greatest seen (None: none)

    @property
    def settled_until(self) -> datetime:
        """Sources without `loaded_at`: rows with timestamp up to this are settled."""
        return self.as_of - timedelta(seconds=self.lookback_seconds)


@dataclass(frozen=True)
class StateRef:
    """The kept value of one feature that a run starts from: the rows of `table` for
    `feature` in `generation` written by the committed runs `run_ids`, and per source
    the horizon they cover."""

    feature: str
    table: tuple[str, str]  # (schema, table name)
    generation: str
    run_ids: tuple[str, ...]
    horizons: tuple[tuple[str, Horizon], ...]  # (source name, horizon)

    def horizon(self, source: str) -> Horizon:
        return dict(self.horizons)[source]
