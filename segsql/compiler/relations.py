"""Event relations: the rows of one or several event sources as one relation `ev`, and
the filters on them (event names, `where`, windows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp

from ..model.types import Condition, During, SinceProperty, Source, Window, Within
from ..plan.planner import EntityPlan
from .conditions import Conditions
from .nodes import (
    EV,
    EVENT,
    KEY,
    SRC,
    TS,
    isin,
    or_,
    paren,
    select,
    table_alias,
)


class Relations(Conditions):
    WINDOWS: ClassVar[dict[type, Callable[..., list[exp.Expression]]]]
    LOWER_BOUNDS: ClassVar[dict[type, Callable[..., exp.Expression]]]
    # source name -> a condition on its raw columns that every row read must pass (set
    # only while compiler/incremental.py renders the rows since the last run)
    row_filters: dict[str, exp.Expression] = {}  # noqa: RUF012 - replaced, never mutated

    def _table(self, src: Source) -> exp.Table:
        return self.d.table(*src.table)

    def relation(
        self,
        plan: EntityPlan,
        sources: tuple[str, ...],
        columns: set[str] | dict[str, set[str]],
        standard: bool = False,
        tagged: bool = False,
    ) -> exp.Expression:
        """The rows of `sources` as one relation aliased `ev`. A single source is used as
        is (its own column names) unless `standard`; several are unioned with standard
        names for key, event and timestamp, plus the `columns` the filters need (or, as
        column -> sources, only where those sources' rows are read: NULL elsewhere), plus,
        when `tagged`, each row's source as its index in `sources` (SRC)."""
        srcs = [plan.project.sources[s] for s in sources]
        if len(srcs) == 1 and not standard:
            if srcs[0].name in self.row_filters:
                return table_alias(self._filtered(srcs[0]), EV)
            return table_alias(self._table(srcs[0]), EV)
        parts = []
        for i, s in enumerate(srcs):
            part = select(
                self.alias(self.col(s.key), KEY),
                self.alias(self.col(s.event), EVENT),  # type: ignore[arg-type]
                self.alias(self.read(s, s.timestamp), TS),  # type: ignore[arg-type]
                *(
                    self._read(s, c)
                    if isinstance(columns, set) or s.name in columns[c]
                    else self.alias(self._absent(plan, c, columns[c], srcs, i), c)
                    for c in sorted(columns)
                ),
                *([self.alias(exp.Literal.number(i), SRC)] if tagged else []),
            ).from_(self._table(s), copy=False)
            if s.name in self.row_filters:
                part.where(self.row_filters[s.name].copy(), copy=False)
            parts.append(part)
        union: exp.Query = parts[0]
        for p in parts[1:]:
            union = exp.Union(this=union, expression=p, distinct=False)
        return table_alias(union, EV)

    def _absent(
        self, plan: EntityPlan, column: str, readers: set[str], srcs: list[Source], i: int
    ) -> exp.Expression:
        """NULL for a column that the rows of source `i` of a union do not read. Where the
        engine types a union pair by pair and the next source does not read it either,
        the first source's NULL has the column's own type: an empty scalar subquery of a
        source that reads it (evaluated once)."""
        next_reads = i + 1 == len(srcs) or srcs[i + 1].name in readers
        if i > 0 or next_reads or not self.d.pairwise_union_types:
            return exp.Null()
        reader = next(s for s in srcs if s.name in readers)
        empty = select(self.read(reader, column)).from_(self._table(reader), copy=False)
        return exp.Subquery(this=empty.where(exp.false(), copy=False))

    def _filtered(self, src: Source) -> exp.Select:
        """The rows of `src` that pass its row filter, with all its columns."""
        return (
            select(exp.Star())
            .from_(self._table(src), copy=False)
            .where(self.row_filters[src.name].copy(), copy=False)
        )

    def _single(self, plan: EntityPlan, sources: tuple[str, ...]) -> Source | None:
        """The one source of `sources`, read with its own column names (None: several)."""
        return plan.project.sources[sources[0]] if len(sources) == 1 else None

    def _instants(self, single: Source | None) -> frozenset[str]:
        """The zone-aware columns that filters on `ev` read as UTC instants: a single
        source's own (a union of sources converts them itself, see `_read`)."""
        return single.zone_aware if single is not None else frozenset()

    def _read(self, src: Source, column: str) -> exp.Expression:
        """`src`'s column in a union of sources, keeping its name where `read` converts it."""
        node = self.read(src, column)
        return node if isinstance(node, exp.Column) else self.alias(node, column)

    def event_filter(
        self,
        plan: EntityPlan,
        sources: tuple[str, ...],
        events: tuple[str, ...] | None,
        where: Condition | None,
        single: Source | None,
    ) -> list[exp.Expression]:
        parts: list[exp.Expression] = []
        if events is not None:
            parts.append(isin(self.rel_cols(single).event, events))
        if where is not None:
            parts.append(self.event_boolean(where, self._instants(single)))
        return parts

    # ------------------------------------------------------------------ windows
    def window_filter(
        self, plan: EntityPlan, window: Window | None, single: Source | None
    ) -> list[exp.Expression]:
        """The window's bounds on `ev`'s timestamp (`since_nth_last` is joined, not here)."""
        render = self.WINDOWS.get(type(window))
        return render(self, plan, window, single) if render is not None else []

    def _window_within(self, plan: EntityPlan, window: Within, single: Source | None) -> list:
        return [exp.GTE(this=self.rel_cols(single).ts, expression=self.ago(window.duration))]

    def _window_during(self, plan: EntityPlan, window: During, single: Source | None) -> list:
        return [
            exp.GTE(this=self.rel_cols(single).ts, expression=self.d.timestamp(window.start)),
            exp.LTE(this=self.rel_cols(single).ts, expression=self.d.timestamp(window.end)),
        ]

    def _window_since(self, plan: EntityPlan, window: SinceProperty, single: Source | None) -> list:
        """From the entity's property on (the entity table is joined as `en`)."""
        src = plan.project.entity_source(plan.entity)

        def start() -> exp.Expression:
            value = self.prop_value(window.prop, "en", src.zone_aware)
            return self.d.to_timestamp(value) if window.prop.path else value

        parts: list[exp.Expression] = [exp.GTE(this=self.rel_cols(single).ts, expression=start())]
        if window.duration is not None:
            end = self.later(start(), window.duration)
            parts.append(exp.LTE(this=self.rel_cols(single).ts, expression=end))
        return parts

    WINDOWS = {Within: _window_within, During: _window_during, SinceProperty: _window_since}

    def _lower_bounds(self, bounds: list[Window], single: Source | None) -> exp.Expression:
        """Rows from any of the constant lower `bounds` on."""
        parts = [self.window_filter_lower(b, single) for b in bounds]
        return parts[0] if len(parts) == 1 else paren(or_(*parts))

    def window_filter_lower(self, window: Window, single: Source | None) -> exp.Expression:
        return self.LOWER_BOUNDS[type(window)](self, window, single)

    LOWER_BOUNDS = {
        Within: lambda self, w, single: exp.GTE(
            this=self.rel_cols(single).ts, expression=self.ago(w.duration)
        ),
        During: lambda self, w, single: exp.GTE(
            this=self.rel_cols(single).ts, expression=self.d.timestamp(w.start)
        ),
    }
