"""Sequences: entities with a chain of step events in time order (docs/language.md, Sequences)."""

from __future__ import annotations

from sqlglot import exp

from ..model.types import Duration, SequenceCond, Step
from ..plan.planner import EntityPlan
from .nodes import (
    KEY,
    and_,
    is_null,
    join,
    or_,
    select,
    table_alias,
)
from .scans import Scans


class Sequences(Scans):
    def step_rows(
        self,
        plan: EntityPlan,
        step: Step,
        within: Duration | None = None,
        after: Duration | None = None,
    ) -> exp.Select:
        """SELECT key, ts of the events (at or before T) matching a sequence step, from
        T-`within` on (the first step's window) or after T-`after` (later steps: after the
        first step, which is inside its window)."""
        single = self._single(plan, step.sources)
        out = self.rel_cols(single)
        filters = [exp.LTE(this=self.rel_cols(single).ts, expression=self.T)]
        filters += self.event_filter(plan, step.sources, step.events, step.where, single)
        if within is not None:
            filters.append(exp.GTE(this=self.rel_cols(single).ts, expression=self.ago(within)))
        if after is not None:
            filters.append(exp.GT(this=self.rel_cols(single).ts, expression=self.ago(after)))
        rel = self.relation(plan, step.sources, self.ev_columns(*filters))
        return (
            select(self.alias(out.key, KEY), self.alias(out.ts, "ts"))
            .from_(rel, copy=False)
            .where(and_(*filters), copy=False)
        )

    def sequence(self, plan: EntityPlan, seq: SequenceCond) -> exp.Select:
        """Entities with a matching chain. For each first-step event the chain takes the
        earliest next step each time (which leaves the most room for `completed_within`);
        before an absent last step it takes the *latest* last present step instead, which
        leaves the fewest events after it.

        Without `completed_within` only the entity's earliest first step can matter (it
        leaves the most room), or, for a single present step before an absent one, its
        latest: the chain then starts from one row per entity. Every later step (and the
        absent one) is after the first, so it is read from the first step's window on."""
        present = [s for s in seq.steps if not s.absent]
        absent = seq.steps[-1] if seq.steps[-1].absent else None
        first = self.step_rows(plan, present[0], seq.within)
        if seq.completed_within is None:
            pick = "MAX" if absent is not None and len(present) == 1 else "MIN"
            agg = exp.Max if pick == "MAX" else exp.Min
            first = (
                select(
                    self.alias(self.col(KEY, "x"), KEY),
                    self.alias(agg(this=self.col("ts", "x")), "ts"),
                )
                .from_(table_alias(first, "x"), copy=False)
                .group_by(self.col(KEY, "x"), copy=False)
            )
        chain = select(
            self.alias(self.col(KEY, "x"), KEY),
            self.alias(self.col("ts", "x"), "t1"),
            self.alias(self.col("ts", "x"), "t"),
        ).from_(table_alias(first, "x"), copy=False)
        for i, step in enumerate(present[1:], start=2):
            rows = self.step_rows(plan, step, after=seq.within)
            if seq.completed_within is not None and not (absent is not None and i == len(present)):
                chain = self._next_step(chain, rows, seq.completed_within)
                continue
            on = [
                exp.EQ(this=self.col(KEY, "x"), expression=self.col(KEY, "c")),
                exp.GT(this=self.col("ts", "x"), expression=self.col("t", "c")),
            ]
            if seq.completed_within is not None:
                on.append(
                    exp.LTE(
                        this=self.col("ts", "x"),
                        expression=self.later(self.col("t1", "c"), seq.completed_within),
                    )
                )
            pick = exp.Max if absent is not None and i == len(present) else exp.Min
            chain = select(
                self.col(KEY, "c"),
                self.col("t1", "c"),
                self.alias(pick(this=self.col("ts", "x")), "t"),
            ).from_(table_alias(chain, "c"), copy=False)
            chain = join(chain, table_alias(rows, "x"), and_(*on)).group_by(
                self.col(KEY, "c"), self.col("t1", "c"), copy=False
            )
        result = (
            select(self.col(KEY, "c"))
            .distinct(copy=False)
            .from_(table_alias(chain, "c"), copy=False)
        )
        if absent is not None:
            rows = self.step_rows(plan, absent, after=seq.within)
            last = (
                select(self.col(KEY, "x"), self.alias(exp.Max(this=self.col("ts", "x")), "t"))
                .from_(table_alias(rows, "x"), copy=False)
                .group_by(self.col(KEY, "x"), copy=False)
            )
            join(
                result,
                table_alias(last, "z"),
                exp.EQ(this=self.col(KEY, "z"), expression=self.col(KEY, "c")),
                "LEFT",
            ).where(
                or_(
                    is_null(self.col("t", "z")),
                    exp.LTE(this=self.col("t", "z"), expression=self.col("t", "c")),
                ),
                copy=False,
            )
        return result

    def _next_step(self, chain: exp.Select, rows: exp.Select, within: Duration) -> exp.Select:
        """Each chain (key, t1, t) moves to its earliest next step event after t, if that is
        at most `within` after t1: a window over the chain rows and the step's rows in time
        order (linear in their number, where a join by key is quadratic per entity). At
        equal times the step rows come first, so a step strictly after t is the first step
        row that follows. Chains that reach the same step event keep the latest t1."""
        union = exp.Union(
            this=select(
                self.col(KEY, "c"),
                self.col("t1", "c"),
                self.alias(self.col("t", "c"), "ts"),
                self.alias(exp.Literal.number(0), "src"),
            ).from_(table_alias(chain, "c"), copy=False),
            expression=select(
                self.col(KEY, "x"),
                self.alias(self.col("ts", "x"), "t1"),
                self.col("ts", "x"),
                self.alias(exp.Literal.number(1), "src"),
            ).from_(table_alias(rows, "x"), copy=False),
            distinct=False,
        )
        following = exp.Window(
            this=exp.Min(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(
                                this=self.col("src", "u"), expression=exp.Literal.number(1)
                            ),
                            true=self.col("ts", "u"),
                        )
                    ]
                )
            ),
            partition_by=[self.col(KEY, "u")],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=self.col("ts", "u")),
                    exp.Ordered(this=self.col("src", "u"), desc=True),
                ]
            ),
            spec=exp.WindowSpec(
                kind="ROWS",
                start=exp.Literal.number(1),
                start_side="FOLLOWING",
                end="UNBOUNDED",
                end_side="FOLLOWING",
            ),
        )
        ranked = select(
            self.col(KEY, "u"),
            self.col("t1", "u"),
            self.col("src", "u"),
            self.alias(following, "nxt"),
        ).from_(table_alias(union, "u"), copy=False)
        return (
            select(
                self.col(KEY, "w"),
                self.alias(exp.Max(this=self.col("t1", "w")), "t1"),
                self.alias(self.col("nxt", "w"), "t"),
            )
            .from_(table_alias(ranked, "w"), copy=False)
            .where(
                and_(
                    exp.EQ(this=self.col("src", "w"), expression=exp.Literal.number(0)),
                    exp.LTE(
                        this=self.col("nxt", "w"),
                        expression=self.later(self.col("t1", "w"), within),
                    ),
                ),
                copy=False,
            )
            .group_by(self.col(KEY, "w"), self.col("nxt", "w"), copy=False)
        )
