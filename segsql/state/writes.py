"""The statements that write one segment's run (the default write strategy, and the
pieces that engines without transactions reuse, see adapters/swap.py).

The default strategy, for engines with transactions and DELETE, is a handful of
statements inside one transaction: stage the new membership, append the `entered` and
`exited` changes (anti-joins, so no MERGE is needed), swap the segment's membership rows
(keeping `entered_at` of those who stay), and append the `success` row.
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..dialects.base import lit
from .tables import MEMBERSHIPS, SegmentRun, c, columns_of


def last_success(runs: exp.Table) -> exp.Select:
    """segment -> as_of of its last successful run."""
    return (
        exp.select(c("segment"), exp.func("MAX", c("as_of")))
        .from_(runs, copy=False)
        .where(c("status").eq(lit("success")), copy=False)
        .group_by(c("segment"), copy=False)
    )


def current_members(memberships: exp.Table, segment: str, alias: str) -> exp.Select:
    return (
        exp.select(c("entity_id"), c("holdout"), c("entered_at"))
        .from_(memberships, copy=False)
        .where(c("segment").eq(lit(segment)), copy=False)
        .subquery(alias, copy=False)
    )


def _missing_from(other: exp.Expression, alias: str) -> exp.Expression:
    """NOT EXISTS (SELECT 1 FROM other o WHERE o.entity_id = alias.entity_id)."""
    inner = other.copy()
    probe = (
        exp.select(exp.Literal.number(1))
        .from_(inner, copy=False)
        .where(
            exp.EQ(this=c("entity_id", inner.alias_or_name), expression=c("entity_id", alias)),
            copy=False,
        )
    )
    return exp.not_(exp.Exists(this=probe), copy=False)


def change_rows(
    run: SegmentRun, staged: exp.Table, memberships: exp.Table, T: exp.Expression
) -> list[exp.Select]:
    """The `entered` and `exited` rows (in CHANGES column order)."""

    def head(alias: str, change: str) -> list[exp.Expression]:
        return [
            lit(run.run_id),
            lit(run.segment),
            lit(run.entity_type),
            c("entity_id", alias),
            lit(change),
            T.copy(),
            c("holdout", alias),
        ]

    new = exp.alias_(staged.copy(), "n", table=True)
    old = current_members(memberships, run.segment, "o")
    entered = (
        exp.select(*head("n", "entered"))
        .from_(new, copy=False)
        .where(_missing_from(current_members(memberships, run.segment, "m"), "n"), copy=False)
    )
    exited = (
        exp.select(*head("o", "exited"))
        .from_(old, copy=False)
        .where(_missing_from(exp.alias_(staged.copy(), "m", table=True), "o"), copy=False)
    )
    return [entered, exited]


def next_memberships(
    run: SegmentRun, staged: exp.Table, memberships: exp.Table, T: exp.Expression
) -> exp.Select:
    """The segment's new membership rows, keeping `entered_at` of those who stay."""
    old = current_members(memberships, run.segment, "o")
    values = [
        lit(run.segment),
        lit(run.entity_type),
        c("entity_id", "n"),
        c("holdout", "n"),
        exp.func("COALESCE", c("entered_at", "o"), T.copy()),
        lit(run.run_id),
    ]
    return (
        exp.select(
            *(
                exp.alias_(v, name, quoted=True)
                for v, name in zip(values, columns_of(MEMBERSHIPS), strict=True)
            )
        )
        .from_(exp.alias_(staged.copy(), "n", table=True), copy=False)
        .join(
            old,
            join_type="left",
            on=exp.EQ(this=c("entity_id", "o"), expression=c("entity_id", "n")),
            copy=False,
        )
    )


def run_row(
    run: SegmentRun,
    d,
    status: str,
    finished: datetime,
    counts: tuple[int, int, int] | None,
    error: str | None = None,
) -> exp.Select:
    """One `segsql_runs` row as a SELECT of literals (in RUNS column order)."""
    members, entered, exited = counts if counts else (None, None, None)

    def num(v):
        return exp.cast(exp.null(), "BIGINT") if v is None else lit(v)

    return exp.select(
        lit(run.run_id),
        lit(run.segment),
        d.timestamp(run.as_of),
        d.timestamp(run.started_at),
        d.timestamp(finished),
        lit(status),
        num(members),
        num(entered),
        num(exited),
        lit(run.definition_hash),
        exp.cast(exp.null(), d.dtype(d.text_type)) if error is None else lit(error),
    )


def delete_segment(memberships: exp.Table, segment: str) -> exp.Delete:
    return exp.delete(memberships.copy(), where=c("segment").eq(lit(segment)))
