"""The write strategy for engines without multi-statement transactions (ClickHouse, Spark):
the adapters whose `SUPPORTS_TRANSACTIONS` is False (`Adapter` reads it and calls these).

A segment's refresh writes, in this order:
  1. its `entered` / `exited` rows into segsql_membership_changes,
  2. its new rows into segsql_memberships, replacing the old ones in one atomic engine
     operation (the adapter's `replace_segment_memberships`: a partition swap) - the commit point,
  3. its `success` row into segsql_runs.
A crash can stop it between any two steps. `recover()`, which every run calls first, finds
change rows without a success row and decides whether step 2 happened: with E the run's
entered ids and X its exited ids, the swap happened iff some id of E is now a member or
some id of X is not (before the swap all of X are members and none of E; after it, the
opposite - and E or X is non-empty, or there would be no change rows). A swapped run is
rolled forward (its success row is added); an unswapped one is rolled back (its change
rows are deleted) and an `error` row says it was interrupted. Either way, replaying the
changes gives the memberships again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from ..clock import utcnow
from ..state import faults
from ..state.tables import CHANGES, MEMBERSHIPS, RUNS, SegmentRun, c, insert
from ..state.writes import change_rows, next_memberships, run_row

if TYPE_CHECKING:
    from .base import Adapter


def write_segment(
    adapter: Adapter, run: SegmentRun, members: exp.Select, now
) -> tuple[int, int, int]:
    d = adapter.dialect
    T = d.instant(run.as_of)
    memberships, changes = adapter.table(MEMBERSHIPS), adapter.table(CHANGES)
    staged = adapter.temp_table("segsql_staged", members)
    faults.checkpoint("staged")
    entered, exited = change_rows(run, staged, memberships, T)
    adapter.execute(insert(changes, exp.union(entered, exited, distinct=False), CHANGES))
    faults.checkpoint("changes")
    adapter.replace_segment_memberships(run.segment, next_memberships(run, staged, memberships, T))
    faults.checkpoint("memberships")
    counts = adapter.change_counts(run, staged)
    adapter.execute(insert(adapter.table(RUNS), run_row(run, d, "success", now(), counts), RUNS))
    faults.checkpoint("runs_row")
    faults.checkpoint("committed")
    return counts


def write_segments(
    adapter: Adapter, runs: list[SegmentRun], members: dict[str, exp.Select], now
) -> dict[str, tuple[int, int, int]]:
    """One segment after the other (each its own commit point). On an error the
    segments before it are written, it is partly written (the caller repairs it with
    `recover(failing=...)`) and the ones after it are not."""
    return {run.segment: write_segment(adapter, run, members[run.segment], now) for run in runs}


def recover(adapter: Adapter, failing: tuple[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Repair interrupted refreshes; returns (run_id, segment, 'forward'|'back').
    `failing` (run_id, segment) is a refresh failing in this process: rolled back, its
    error row is left to the caller, which knows the error."""
    changes, runs, memberships = (
        adapter.table(CHANGES),
        adapter.table(RUNS),
        adapter.table(MEMBERSHIPS),
    )
    succeeded = (
        exp.select(exp.Literal.number(1))
        .from_(exp.alias_(runs.copy(), "r", table=True))
        .where(
            exp.and_(
                exp.EQ(this=c("run_id", "r"), expression=c("run_id", "x")),
                exp.EQ(this=c("segment", "r"), expression=c("segment", "x")),
                c("status", "r").eq(exp.Literal.string("success")),
            )
        )
    )
    pending = adapter.fetch(
        exp.select(
            c("run_id", "x"),
            c("segment", "x"),
            exp.func("MIN", c("entity_type", "x")),
            exp.func("MIN", c("changed_at", "x")),
        )
        .from_(exp.alias_(changes.copy(), "x", table=True))
        .where(exp.not_(exp.Exists(this=succeeded)))
        .group_by(c("run_id", "x"), c("segment", "x"))
    )
    done = []
    for run_id, segment, entity_type, as_of in pending:
        run = SegmentRun(run_id, segment, entity_type, as_of, utcnow(), "recovered")
        of_run = exp.and_(
            c("run_id").eq(exp.Literal.string(run_id)),
            c("segment").eq(exp.Literal.string(segment)),
        )
        counts = dict(
            adapter.fetch(
                exp.select(c("change"), exp.func("COUNT", exp.Star()))
                .from_(changes.copy())
                .where(of_run)
                .group_by(c("change"))
            )
        )
        if _swapped(adapter, run_id, segment):
            members = adapter.fetch(
                exp.select(exp.func("COUNT", exp.Star()))
                .from_(memberships.copy())
                .where(c("segment").eq(exp.Literal.string(segment)))
            )[0][0]
            totals = (int(members), int(counts.get("entered", 0)), int(counts.get("exited", 0)))
            adapter.execute(
                insert(runs, run_row(run, adapter.dialect, "success", utcnow(), totals), RUNS)
            )
            done.append((run_id, segment, "forward"))
        else:
            adapter.delete_rows(changes, of_run)
            done.append((run_id, segment, "back"))
            if (run_id, segment) == failing:
                continue
            adapter.execute(
                insert(
                    runs,
                    run_row(
                        run,
                        adapter.dialect,
                        "error",
                        utcnow(),
                        None,
                        "interrupted before its memberships were written; rolled back",
                    ),
                    RUNS,
                )
            )
    return done


def _swapped(adapter: Adapter, run_id: str, segment: str) -> bool:
    """Did the membership swap of this run happen? (see the module docstring)"""

    def ids(change: str) -> exp.Select:
        return (
            exp.select(c("entity_id"))
            .from_(adapter.table(CHANGES))
            .where(
                exp.and_(
                    c("run_id").eq(exp.Literal.string(run_id)),
                    c("segment").eq(exp.Literal.string(segment)),
                    c("change").eq(exp.Literal.string(change)),
                )
            )
        )

    current = (
        exp.select(c("entity_id"))
        .from_(adapter.table(MEMBERSHIPS))
        .where(c("segment").eq(exp.Literal.string(segment)))
    )
    entered_in = (
        exp.select(exp.func("COUNT", exp.Star()))
        .from_(ids("entered").subquery("e"))
        .where(c("entity_id", "e").isin(query=current.copy()))
    )
    exited_out = (
        exp.select(exp.func("COUNT", exp.Star()))
        .from_(ids("exited").subquery("e"))
        .where(exp.not_(c("entity_id", "e").isin(query=current.copy())))
    )
    return bool(adapter.fetch(entered_in)[0][0]) or bool(adapter.fetch(exited_out)[0][0])
