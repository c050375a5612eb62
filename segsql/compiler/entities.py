"""The entity-level SELECT (one row per existing entity, its features LEFT JOINed), and
the sub-plans of other entities: parents and members."""

from __future__ import annotations

from sqlglot import exp

from ..model.types import Condition, MembersCond, Source
from ..plan.planner import EntityPlan
from .nodes import (
    ENTITY,
    ENTITY_ID,
    EVALUATION_ID,
    KEY,
    and_,
    is_null,
    join,
    or_,
    paren,
    present,
    select,
    table_alias,
)
from .sequences import Sequences


class Entities(Sequences):
    def select(
        self,
        plan: EntityPlan,
        *,
        outputs: dict[str, Condition] | None = None,
        key_as_text: bool = False,
        key_alias: str | None = None,
        columns: dict[str, exp.Expression] | None = None,
        where: exp.Expression | None = None,
        stored: dict[str, exp.Table] | None = None,
    ) -> exp.Select:
        """SELECT <key>, <each output as a two-valued boolean>, <columns> FROM entities.

        `outputs` defaults to the plan's; the key is named `key_alias`, by default
        `entity_id` in its own type, or, `key_as_text`, `segsql_entity_id` as text (an
        evaluation: no segment output can take that name). `stored`: scan alias -> a
        table that holds the scan (of this plan, not of its sub-plans), joined instead."""
        src = plan.project.entity_source(plan.entity)
        key = self.col(src.key, ENTITY)
        if key_alias is None:
            key_alias = EVALUATION_ID if key_as_text else ENTITY_ID
        query = select(self.alias(self.d.to_text(key) if key_as_text else key, key_alias))
        for name, cond in (plan.outputs if outputs is None else outputs).items():
            query.append("expressions", self.alias(self.boolean(plan, cond, two_valued=True), name))
        for name, value in (columns or {}).items():
            query.append("expressions", self.alias(value, name))
        query.from_(table_alias(self._table(src), ENTITY), copy=False)
        for scan in plan.scans.values():
            # a STATE scan's key is the entity id as text (kept in segsql's own table)
            text = bool(scan.states)
            table = (stored or {}).get(scan.alias)
            sub = table.copy() if table is not None else self.scan(plan, scan)
            self._left_join(query, sub, scan.alias, src.key, text)
        for seq, name in plan.sequences.items():
            self._left_join(query, self.sequence(plan, seq), name, src.key)
        for cond, parent in plan.parents.items():
            self._left_join(query, self.parent(parent.plan), parent.alias, cond.column)
        for cond, members in plan.members.items():
            self._left_join(query, self.members(cond, members.plan), members.alias, src.key)
        exists = self.exists(src)
        query.where(and_(exists, where) if where is not None else exists, copy=False)
        self.d.share_json(query, ENTITY)
        return query

    def exists(self, src: Source) -> exp.Expression:
        """Rows with a key, created at or before T: a row without a key is nobody (as a
        member it could never be matched with itself on the next run, and would exit and
        enter again each time)."""
        keyed = present(self.col(src.key, ENTITY))
        if not src.created_at:
            return keyed
        created = self.col(src.created_at, ENTITY)
        at = self.read(src, src.created_at, ENTITY)
        return and_(keyed, paren(or_(is_null(created), exp.LTE(this=at, expression=self.T))))

    def _left_join(
        self, query: exp.Select, sub: exp.Expression, name: str, column: str, text: bool = False
    ) -> None:
        key: exp.Expression = self.col(column, ENTITY)
        on = exp.EQ(this=self.col(KEY, name), expression=self.d.to_text(key) if text else key)
        join(query, table_alias(sub, name), on, "LEFT")

    # ------------------------------------------------------------------ other entities
    def parent(self, sub: EntityPlan) -> exp.Select:
        """Keys of the parent entities that exist at T and satisfy the condition."""
        ok = self.boolean(sub, sub.outputs["ok"]) if "ok" in sub.outputs else None
        return self.select(sub, outputs={}, key_alias=KEY, where=ok)

    def members(self, cond: MembersCond, sub: EntityPlan) -> exp.Select:
        """Per parent key, how many existing child entities satisfy the condition."""
        inner = self.select(sub, columns={"parent": self.col(cond.column, ENTITY)})
        counted: exp.Expression = exp.Literal.number(1)
        if cond.where is not None:
            counted = exp.Case(ifs=[exp.If(this=self.col("ok", "c"), true=counted)])
        return (
            select(
                self.alias(self.col("parent", "c"), KEY), self.alias(exp.Count(this=counted), "n")
            )
            .from_(table_alias(inner, "c"), copy=False)
            .where(present(self.col("parent", "c")), copy=False)
            .group_by(self.col("parent", "c"), copy=False)
        )
