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
from .reasons import add_reason
from .tables import MEMBERSHIPS, SegmentRun, c, columns_of


def last_success(runs: exp.Table) -> exp.Select:
    """segment -> as_of of its last successful run."""
    return (
        exp.select(c("segment"), exp.func("MAX", c("as_of")))
        .from_(runs, copy=False)
        .where(c("status").eq(lit("success")), copy=False)
        .group_by(c("segment"), copy=False)
    )


def latest_success(runs: exp.Table, *columns: str) -> exp.Select:
    """(segment, *columns) of each segment's last successful run: the latest `as_of`, then
    the latest run_id (ls, diff, and the definition hashes of incremental refresh)."""
    order = [exp.Ordered(this=c("as_of"), desc=True), exp.Ordered(this=c("run_id"), desc=True)]
    rank = exp.Window(
        this=exp.RowNumber(), partition_by=[c("segment")], order=exp.Order(expressions=order)
    )
    ranked = (
        exp.select(c("segment"), *(c(n) for n in columns), exp.alias_(rank, "rn", quoted=True))
        .from_(runs, copy=False)
        .where(c("status").eq(lit("success")), copy=False)
    )
    return (
        exp.select(c("segment"), *(c(n) for n in columns))
        .from_(ranked.subquery("r"), copy=False)
        .where(c("rn").eq(exp.Literal.number(1)), copy=False)
    )


def current_members(
    memberships: exp.Table, segment: str, alias: str, entity_type: str | None = None
) -> exp.Select:
    """The segment's membership rows (of `entity_type` only, if given: a segment whose
    `entity:` changed still holds rows of the old type, which are other entities)."""
    where = c("segment").eq(lit(segment))
    if entity_type is not None:
        where = exp.and_(where, c("entity_type").eq(lit(entity_type)))
    return (
        exp.select(c("entity_type"), c("entity_id"), c("holdout"), c("entered_at"))
        .from_(memberships, copy=False)
        .where(where, copy=False)
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
    """The `entered` and `exited` rows (in CHANGES column order). A member is a (type, id)
    pair: rows of another entity type (the segment's `entity:` changed) all exit."""

    def head(alias: str, change: str) -> list[exp.Expression]:
        return [
            lit(run.run_id),
            lit(run.segment),
            c("entity_type", alias),
            c("entity_id", alias),
            lit(change),
            T.copy(),
            c("holdout", alias),
            exp.Boolean(this=run.first_run and change == "entered"),
        ]

    new = exp.select(
        lit(run.entity_type).as_("entity_type", quoted=True), c("entity_id"), c("holdout")
    ).from_(staged.copy())
    entered = (
        exp.select(*head("n", "entered"))
        .from_(new.subquery("n"), copy=False)
        .where(
            _missing_from(current_members(memberships, run.segment, "m", run.entity_type), "n"),
            copy=False,
        )
    )
    exited = (
        exp.select(*head("o", "exited"))
        .from_(current_members(memberships, run.segment, "o"), copy=False)
        .where(
            exp.or_(
                exp.NEQ(this=c("entity_type", "o"), expression=lit(run.entity_type)),
                _missing_from(exp.alias_(staged.copy(), "m", table=True), "o"),
            ),
            copy=False,
        )
    )
    # (no `segment` column in n and o: on ClickHouse a SELECT alias is visible in WHERE)
    return [add_reason(entered, "n", [run], False), add_reason(exited, "o", [run], False)]


def next_memberships(
    run: SegmentRun, staged: exp.Table, memberships: exp.Table, T: exp.Expression
) -> exp.Select:
    """The segment's new membership rows: those who stay keep `entered_at` and the holdout
    flag of their `entered` row (docs/tables.md); those who enter get the new flag."""
    old = current_members(memberships, run.segment, "o", run.entity_type)
    values = [
        lit(run.segment),
        lit(run.entity_type),
        c("entity_id", "n"),
        exp.func("COALESCE", c("holdout", "o"), c("holdout", "n")),
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
        d.instant(run.as_of),
        d.instant(run.started_at),
        d.instant(finished),
        lit(status),
        num(members),
        num(entered),
        num(exited),
        lit(run.definition_hash),
        exp.cast(exp.null(), d.dtype(d.text_type)) if error is None else lit(error),
        lit(run.mode),
    )


def delete_segment(memberships: exp.Table, segment: str) -> exp.Delete:
    return exp.delete(memberships.copy(), where=c("segment").eq(lit(segment)))
