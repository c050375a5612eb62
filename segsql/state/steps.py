"""What the batched steps of a backfill write (runner/backfill.py), in a few statements
however many steps there are, from one evaluation of all the steps per entity type
(compiler/steps.py).

The steps here are 0..last; step 0 is the segments' first run (its entries are
`initial`). Each writes what a run at its T writes after the step before: the `entered`
and `exited` rows of the members that changed between the two (at step 0, every member
entered), a `success` row per segment, and, after the last, the membership rows. The
staged tables:
- steps: STEP, STEP_T, `run_id` and `at` (T as an instant: `changed_at` and `as_of`);
- members: (STEP, segment, entity_type, entity_id, holdout), a row per member and step;
- changes: the same columns and `change`, a row per entry and exit.
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from ..compiler import EVALUATION_ID, holdout_expr
from ..compiler.steps import STEP, STEP_T
from ..dialects.base import Dialect, lit
from ..model.types import Segment
from .batch import same_member, union_all
from .reasons import SOURCE, add_reason
from .tables import SegmentRun, c

AT = "at"


def steps_rows(d: Dialect, steps: list[tuple[datetime, str]]) -> exp.Select:
    """The steps table: (T, run_id) of step 0, 1, ... as STEP, STEP_T, run_id, AT."""
    values = exp.values(
        [
            (lit(i), d.timestamp(t), lit(run_id), d.instant(t))
            for i, (t, run_id) in enumerate(steps)
        ],
        alias="v",
        columns=[STEP, STEP_T, "run_id", AT],
    )
    return exp.select(exp.Star()).from_(values, copy=False)


def members_rows(d: Dialect, evaluated: dict[str, tuple[exp.Table, list[Segment]]]) -> exp.Query:
    """The members table from the evaluation of every step (entity type -> its table
    and segments): the rows where a segment's column holds."""
    return union_all(
        [
            exp.select(
                c(STEP, "e"),
                exp.alias_(lit(seg.name), "segment", quoted=True),
                exp.alias_(lit(entity), "entity_type", quoted=True),
                exp.alias_(c(EVALUATION_ID, "e"), "entity_id", quoted=True),
                exp.alias_(holdout_expr(d, seg, c(EVALUATION_ID, "e")), "holdout", quoted=True),
            )
            .from_(exp.alias_(table.copy(), "e", table=True), copy=False)
            .where(c(seg.name, "e"), copy=False)
            for entity, (table, segments) in evaluated.items()
            for seg in segments
        ]
    )


def step_changes(members: exp.Table, last: int) -> exp.Select:
    """The changes table: a member at a step and not at the one before (none before step
    0) entered there; a member at a step before `last` and not at the next exited at the
    next."""

    def either(name: str) -> exp.Expression:
        return exp.alias_(exp.func("COALESCE", c(name, "n"), c(name, "o")), name, quoted=True)

    same = exp.and_(
        same_member("o", "n"),
        exp.EQ(this=c(STEP, "o"), expression=exp.Sub(this=c(STEP, "n"), expression=lit(1))),
    )
    step = exp.func("COALESCE", c(STEP, "n"), exp.Add(this=c(STEP, "o"), expression=lit(1)))
    entered = c("segment", "o").is_(exp.null())
    exited = exp.and_(
        c("segment", "n").is_(exp.null()), exp.LT(this=c(STEP, "o"), expression=lit(last))
    )
    change = exp.case().when(entered.copy(), lit("entered")).else_(lit("exited"))
    return (
        exp.select(
            exp.alias_(step, STEP, quoted=True),
            either("segment"),
            either("entity_type"),
            either("entity_id"),
            exp.alias_(change, "change", quoted=True),
            either("holdout"),
        )
        .from_(exp.alias_(members.copy(), "n", table=True), copy=False)
        .join(exp.alias_(members.copy(), "o", table=True), join_type="full", on=same, copy=False)
        .where(exp.or_(entered, exited), copy=False)
    )


def step_change_rows(
    changes: exp.Table, steps: exp.Table, entity: str, runs: list[SegmentRun]
) -> exp.Select:
    """The change rows of one entity type (in CHANGES column order), each with its step's
    run_id and T; `initial` on the entries of step 0 (the first run); `reason` from the
    evaluation row of its step (runs: of that entity type, their Reasons over the steps'
    evaluation table)."""
    initial = exp.and_(
        exp.EQ(this=c(STEP, "x"), expression=lit(0)), c("change", "x").eq(lit("entered"))
    )
    query = (
        exp.select(
            c("run_id", "s"),
            c("segment", "x"),
            c("entity_type", "x"),
            c("entity_id", "x"),
            c("change", "x"),
            c(AT, "s"),
            c("holdout", "x"),
            exp.alias_(initial, "initial", quoted=True),
        )
        .from_(exp.alias_(changes.copy(), "x", table=True), copy=False)
        .join(
            exp.alias_(steps.copy(), "s", table=True),
            on=exp.EQ(this=c(STEP, "s"), expression=c(STEP, "x")),
            copy=False,
        )
        .where(c("entity_type", "x").eq(lit(entity)), copy=False)
    )
    return add_reason(query, "x", runs, also=exp.EQ(this=c(STEP, SOURCE), expression=c(STEP, "x")))


def last_memberships(
    members: exp.Table, changes: exp.Table, steps: exp.Table, last: int
) -> exp.Select:
    """The membership rows after the last step (in MEMBERSHIPS column order): `entered_at`
    is the T of a member's last entry."""
    entries = (
        exp.select(
            c("segment", "x"),
            c("entity_type", "x"),
            c("entity_id", "x"),
            exp.alias_(exp.func("MAX", c(AT, "s")), AT, quoted=True),
        )
        .from_(exp.alias_(changes.copy(), "x", table=True), copy=False)
        .join(
            exp.alias_(steps.copy(), "s", table=True),
            on=exp.EQ(this=c(STEP, "s"), expression=c(STEP, "x")),
            copy=False,
        )
        .where(c("change", "x").eq(lit("entered")), copy=False)
        .group_by(c("segment", "x"), c("entity_type", "x"), c("entity_id", "x"), copy=False)
    )
    same = same_member("e", "m")
    run_id = exp.select(c("run_id")).from_(steps.copy()).where(c(STEP).eq(lit(last)))
    return (
        exp.select(
            c("segment", "m"),
            c("entity_type", "m"),
            c("entity_id", "m"),
            c("holdout", "m"),
            c(AT, "e"),
            exp.Subquery(this=run_id),
        )
        .from_(exp.alias_(members.copy(), "m", table=True), copy=False)
        .join(entries.subquery("e", copy=False), on=same, copy=False)
        .where(exp.EQ(this=c(STEP, "m"), expression=lit(last)), copy=False)
    )


def step_counts(members: exp.Table, changes: exp.Table) -> exp.Query:
    """(STEP, segment, change, n): `change` 'members', 'entered' or 'exited'."""
    counted = exp.alias_(exp.func("COUNT", exp.Star()), "n", quoted=True)
    return exp.union(
        exp.select(
            c(STEP), c("segment"), exp.alias_(lit("members"), "change", quoted=True), counted
        )
        .from_(members.copy(), copy=False)
        .group_by(c(STEP), c("segment"), copy=False),
        exp.select(c(STEP), c("segment"), c("change"), counted.copy())
        .from_(changes.copy(), copy=False)
        .group_by(c(STEP), c("segment"), c("change"), copy=False),
        distinct=False,
    )


def step_run_rows(
    d: Dialect,
    steps: exp.Table,
    counts: exp.Table,
    hashes: dict[str, str],
    started: datetime,
    finished: datetime,
) -> exp.Select:
    """The `success` rows (in RUNS column order), one per step and segment
    of `hashes` (segment -> definition_hash), counted in `counts` (`step_counts`)."""
    segments = exp.values(
        [(lit(name), lit(h)) for name, h in hashes.items()],
        alias="g",
        columns=["segment", "definition_hash"],
    )

    def counted(kind: str) -> exp.Expression:
        n = exp.func("SUM", exp.case().when(c("change", "k").eq(lit(kind)), c("n", "k")))
        return exp.func("COALESCE", n, lit(0))

    on = exp.and_(
        exp.EQ(this=c(STEP, "k"), expression=c(STEP, "s")),
        exp.EQ(this=c("segment", "k"), expression=c("segment", "g")),
    )
    keys = [c("run_id", "s"), c("segment", "g"), c(AT, "s"), c("definition_hash", "g")]
    return (
        exp.select(
            c("run_id", "s"),
            c("segment", "g"),
            c(AT, "s"),
            d.instant(started),
            d.instant(finished),
            lit("success"),
            *(exp.cast(counted(k), "BIGINT") for k in ("members", "entered", "exited")),
            c("definition_hash", "g"),
            exp.cast(exp.null(), d.dtype(d.text_type)),
            lit("full"),
        )
        .from_(exp.alias_(steps.copy(), "s", table=True), copy=False)
        .join(segments, join_type="cross", copy=False)
        .join(exp.alias_(counts.copy(), "k", table=True), join_type="left", on=on, copy=False)
        .group_by(*keys, copy=False)
    )
