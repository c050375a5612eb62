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

Several segments of one run (`write_segments`) keep that order for each of them, and share
the statements that are not a commit point: step 1 is one INSERT of every segment's change
rows, then each segment's swap (its own atomic step), then one query for the counts and
one INSERT of every `success` row. A crash anywhere leaves each segment before or after its
own swap, which `recover()` tells apart as above. (On Spark each statement is a job of
0.1-0.3 s: a run of 10 segments made 30 INSERTs and 30 count queries, now 12 and 11, and its
write takes about half as long.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlglot import exp

from ..clock import utcnow
from ..dialects.base import lit
from ..state import faults
from ..state.batch import union_all
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
    """The change rows of every segment (one statement), each segment's swap, then their
    counts and `success` rows (one statement each). On an error, each segment is before or
    after its swap, and without its success row: the caller repairs them all with
    `recover(failing=...)` (see the module docstring)."""
    d = adapter.dialect
    T = d.instant(runs[0].as_of)
    memberships, changes = adapter.table(MEMBERSHIPS), adapter.table(CHANGES)
    staged = {
        run.segment: adapter.temp_table(f"segsql_staged_{i}", members[run.segment])
        for i, run in enumerate(runs)
    }
    faults.checkpoint("staged")
    rows = [q for run in runs for q in change_rows(run, staged[run.segment], memberships, T)]
    adapter.execute(insert(changes, union_all(rows), CHANGES))
    faults.checkpoint("changes")
    for run in runs:
        adapter.replace_segment_memberships(
            run.segment, next_memberships(run, staged[run.segment], memberships, T)
        )
        faults.checkpoint("memberships")
    counts = _counts(adapter, runs[0].run_id, staged)
    finished = now()
    adapter.execute(
        insert(
            adapter.table(RUNS),
            union_all([run_row(run, d, "success", finished, counts[run.segment]) for run in runs]),
            RUNS,
        )
    )
    faults.checkpoint("runs_row")
    faults.checkpoint("committed")
    return counts


def _counts(
    adapter: Adapter, run_id: str, staged: dict[str, exp.Table]
) -> dict[str, tuple[int, int, int]]:
    """segment -> (members, entered, exited) of run `run_id`, in one query: the staged
    members of each segment, and its change rows."""
    sizes = [
        exp.select(lit(segment), lit("members"), exp.func("COUNT", exp.Star())).from_(table.copy())
        for segment, table in staged.items()
    ]
    changed = (
        exp.select(c("segment"), c("change"), exp.func("COUNT", exp.Star()))
        .from_(adapter.table(CHANGES))
        .where(
            exp.and_(
                c("run_id").eq(lit(run_id)),
                c("segment").isin(*(lit(s) for s in staged)),
            )
        )
        .group_by(c("segment"), c("change"))
    )
    found: dict[str, dict[str, int]] = {segment: {} for segment in staged}
    for segment, kind, n in adapter.fetch(union_all([*sizes, changed])):
        found[segment][kind] = int(n)
    return {
        segment: (k.get("members", 0), k.get("entered", 0), k.get("exited", 0))
        for segment, k in found.items()
    }


def recover(
    adapter: Adapter, failing: Collection[tuple[str, str]] = ()
) -> list[tuple[str, str, str]]:
    """Repair interrupted refreshes; returns (run_id, segment, 'forward'|'back').
    `failing`: (run_id, segment) of refreshes failing in this process; those rolled back
    get no error row (the caller knows the error, or writes them again)."""
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
            if (run_id, segment) in failing:
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
