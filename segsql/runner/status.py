"""Reading run state back (for `segsql ls`)."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..state.tables import RUNS, c


def segment_status(adapter: Adapter) -> dict[str, tuple[datetime, int]]:
    """segment -> (as_of, members) of its last successful run."""
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return {}
    ranked = (
        exp.select(
            c("segment"),
            c("as_of"),
            c("members"),
            exp.alias_(
                exp.Window(
                    this=exp.func("ROW_NUMBER"),
                    partition_by=[c("segment")],
                    order=exp.Order(
                        expressions=[
                            exp.Ordered(this=c("as_of"), desc=True),
                            exp.Ordered(this=c("run_id"), desc=True),
                        ]
                    ),
                ),
                "rn",
                quoted=True,
            ),
        )
        .from_(adapter.table(RUNS))
        .where(c("status").eq(exp.Literal.string("success")))
    )
    rows = adapter.fetch(
        exp.select(c("segment"), c("as_of"), c("members"))
        .from_(ranked.subquery("r"))
        .where(c("rn").eq(1))
    )
    return {seg: (as_of, members) for seg, as_of, members in rows}
