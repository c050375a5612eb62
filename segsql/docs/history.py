"""What the docs site reads from the warehouse (segsql's own tables): each segment's
successful runs (size, entered, exited) and, per entity type, how many members segments
share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..state.tables import MEMBERSHIPS, RUNS, c


@dataclass
class RunPoint:
    as_of: datetime
    members: int
    entered: int
    exited: int


@dataclass
class History:
    runs: dict[str, list[RunPoint]] = field(default_factory=dict)  # segment -> by as_of
    # entity type -> (segment a, segment b) -> members in both (a == b: the segment's size)
    overlap: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)

    def volatility(self, segment: str) -> float | None:
        """Churn per run: the mean of (entered + exited) / members before the run, over
        the runs after the first; None with fewer than two runs."""
        points = self.runs.get(segment, [])
        rates = [
            (p.entered + p.exited) / max(prev.members, 1)
            for prev, p in zip(points, points[1:], strict=False)
        ]
        return sum(rates) / len(rates) if rates else None


def read_history(adapter: Adapter) -> History:
    history = History()
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return history
    rows = adapter.fetch(
        exp.select(c("segment"), c("as_of"), c("members"), c("entered"), c("exited"))
        .from_(adapter.table(RUNS))
        .where(c("status").eq(exp.Literal.string("success")))
        .order_by(c("segment"), c("as_of"), c("run_id"))
    )
    for segment, as_of, members, entered, exited in rows:
        history.runs.setdefault(segment, []).append(
            RunPoint(as_of, int(members or 0), int(entered or 0), int(exited or 0))
        )
    if adapter.relation_columns((adapter.schema, MEMBERSHIPS)) is None:
        return history
    a, b = exp.to_identifier("a"), exp.to_identifier("b")
    pairs = (
        exp.select(
            c("entity_type", "a"),
            exp.alias_(c("segment", "a"), "left_segment", quoted=True),
            exp.alias_(c("segment", "b"), "right_segment", quoted=True),
            exp.alias_(exp.func("COUNT", exp.Star()), "n", quoted=True),
        )
        .from_(exp.alias_(adapter.table(MEMBERSHIPS), a, table=True))
        .join(
            exp.alias_(adapter.table(MEMBERSHIPS), b, table=True),
            on=exp.and_(
                c("entity_type", "a").eq(c("entity_type", "b")),
                c("entity_id", "a").eq(c("entity_id", "b")),
            ),
        )
        .group_by(c("entity_type", "a"), c("segment", "a"), c("segment", "b"))
    )
    for entity, left, right, n in adapter.fetch(pairs):
        history.overlap.setdefault(entity, {})[(left, right)] = int(n)
    return history
