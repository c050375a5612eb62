"""Condition trees: combinators, properties, events and their windows and measures,
sequences, segment references, parents and members, SQL."""

from __future__ import annotations

from typing import Any

from ..errors import DefinitionError, Location, did_you_mean
from ..model.types import (
    COMPARISON_OPS,
    MEASURES,
    NUMERIC_OPS,
    All,
    AnyOf,
    Condition,
    During,
    EventCond,
    InSegment,
    Measure,
    MembersCond,
    Not,
    ParentCond,
    Prop,
    PropertyCond,
    SequenceCond,
    SinceNthLast,
    SinceProperty,
    Source,
    SqlCond,
    Step,
    Test,
    Within,
)
from .values import (
    IDENTIFIER,
    check_keys,
    expect_list,
    expect_map,
    kind_of,
    loc_of,
    parse_duration,
    parse_tests,
    parse_timestamp,
)
from .yaml import YMap

CONDITION_KINDS = (
    "all",
    "any",
    "not",
    "property",
    "event",
    "sequence",
    "in_segment",
    "parent",
    "members",
    "sql",
)
WINDOWS = ("within", "during", "since_property", "since_nth_last")
MAX_DEPTH = 50  # nested conditions; far beyond any real segment, well within Python's stack

# --------------------------------------------------------------------------- conditions


class ConditionParser:
    """Parses condition trees for one segment, resolving sources against the project."""

    def __init__(self, sources: dict[str, Source], segment: str, sql_dialect: str):
        self.depth = 0
        self.sources = sources
        self.segment = segment
        self.sql_dialect = sql_dialect
        self.references: list[tuple[str, Location, str]] = []  # (segment, where, entity)

    @property
    def ctx(self) -> str:
        return f"segment '{self.segment}'"

    def entity_source(self, entity: str, loc: Location) -> Source:
        for s in self.sources.values():
            if s.entity == entity:
                return s
        types = sorted({s.entity for s in self.sources.values() if s.entity})
        raise DefinitionError(
            f"no source declares entity '{entity}'{did_you_mean(entity, types)}", loc, self.ctx
        )

    def event_sources(self, entity: str, name: Any, loc: Location) -> tuple[str, ...]:
        all_sources = [s for s in self.sources.values() if s.events_of == entity]
        if name is None:
            if not all_sources:
                raise DefinitionError(f"no event source has 'events_of: {entity}'", loc, self.ctx)
            return tuple(s.name for s in all_sources)
        names = [s.name for s in all_sources]
        if name not in names:
            raise DefinitionError(
                f"unknown event source '{name}' for entity '{entity}'"
                f"{did_you_mean(name, names)}; expected one of: {', '.join(names) or '(none)'}",
                loc,
                self.ctx,
            )
        return (name,)

    # -- properties
    def prop(self, value: Any, loc: Location, sources: list[Source]) -> Prop:
        if not isinstance(value, str) or not value:
            raise DefinitionError(
                f"'property' expects a column name, got {kind_of(value)}", loc, self.ctx
            )
        column, *path = value.split(".")
        if not IDENTIFIER.match(column) or any(not p for p in path):
            raise DefinitionError(
                f"invalid property '{value}': expected column or json_column.key.path",
                loc,
                self.ctx,
            )
        if path:
            for s in sources:
                if column not in s.json:
                    raise DefinitionError(
                        f"property '{value}' reads a JSON key, but '{column}' is not listed "
                        f"in 'json:' of source '{s.name}'" + did_you_mean(column, s.json),
                        loc,
                        self.ctx,
                    )
        return Prop(column, tuple(path))

    # -- the dispatcher
    def condition(
        self, node: Any, loc: Location, entity: str, *, events: list[Source] | None = None
    ) -> Condition:
        """A condition on `entity`; with `events`, a filter over those event sources'
        rows (only property tests and combinators are allowed then)."""
        loc = loc_of(node, loc)
        if self.depth >= MAX_DEPTH:
            raise DefinitionError(
                f"conditions are nested more than {MAX_DEPTH} levels deep", loc, self.ctx
            )
        self.depth += 1
        try:
            return self._condition(node, loc, entity, events)
        finally:
            self.depth -= 1

    def _condition(self, node: Any, loc: Location, entity: str, events) -> Condition:
        if isinstance(node, list):
            raise DefinitionError(
                "expected one condition (a mapping); to combine several, "
                "put them under 'all:' or 'any:'",
                loc,
                self.ctx,
            )
        m = expect_map(node, loc, "a condition")
        kinds = [k for k in CONDITION_KINDS if k in m]
        if not kinds:
            first = next(iter(m), "")
            raise DefinitionError(
                f"unknown condition '{first}'{did_you_mean(first, CONDITION_KINDS)}; "
                "expected one of: " + ", ".join(CONDITION_KINDS),
                m.loc_of(first) if first else m.loc,
                self.ctx,
            )
        if len(kinds) > 1:
            raise DefinitionError(
                f"a condition has one kind, found {' and '.join(kinds)}; "
                "combine them with 'all:' or 'any:'",
                m.loc,
                self.ctx,
            )
        kind = kinds[0]
        if events is not None and kind not in ("all", "any", "not", "property"):
            raise DefinitionError(
                f"'{kind}' cannot be used inside an event filter 'where' "
                "(only property, all, any, not)",
                m.loc_of(kind),
                self.ctx,
            )
        return getattr(self, f"_{kind}")(m, entity, events)

    def _combinator(self, m: YMap, key: str, entity: str, events) -> list[Condition]:
        check_keys(m, (key,), self.ctx)
        items = expect_list(m[key], m.loc_of(key), f"'{key}'")
        return [
            self.condition(c, items.loc_of(i), entity, events=events) for i, c in enumerate(items)
        ]

    def _all(self, m, entity, events):
        return All(tuple(self._combinator(m, "all", entity, events)), loc=m.loc)

    def _any(self, m, entity, events):
        return AnyOf(tuple(self._combinator(m, "any", entity, events)), loc=m.loc)

    def _not(self, m, entity, events):
        check_keys(m, ("not",), self.ctx)
        return Not(self.condition(m["not"], m.loc_of("not"), entity, events=events), loc=m.loc)

    def _property(self, m, entity, events):
        sources = events if events is not None else [self.entity_source(entity, m.loc)]
        prop = self.prop(m["property"], m.loc_of("property"), sources)
        tests = parse_tests(m, COMPARISON_OPS, self.ctx, skip=("property",))
        if not tests:
            raise DefinitionError(
                f"property '{prop}' needs a comparison, one of: " + ", ".join(COMPARISON_OPS),
                m.loc,
                self.ctx,
            )
        return PropertyCond(prop, tests, loc=m.loc)

    def _event_names(self, value: Any, loc: Location) -> tuple[str, ...] | None:
        if value == "*":
            return None
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(v, str) and v for v in names):
            raise DefinitionError(
                f"'event' expects an event name, a list of names or '*', got {kind_of(value)}",
                loc,
                self.ctx,
            )
        return tuple(sorted(set(names)))

    def _event(self, m, entity, _events):
        allowed = ("event", "source", "where", *WINDOWS, "for", *MEASURES)
        check_keys(m, allowed, self.ctx)
        names = self._event_names(m["event"], m.loc_of("event"))
        sources = self.event_sources(entity, m.get("source"), m.loc_of("source"))
        src_objs = [self.sources[s] for s in sources]
        where = (
            self.condition(m["where"], m.loc_of("where"), entity, events=src_objs)
            if "where" in m
            else None
        )
        windows = [k for k in WINDOWS if k in m]
        if len(windows) > 1:
            raise DefinitionError(
                f"an event condition takes at most one window, found {' and '.join(windows)}",
                m.loc,
                self.ctx,
            )
        if "for" in m and windows != ["since_property"]:
            raise DefinitionError(
                "'for' only goes with 'since_property'", m.loc_of("for"), self.ctx
            )
        window = self._window(m, windows[0], entity, sources) if windows else None
        measures = [k for k in MEASURES if k in m]
        if len(measures) > 1:
            raise DefinitionError(
                f"an event condition takes exactly one measure, found {' and '.join(measures)}",
                m.loc,
                self.ctx,
            )
        measure = self._measure(m, measures[0], src_objs) if measures else Measure("count")
        return EventCond(names, sources, where, window, measure, loc=m.loc)

    def _window(self, m: YMap, key: str, entity: str, sources: tuple[str, ...]):
        loc = m.loc_of(key)
        value = m[key]
        if key == "within":
            return Within(parse_duration(value, loc, key))
        if key == "during":
            d = expect_map(value, loc, "'during'")
            check_keys(d, ("from", "to"), self.ctx, required=("from", "to"))
            start = parse_timestamp(d["from"], d.loc_of("from"), "from")
            end = parse_timestamp(d["to"], d.loc_of("to"), "to")
            if end < start:
                raise DefinitionError("'during' ends before it starts", loc, self.ctx)
            return During(start, end)
        if key == "since_property":
            prop = self.prop(value, loc, [self.entity_source(entity, loc)])
            dur = parse_duration(m["for"], m.loc_of("for"), "for") if "for" in m else None
            return SinceProperty(prop, dur)
        d = expect_map(value, loc, "'since_nth_last'")
        check_keys(d, ("event", "n"), self.ctx, required=("event", "n"))
        n = d["n"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise DefinitionError(
                f"'n' expects a whole number >= 1, got {n!r}", d.loc_of("n"), self.ctx
            )
        return SinceNthLast(self._event_names(d["event"], d.loc_of("event")), n, sources)

    def _measure(self, m: YMap, kind: str, sources: list[Source]) -> Measure:
        loc = m.loc_of(kind)
        body = expect_map(m[kind], loc, f"'{kind}'")
        needs_of = kind not in ("count", "first", "last")
        if needs_of and "of" not in body:
            raise DefinitionError(f"'{kind}' needs 'of: <property>'", loc, self.ctx)
        if not needs_of and "of" in body:
            raise DefinitionError(f"'{kind}' takes no 'of'", body.loc_of("of"), self.ctx)
        of = self.prop(body["of"], body.loc_of("of"), sources) if needs_of else None
        allowed = COMPARISON_OPS if kind in ("first", "last") else NUMERIC_OPS + ("is_null",)
        tests = parse_tests(body, allowed, self.ctx, skip=("of",))
        if not tests:
            raise DefinitionError(f"'{kind}' needs a comparison, e.g. {{gte: 1}}", loc, self.ctx)
        return Measure(kind, of, tests)

    def _sequence(self, m, entity, _events):
        check_keys(m, ("sequence",), self.ctx)
        s = expect_map(m["sequence"], m.loc_of("sequence"), "'sequence'")
        check_keys(s, ("within", "completed_within", "steps"), self.ctx, required=("steps",))
        raw = expect_list(s["steps"], s.loc_of("steps"), "'steps'")
        if not 2 <= len(raw) <= 5:
            raise DefinitionError(
                f"a sequence has 2 to 5 steps, found {len(raw)}", s.loc_of("steps"), self.ctx
            )
        steps = []
        for i, node in enumerate(raw):
            st = expect_map(node, raw.loc_of(i), "a step")
            check_keys(st, ("event", "where", "source", "absent"), self.ctx, required=("event",))
            absent = st.get("absent", False)
            if not isinstance(absent, bool):
                raise DefinitionError(
                    "'absent' expects true or false", st.loc_of("absent"), self.ctx
                )
            if absent and i != len(raw) - 1:
                raise DefinitionError(
                    "only the last step of a sequence may be absent", st.loc_of("absent"), self.ctx
                )
            sources = self.event_sources(entity, st.get("source"), st.loc_of("source"))
            where = (
                self.condition(
                    st["where"],
                    st.loc_of("where"),
                    entity,
                    events=[self.sources[n] for n in sources],
                )
                if "where" in st
                else None
            )
            steps.append(
                Step(self._event_names(st["event"], st.loc_of("event")), sources, where, absent)
            )
        within = (
            parse_duration(s["within"], s.loc_of("within"), "within") if "within" in s else None
        )
        done = (
            parse_duration(s["completed_within"], s.loc_of("completed_within"), "completed_within")
            if "completed_within" in s
            else None
        )
        return SequenceCond(tuple(steps), within, done, loc=m.loc)

    def _in_segment(self, m, entity, _events):
        check_keys(m, ("in_segment",), self.ctx)
        name = m["in_segment"]
        if not isinstance(name, str):
            raise DefinitionError(
                "'in_segment' expects a segment name", m.loc_of("in_segment"), self.ctx
            )
        self.references.append((name, m.loc_of("in_segment"), entity))
        return InSegment(name, loc=m.loc_of("in_segment"))

    def _parent(self, m, entity, _events):
        check_keys(m, ("parent", "where"), self.ctx)
        parent = m["parent"]
        if not isinstance(parent, str):
            raise DefinitionError(
                f"'parent' expects an entity type, got {kind_of(parent)}",
                m.loc_of("parent"),
                self.ctx,
            )
        src = self.entity_source(entity, m.loc)
        parents = dict(src.parents)
        if parent not in parents:
            raise DefinitionError(
                f"entity '{entity}' has no parent '{parent}'{did_you_mean(parent, parents)}; "
                f"declare it under 'parents:' of source '{src.name}'",
                m.loc_of("parent"),
                self.ctx,
            )
        self.entity_source(parent, m.loc_of("parent"))
        where = self.condition(m["where"], m.loc_of("where"), parent) if "where" in m else None
        return ParentCond(parent, parents[parent], where, loc=m.loc)

    def _members(self, m, entity, _events):
        check_keys(m, ("members", "where", "count"), self.ctx)
        child = m["members"]
        src = self.entity_source(child, m.loc_of("members"))
        parents = dict(src.parents)
        if entity not in parents:
            raise DefinitionError(
                f"entity '{child}' has no parent '{entity}': declare "
                f"'parents: {{{entity}: <column>}}' on source '{src.name}'",
                m.loc_of("members"),
                self.ctx,
            )
        where = self.condition(m["where"], m.loc_of("where"), child) if "where" in m else None
        tests: tuple[Test, ...] = (Test("gte", 1),)
        if "count" in m:
            body = expect_map(m["count"], m.loc_of("count"), "'count'")
            tests = parse_tests(body, NUMERIC_OPS + ("is_null",), self.ctx)
            if not tests:
                raise DefinitionError(
                    "'count' needs a comparison, e.g. {gte: 3}", m.loc_of("count"), self.ctx
                )
        return MembersCond(child, parents[entity], where, tests, loc=m.loc)

    def _sql(self, m, entity, _events):
        check_keys(m, ("sql",), self.ctx)
        text = m["sql"]
        if not isinstance(text, str) or not text.strip():
            raise DefinitionError(
                "'sql' expects a boolean SQL expression as text", m.loc_of("sql"), self.ctx
            )
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        try:
            tree = sqlglot.parse_one(text, read=self.sql_dialect)
        except (SqlglotError, ValueError, RecursionError) as err:
            first = (str(err).splitlines() or [type(err).__name__])[0]
            raise DefinitionError(
                f"'sql' does not parse as {self.sql_dialect} SQL: {first}",
                m.loc_of("sql"),
                self.ctx,
            ) from None
        statements = tuple(
            getattr(exp, name)
            for name in (
                "Block",
                "Command",
                "DDL",
                "DML",
                "Drop",
                "Alter",
                "Set",
                "Use",
                "Transaction",
                "Commit",
                "Rollback",
                "Pragma",
                "Grant",
            )
            if hasattr(exp, name)
        )
        if not isinstance(tree, exp.Condition) or any(
            isinstance(node, statements) for node in tree.walk()
        ):
            raise DefinitionError(
                "'sql' expects one boolean expression over the entity's columns (such as "
                "\"lifetime_value > 1000 AND country IN ('DE', 'FR')\"), not a statement "
                "or several",
                m.loc_of("sql"),
                self.ctx,
            )
        return SqlCond(text, self.sql_dialect, loc=m.loc_of("sql"))
