"""Turn loaded YAML (YMap/YList with locations) into the typed model, validating as we go.

Every error names the file, line and field, says what was expected, and suggests the
closest valid word. Nothing here touches a warehouse.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

from ..definitions.yaml import YList, YMap
from ..errors import DefinitionError, Location, did_you_mean
from .types import (
    COMPARISON_OPS,
    MEASURES,
    NUMERIC_OPS,
    TEXT_OPS,
    All,
    AnyOf,
    Condition,
    Duration,
    During,
    EventCond,
    Fixture,
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

SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
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
FILE_KEYS = ("sources", "segments", "tests")
MAX_DURATION_DAYS = 36500  # 100 years: every engine's interval and Python's datetime hold it
NUL_FREE_DIALECTS = ("postgres", "redshift")
MAX_DEPTH = 50  # nested conditions; far beyond any real segment, well within Python's stack


# --------------------------------------------------------------------------- helpers


def _loc(node: Any, default: Location) -> Location:
    return getattr(node, "loc", default)


def expect_map(node: Any, loc: Location, what: str) -> YMap:
    if not isinstance(node, dict):
        raise DefinitionError(f"expected a mapping for {what}, got {_kind(node)}", loc)
    return node  # type: ignore[return-value]


def expect_list(node: Any, loc: Location, what: str) -> YList:
    if not isinstance(node, list):
        raise DefinitionError(f"expected a list for {what}, got {_kind(node)}", loc)
    return node  # type: ignore[return-value]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def check_keys(
    m: YMap, allowed: tuple[str, ...], context: str, required: tuple[str, ...] = ()
) -> None:
    for key in m:
        if key not in allowed:
            raise DefinitionError(
                f"unknown key '{key}'{did_you_mean(key, allowed)}; expected one of: "
                + ", ".join(allowed),
                m.loc_of(key),
                context,
            )
    for key in required:
        if key not in m:
            raise DefinitionError(f"missing required key '{key}'", m.loc, context)


def parse_duration(value: Any, loc: Location, field: str) -> Duration:
    match = DURATION.match(str(value)) if isinstance(value, (str, int)) else None
    if not match or isinstance(value, bool) or int(match.group(1)) <= 0:
        raise DefinitionError(
            f"'{field}' expects a positive duration like 30s, 15m, 24h, 90d or 2w, got {value!r}",
            loc,
        )
    duration = Duration(int(match.group(1)), match.group(2))
    if duration.seconds > MAX_DURATION_DAYS * 86400:
        raise DefinitionError(
            f"'{field}' is longer than {MAX_DURATION_DAYS // 365} years "
            f"({MAX_DURATION_DAYS}d), got {value!r}",
            loc,
        )
    return duration


def parse_timestamp(value: Any, loc: Location, field: str) -> datetime:
    """An ISO date or timestamp (UTC; a date is its midnight) as a naive UTC datetime."""
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            ts = None  # type: ignore[assignment]
        if ts is None:
            raise DefinitionError(
                f"'{field}' expects an ISO date or timestamp like 2026-01-31 or "
                f"2026-01-31T12:00:00, got {value!r}",
                loc,
            )
    else:
        raise DefinitionError(
            f"'{field}' expects an ISO date or timestamp, got {_kind(value)}", loc
        )
    if ts.tzinfo is not None:
        try:
            ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
        except (OverflowError, ValueError):
            shown = value.isoformat() if isinstance(value, datetime) else value
            raise DefinitionError(f"'{field}' is out of range in UTC: {shown!r}", loc) from None
    return ts


def _scalar(value: Any, loc: Location, field: str) -> Any:
    if isinstance(value, datetime | date):
        return parse_timestamp(value, loc, field)
    if isinstance(value, float) and not math.isfinite(value):
        raise DefinitionError(f"'{field}' expects a finite number, got {value!r}", loc)
    if isinstance(value, (str, int, float, bool)):
        return value
    if value is None:
        raise DefinitionError(f"'{field}' needs a value; to match NULL use 'is_null: true'", loc)
    raise DefinitionError(
        f"'{field}' expects a text, number, boolean or timestamp, got {_kind(value)}", loc
    )


def parse_tests(
    m: YMap, allowed: tuple[str, ...], context: str, skip: tuple[str, ...] = ()
) -> tuple[Test, ...]:
    """The comparison keys of a mapping (ANDed)."""
    tests = []
    for key, value in m.items():
        if key in skip:
            continue
        loc = m.loc_of(key)
        if key not in allowed:
            raise DefinitionError(
                f"unknown comparison '{key}'{did_you_mean(key, allowed)}; expected one of: "
                + ", ".join(allowed),
                loc,
                context,
            )
        tests.append(Test(key, _test_value(key, value, loc)))
    return tuple(tests)


def _test_value(op: str, value: Any, loc: Location) -> Any:
    if op in ("in", "not_in"):
        items = expect_list(value, loc, f"'{op}'")
        if not items:
            raise DefinitionError(f"'{op}' needs at least one value", loc)
        return tuple(_scalar(v, items.loc_of(i), op) for i, v in enumerate(items))
    if op == "between":
        items = expect_list(value, loc, "'between'")
        if len(items) != 2:
            raise DefinitionError("'between' expects [low, high]", loc)
        return tuple(_scalar(v, loc, op) for v in items)
    if op in TEXT_OPS:
        if not isinstance(value, str):
            raise DefinitionError(f"'{op}' expects text, got {_kind(value)}", loc)
        if op == "matches":
            try:
                re.compile(value)
            except (re.error, OverflowError, RecursionError, ValueError) as err:
                raise DefinitionError(
                    f"'matches' is not a valid regular expression: {err}", loc
                ) from None
        return value
    if op == "is_null":
        if not isinstance(value, bool):
            raise DefinitionError(f"'is_null' expects true or false, got {_kind(value)}", loc)
        return value
    if op in ("within", "older_than"):
        return parse_duration(value, loc, op)
    if op in ("before", "after"):
        return parse_timestamp(value, loc, op)
    return _scalar(value, loc, op)


# --------------------------------------------------------------------------- sources


def parse_source(name: Any, m: Any, loc: Location) -> Source:
    ctx = f"source '{name}'"
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise DefinitionError("a source name must be a plain identifier", loc, ctx)
    m = expect_map(m, loc, ctx)
    is_events = "events_of" in m
    allowed = (
        ("table", "events_of", "key", "event", "timestamp", "json", "description")
        if is_events
        else ("table", "entity", "key", "created_at", "json", "parents", "description")
    )
    if "entity" not in m and not is_events:
        raise DefinitionError(
            "a source needs 'entity: <type>' (a table of entities) or "
            "'events_of: <type>' (an event stream)",
            m.loc,
            ctx,
        )
    check_keys(
        m, allowed, ctx, required=("table", "key") + (("event", "timestamp") if is_events else ())
    )
    table = m["table"]
    if (
        not isinstance(table, str)
        or not all(IDENTIFIER.match(p) for p in table.split("."))
        or len(table.split(".")) > 3
    ):
        raise DefinitionError(
            f"'table' expects [catalog.][schema.]table, got {table!r}", m.loc_of("table"), ctx
        )

    def ident(key: str) -> str | None:
        value = m.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            raise DefinitionError(
                f"'{key}' expects a column or type name, got {value!r}", m.loc_of(key), ctx
            )
        return value

    json_cols: tuple[str, ...] = ()
    if "json" in m:
        items = expect_list(m["json"], m.loc_of("json"), "'json'")
        for i, v in enumerate(items):
            if not isinstance(v, str) or not IDENTIFIER.match(v):
                raise DefinitionError(
                    f"'json' expects a list of column names, got {v!r}", items.loc_of(i), ctx
                )
        json_cols = tuple(items)
    parents: tuple[tuple[str, str], ...] = ()
    if "parents" in m:
        pm = expect_map(m["parents"], m.loc_of("parents"), "'parents'")
        for k, v in pm.items():
            if not all(isinstance(x, str) and IDENTIFIER.match(x) for x in (k, v)):
                raise DefinitionError(
                    f"'parents' expects {{<entity type>: <column>}}, got {{{k!r}: {v!r}}}",
                    pm.loc_of(k),
                    ctx,
                )
        parents = tuple(pm.items())
    return Source(
        name=name,
        table=tuple(table.split(".")),
        key=ident("key") or "",
        entity=ident("entity"),
        events_of=ident("events_of"),
        created_at=ident("created_at"),
        event=ident("event"),
        timestamp=ident("timestamp"),
        json=json_cols,
        parents=parents,
        loc=loc,
    )


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

    def no_nul(self, value: Any, loc: Location) -> None:
        """Postgres text cannot hold NUL, and its client cuts a statement at one: refuse it
        here, with the place, rather than as a syntax error from the warehouse."""
        if self.sql_dialect not in NUL_FREE_DIALECTS:
            return
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise DefinitionError(
                f"text cannot contain the NUL character (\\x00) on {self.sql_dialect}",
                loc,
                self.ctx,
            )

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
                f"'property' expects a column name, got {_kind(value)}", loc, self.ctx
            )
        self.no_nul(value, loc)
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
        loc = _loc(node, loc)
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
        for t in tests:
            self.no_nul(t.value, m.loc_of(t.op))
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
                f"'event' expects an event name, a list of names or '*', got {_kind(value)}",
                loc,
                self.ctx,
            )
        self.no_nul(tuple(names), loc)
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
        for t in tests:
            self.no_nul(t.value, body.loc_of(t.op))
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
                f"'parent' expects an entity type, got {_kind(parent)}",
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
        self.no_nul(text, m.loc_of("sql"))
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


# --------------------------------------------------------------------------- segments, fixtures

SEGMENT_KEYS = (
    "name",
    "description",
    "entity",
    "owner",
    "tags",
    "refresh",
    "holdout",
    "enabled",
    "where",
)


def parse_segment(m: Any, loc: Location, sources: dict[str, Source], sql_dialect: str):
    m = expect_map(m, loc, "a segment")
    name = m.get("name")
    ctx = f"segment '{name}'" if name else "segment"
    check_keys(m, SEGMENT_KEYS, ctx, required=("name", "where"))
    if not isinstance(name, str) or not SEGMENT_NAME.match(name):
        raise DefinitionError(
            f"invalid segment name {name!r}: expected lowercase letters, "
            "digits and _ starting with a letter",
            m.loc_of("name"),
        )
    if name.startswith("segsql_"):
        raise DefinitionError(
            f"segment name '{name}' is reserved: names starting with "
            "'segsql_' belong to segsql's own tables",
            m.loc_of("name"),
        )
    entity = m.get("entity", "user")
    if not isinstance(entity, str):
        raise DefinitionError("'entity' expects an entity type", m.loc_of("entity"), ctx)
    parser = ConditionParser(sources, name, sql_dialect)
    parser.entity_source(entity, m.loc_of("entity"))
    where = parser.condition(m["where"], m.loc_of("where"), entity)
    holdout = m.get("holdout", 0)
    if not isinstance(holdout, int) or isinstance(holdout, bool) or not 0 <= holdout <= 50:
        raise DefinitionError(
            f"'holdout' expects a whole percentage from 0 to 50, got {holdout!r}",
            m.loc_of("holdout"),
            ctx,
        )
    enabled = m.get("enabled", True)
    if not isinstance(enabled, bool):
        raise DefinitionError("'enabled' expects true or false", m.loc_of("enabled"), ctx)
    tags = m.get("tags", [])
    tags = [tags] if isinstance(tags, str) else tags
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DefinitionError("'tags' expects a list of words", m.loc_of("tags"), ctx)
    for key in ("description", "owner"):
        if key in m and not isinstance(m[key], str):
            raise DefinitionError(f"'{key}' expects text", m.loc_of(key), ctx)
    from .types import Segment

    segment = Segment(
        name=name,
        entity=entity,
        where=where,
        description=(m.get("description") or "").strip(),
        owner=m.get("owner"),
        tags=tuple(tags),
        refresh=parse_duration(m["refresh"], m.loc_of("refresh"), "refresh")
        if "refresh" in m
        else None,
        holdout=holdout,
        enabled=enabled,
        loc=m.loc_of("name"),
    )
    return segment, parser.references


def parse_fixture(m: Any, loc: Location) -> Fixture:
    m = expect_map(m, loc, "a test")
    name = m.get("name")
    ctx = f"test '{name}'"
    check_keys(
        m,
        ("name", "segment", "as_of", "given", "expect", "description"),
        ctx,
        required=("name", "segment", "as_of", "given", "expect"),
    )
    given = expect_map(m["given"], m.loc_of("given"), "'given'")
    tables: dict[str, list[dict]] = {}
    for source, rows in given.items():
        rows = expect_list(rows, given.loc_of(source), f"rows of '{source}'") if rows else []
        for i, row in enumerate(rows):
            expect_map(row, rows.loc_of(i), f"a row of '{source}'")
        tables[str(source)] = [dict(r) for r in rows]
    expect = expect_map(m["expect"], m.loc_of("expect"), "'expect'")
    check_keys(expect, ("members",), ctx, required=("members",))
    members = expect["members"] or []
    members = expect_list(members, expect.loc_of("members"), "'members'") if members else []
    return Fixture(
        name=str(name),
        segment=str(m["segment"]),
        as_of=parse_timestamp(m["as_of"], m.loc_of("as_of"), "as_of"),
        given=tables,
        members=tuple(members),
        loc=m.loc_of("name"),
    )
