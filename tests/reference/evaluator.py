"""Reference evaluator for segsql segments, written from docs/language.md only.

This is the oracle of the differential tests: it evaluates a segment in plain Python,
row by row, as literally and simply as it can. It shares no code with the compiler.

    members(project, segment, tables, as_of) -> set of entity ids

Readings chosen where docs/language.md is silent or ambiguous (each one is what an analytics
engineer would expect, and each is a place where the compiler must agree):

 1. Logic is two-valued: every condition is TRUE or FALSE per entity. A comparison with
    NULL (value or literal) is FALSE, for `ne` and `not_in` too; `not` flips FALSE into
    TRUE. `in: []` is FALSE, `not_in: []` is TRUE for a non-NULL value.
 2. `between: [lo, hi]` with lo > hi is FALSE (as SQL BETWEEN).
 3. Ordering of text (`gt`, `lt`, ..., `between` on text) is by code point (binary
    collation, as DuckDB and Postgres `COLLATE "C"`). The strategies never generate it,
    since Postgres' default collation orders punctuation and case differently.
 4. JSON typing, per comparison key (docs/language.md, Sources): literals all numbers (bool is not a
    number) -> the JSON value is cast to a number; all booleans -> cast to a boolean;
    a timestamp comparison (`within`, `older_than`, `before`, `after`) or a date /
    datetime literal -> the JSON text is parsed as an ISO timestamp; otherwise both
    sides are compared in text form. Casts: a JSON number is its number; a JSON string
    is a number if it is a plain decimal literal ("12", "-1.5", "1e3"), a boolean if it
    is "true"/"false" (any case); a JSON boolean is never a number and a JSON number is
    never a boolean; anything else that cannot be cast is NULL. The text form of a JSON
    string is the string itself, of any other value its compact JSON text
    (`true`, `12`, `2.5`, `{"a":1}`).
 5. A non-JSON column is compared with its own type: a timestamp column with a date /
    ISO-string literal parses the literal (a date is its midnight); a numeric column
    with a string literal tries to read the literal as a number; other mixes compare
    the text forms. `contains` / `starts_with` / `ends_with` / `matches` use the text
    form of the value. `matches` is Python `re.search` (patterns are expected to be
    in the subset that every engine reads alike).
 6. `property: a.b.c` is a JSON path when `a` is listed in the source's `json:`;
    otherwise `a.b.c` is a plain column name. A JSON column holding a string is parsed
    as JSON text. A path through a non-object is NULL.
 7. Event rows with a NULL timestamp are invisible (they are not <= T). `event: "*"`
    matches every visible event, even one whose name is NULL; a name or list of names
    never matches a NULL name. Events whose key matches no visible entity are ignored.
    Entity rows with a NULL key are never members.
 8. `during: {from, to}` is inclusive at both ends, a date meaning its midnight (so
    `to: 2026-02-01` stops at 2026-02-01 00:00:00, literally as docs/language.md writes it). Either
    bound may be omitted (open).
 9. `since_property` without `for` is [property, T]. A property that is a JSON value
    or text is parsed as an ISO timestamp; NULL or unparsable -> no events match, so
    `count: {eq: 0}` is then TRUE (docs/language.md, Windows: "no events match", not "FALSE").
10. `since_nth_last`: anchors are the visible events (ts <= T) of the entity named by
    its `event` (a name, list or "*"), searched in the same sources as the condition,
    ignoring the condition's `where`. The window starts at the n-th most recent anchor
    timestamp (ties count as separate events). Fewer than n anchors makes the whole
    event condition FALSE, whatever its measure (so `not` of it is TRUE).
11. Measures: count counts matching events; count_distinct counts distinct non-NULL
    values (a JSON value by its text form, so JSON 1 and "1" are the same); sum / avg /
    min / max cast a JSON value to a number (non-castable: ignored as NULL) and take a
    column as it is (numbers; min/max of a timestamp column is a timestamp). avg is
    exact (rational arithmetic). sum of no values is 0; avg/min/max/first/last of no
    values are NULL.
12. Sequence: the window applies to e1 only (`within`, `during`, `since_property`
    accepted); all of e1..em are visible (<= T); `completed_within` bounds
    ts(em) - ts(e1) (inclusive) and does not bound the absent step, whose check is
    exactly "no matching event in (ts(em), T]". With only one present step (two steps,
    the last absent) `completed_within` is trivially met. Search is exhaustive.
13. `parent: account` without `where` is TRUE iff the parent key is not NULL and
    matches a visible (created_at <= T or NULL) row of the account source; with `where`
    that account must also satisfy the condition, evaluated as an account at T.
    `members: user` counts visible users whose parent key equals the account's key and
    that satisfy `where`; only `count` is a measure of `members` (default gte 1).
14. `in_segment` evaluates the referenced segment at the same T, holdout ignored
    (held-out members are members). A reference to another entity type, to an
    unknown segment or to a disabled segment raises ValueError, as does a cycle.
    `holdout`, `refresh`, `enabled` of the evaluated segment itself are ignored.
15. `sql:` raises NotImplementedError.
16. Suppressions and priority groups (docs/language.md, Guardrails): a segment's members
    are the entities for which its `where` holds and no suppression of its entity type
    holds, except those named in its `ignore_suppressions` ("eligible"); of a segment
    with a `priority_group`, those eligible entities that are eligible for no enabled
    segment of the same group with a lower `priority`. `in_segment` sees these members;
    `members:` counts by its own `where`, ignoring both.
"""

from __future__ import annotations

import json
import numbers
import re
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

__all__ = ["members", "parse_duration", "to_timestamp"]

NULL = None

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DECIMAL = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_COMBINATORS = ("all", "any", "not")
_TS_OPS = ("within", "older_than", "before", "after")
_MEASURES = ("count", "count_distinct", "sum", "avg", "min", "max", "first", "last")
_WINDOWS = ("within", "during", "since_property", "since_nth_last")


# --------------------------------------------------------------------------- values


def parse_duration(text: Any) -> timedelta:
    """`30s`, `15m`, `24h`, `90d`, `2w` -> timedelta."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def to_timestamp(x: Any) -> datetime | None:
    """A datetime, date (its midnight) or ISO string as a naive UTC datetime; else None."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, datetime):
        if x.tzinfo is not None:
            x = x.astimezone(timezone.utc).replace(tzinfo=None)
        return x
    if isinstance(x, date):
        return datetime(x.year, x.month, x.day)
    if isinstance(x, str):
        s = x.strip()
        try:
            return to_timestamp(datetime.fromisoformat(s))
        except ValueError:
            pass
        try:
            return to_timestamp(date.fromisoformat(s))
        except ValueError:
            return None
    return None


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _exact(x: Any) -> Fraction:
    return Fraction(x)


def _text(x: Any) -> str:
    """Text form of a column value or literal."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, datetime):
        return x.isoformat(sep=" ")
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, (dict, list)):
        return json.dumps(x, separators=(",", ":"), sort_keys=True)
    return str(x)


def _json_text(x: Any) -> str:
    """Text form of a JSON value: a string is itself, anything else its JSON text."""
    if isinstance(x, str):
        return x
    return json.dumps(x, separators=(",", ":"), sort_keys=True)


def _json_number(x: Any) -> Any:
    if _is_number(x):
        return x
    if isinstance(x, str) and _DECIMAL.match(x):
        return float(x)
    return NULL


def _json_bool(x: Any) -> Any:
    if isinstance(x, bool):
        return x
    if isinstance(x, str) and x.strip().lower() in ("true", "false"):
        return x.strip().lower() == "true"
    return NULL


class _Json:
    """Marks a value read from a JSON column (typed per comparison key)."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw


# ---------------------------------------------------------------------- comparisons


def _literals(op: str, lit: Any) -> list:
    if op in ("in", "not_in", "between"):
        if not isinstance(lit, (list, tuple)):
            raise ValueError(f"`{op}` takes a list, got {lit!r}")
        return list(lit)
    return [lit]


def _type_json(raw: Any, op: str, lit: Any) -> Any:
    """docs/language.md, Sources: type one JSON value for one comparison key."""
    lits = _literals(op, lit)
    if op in _TS_OPS or any(isinstance(v, (date, datetime)) for v in lits):
        return to_timestamp(raw) if isinstance(raw, str) else NULL
    if lits and all(_is_number(v) for v in lits):
        return _json_number(raw)
    if lits and all(isinstance(v, bool) for v in lits):
        return _json_bool(raw)
    return _json_text(raw)


def _align(v: Any, lit: Any) -> tuple[Any, Any] | None:
    """Bring a value and a literal to one comparable type, or None (FALSE)."""
    if v is None or lit is None:
        return None
    if isinstance(v, (datetime, date)) or isinstance(lit, (datetime, date)):
        a, b = to_timestamp(v), to_timestamp(lit)
        return None if a is None or b is None else (a, b)
    if isinstance(v, bool) and isinstance(lit, bool):
        return v, lit
    if _is_number(v) and _is_number(lit):
        return _exact(v), _exact(lit)
    if _is_number(v) and isinstance(lit, str) and _DECIMAL.match(lit):
        return _exact(v), _exact(float(lit))
    return _text(v), _text(lit)


def _cmp(op: str, v: Any, lit: Any) -> bool:
    pair = _align(v, lit)
    if pair is None:
        return False
    a, b = pair
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if op == "gt":
        return a > b
    if op == "gte":
        return a >= b
    if op == "lt":
        return a < b
    if op == "lte":
        return a <= b
    raise AssertionError(op)


def _compare_one(value: Any, op: str, lit: Any, T: datetime) -> bool:
    """One comparison key applied to one value (NULL -> FALSE except is_null)."""
    if op == "is_null":
        if not isinstance(lit, bool):
            raise ValueError(f"`is_null` takes true or false, got {lit!r}")
        raw = value.raw if isinstance(value, _Json) else value
        return (raw is None) == lit
    if isinstance(value, _Json):
        value = NULL if value.raw is None else _type_json(value.raw, op, lit)
    if value is None:
        return False
    if op in ("eq", "ne", "gt", "gte", "lt", "lte"):
        return _cmp(op, value, lit)
    if op == "in":
        return any(_cmp("eq", value, x) for x in _literals(op, lit))
    if op == "not_in":
        xs = _literals(op, lit)
        return all(_cmp("ne", value, x) for x in xs)
    if op == "between":
        xs = _literals(op, lit)
        if len(xs) != 2:
            raise ValueError(f"`between` takes [lo, hi], got {lit!r}")
        return _cmp("gte", value, xs[0]) and _cmp("lte", value, xs[1])
    if op in ("contains", "starts_with", "ends_with", "matches"):
        if lit is None:
            return False
        s, pat = _text(value), _text(lit)
        if op == "contains":
            return pat in s
        if op == "starts_with":
            return s.startswith(pat)
        if op == "ends_with":
            return s.endswith(pat)
        return re.search(pat, s) is not None
    if op in _TS_OPS:
        ts = to_timestamp(value)
        if ts is None:
            return False
        if op == "within":
            return T - parse_duration(lit) <= ts <= T
        if op == "older_than":
            return ts < T - parse_duration(lit)
        x = to_timestamp(lit)
        if x is None:
            raise ValueError(f"`{op}` takes an ISO timestamp or date, got {lit!r}")
        return ts < x if op == "before" else ts > x
    raise ValueError(f"unknown comparison `{op}`")


def compare(value: Any, spec: dict, T: datetime) -> bool:
    """All comparison keys of `spec` (ANDed) hold for `value`."""
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"a comparison needs at least one key, got {spec!r}")
    return all(_compare_one(value, op, lit, T) for op, lit in spec.items())


# ------------------------------------------------------------------------ evaluator


def _names_match(spec: Any, name: Any) -> bool:
    if spec == "*":
        return True
    if name is None:
        return False
    if isinstance(spec, (list, tuple)):
        return name in spec
    return name == spec


def _measure_spec(cond: dict) -> tuple[str, Any, dict]:
    """(measure, of, comparison) of an event condition; default count >= 1."""
    measures = [m for m in _MEASURES if m in cond]
    if len(measures) > 1:
        raise ValueError(f"exactly one measure per condition, got {measures}")
    if not measures:
        return "count", None, {"gte": 1}
    measure = measures[0]
    spec = dict(cond[measure] or {"gte": 1})
    of = spec.pop("of", None)
    if measure in ("count_distinct", "sum", "avg", "min", "max") and of is None:
        raise ValueError(f"`{measure}` needs `of`")
    return measure, of, spec


def _window_keys(cond: dict) -> list[str]:
    keys = [k for k in _WINDOWS if k in cond]
    if len(keys) > 1:
        raise ValueError(f"at most one window per condition, got {keys}")
    return keys


class _Evaluator:
    def __init__(self, project: dict, tables: dict, as_of: Any) -> None:
        T = to_timestamp(as_of)
        if T is None:
            raise ValueError(f"as_of is not a timestamp: {as_of!r}")
        self.T = T
        self.sources: dict[str, dict] = dict(project.get("sources") or {})
        self.segments: dict[str, dict] = {}
        for seg in project.get("segments") or []:
            self.segments[seg["name"]] = seg
        self.suppressions: list[dict] = list(project.get("suppressions") or [])
        self.tables = tables
        self.entity_source: dict[str, str] = {}
        self.event_sources: dict[str, list[str]] = {}
        for name, src in self.sources.items():
            if "events_of" in src:
                self.event_sources.setdefault(src["events_of"], []).append(name)
            elif "entity" in src:
                if src["entity"] in self.entity_source:
                    raise ValueError(f"two entity sources for {src['entity']!r}")
                self.entity_source[src["entity"]] = name
        self._entities: dict[str, dict] = {}
        self._events: dict[str, dict] = {}
        self._memo: dict[str, set] = {}
        self._raw: dict[str, set] = {}
        self._eligible: dict[str, set] = {}
        self._stack: list[str] = []

    # ----- data access

    def read(self, source: str, row: dict, prop: str) -> Any:
        """A column value, or a _Json for a JSON path (docs/language.md, Sources)."""
        src = self.sources[source]
        parts = prop.split(".")
        if len(parts) > 1 and parts[0] in (src.get("json") or []):
            doc = row.get(parts[0])
            if isinstance(doc, str):
                try:
                    doc = json.loads(doc)
                except ValueError:
                    doc = None
            for key in parts[1:]:
                doc = doc.get(key) if isinstance(doc, dict) else None
            return _Json(doc)
        if prop in (src.get("json") or []):
            return _Json(row.get(prop))
        return row.get(prop)

    def entities(self, entity: str) -> dict:
        """Visible entities of a type: key -> row (created_at <= T or NULL)."""
        if entity not in self._entities:
            source = self.entity_source.get(entity)
            if source is None:
                raise ValueError(f"no entity source for {entity!r}")
            src = self.sources[source]
            visible: dict = {}
            for row in self.tables.get(source, []):
                key = row.get(src["key"])
                if key is None:
                    continue
                if src.get("created_at"):
                    created = to_timestamp(row.get(src["created_at"]))
                    if created is not None and created > self.T:
                        continue
                visible.setdefault(key, row)
            self._entities[entity] = visible
        return self._entities[entity]

    def events(self, source: str) -> dict:
        """Visible events of a source: entity key -> [(ts, name, row)]."""
        if source not in self._events:
            src = self.sources[source]
            by_key: dict = {}
            for row in self.tables.get(source, []):
                ts = to_timestamp(row.get(src["timestamp"]))
                if ts is None or ts > self.T:
                    continue
                key = row.get(src["key"])
                by_key.setdefault(key, []).append((ts, row.get(src["event"]), row))
            self._events[source] = by_key
        return self._events[source]

    def search_sources(self, entity: str, source: str | None) -> list[str]:
        sources = self.event_sources.get(entity, [])
        if source is None:
            return list(sources)
        if source not in sources:
            raise ValueError(f"{source!r} is not an event source of {entity!r}")
        return [source]

    def matching_events(self, entity: str, key: Any, name: Any, source: Any, where: Any):
        """[(ts, source, row)] of the entity's visible events matching name/where."""
        out = []
        for s in self.search_sources(entity, source):
            for ts, ev, row in self.events(s).get(key, []):
                if not _names_match(name, ev):
                    continue
                if where is not None and not self.row_cond(where, s, row):
                    continue
                out.append((ts, s, row))
        return out

    # ----- segments

    def segment_members(self, name: str) -> set:
        """The members of a segment after its suppressions and its priority group."""
        if name in self._memo:
            return self._memo[name]
        seg = self.segments.get(name)
        if seg is None:
            raise ValueError(f"unknown segment {name!r}")
        result = set(self.eligible_members(name))
        group = seg.get("priority_group")
        if group is not None:
            for other in self.segments.values():
                if (
                    other.get("priority_group") == group
                    and other.get("enabled", True) is not False
                    and other["priority"] < seg["priority"]
                ):
                    result -= self.eligible_members(other["name"])
        self._memo[name] = result
        return result

    def eligible_members(self, name: str) -> set:
        """Where the segment's `where` holds and none of its suppressions does."""
        if name in self._eligible:
            return self._eligible[name]
        seg = self.segments[name]
        entity = seg.get("entity", "user")
        ignored = set(seg.get("ignore_suppressions") or [])
        applied = [
            sup
            for sup in self.suppressions
            if sup.get("entity", "user") == entity and sup["name"] not in ignored
        ]
        entities = self.entities(entity)
        result = {
            key
            for key in self.raw_members(name)
            if not any(self.cond(sup["where"], entity, key, entities[key]) for sup in applied)
        }
        self._eligible[name] = result
        return result

    def raw_members(self, name: str) -> set:
        """Where the segment's `where` holds."""
        if name in self._raw:
            return self._raw[name]
        if name not in self.segments:
            raise ValueError(f"unknown segment {name!r}")
        if name in self._stack:
            cycle = self._stack[self._stack.index(name) :] + [name]
            raise ValueError("segment reference cycle: " + " -> ".join(cycle))
        seg = self.segments[name]
        entity = seg.get("entity", "user")
        self._stack.append(name)
        try:
            result = set()
            for key, row in self.entities(entity).items():
                if self.cond(seg["where"], entity, key, row):
                    result.add(key)
        finally:
            self._stack.pop()
        self._raw[name] = result
        return result

    # ----- conditions over an event row (`where` of events and steps)

    def row_cond(self, cond: dict, source: str, row: dict) -> bool:
        if "all" in cond:
            return all(self.row_cond(c, source, row) for c in cond["all"])
        if "any" in cond:
            return any(self.row_cond(c, source, row) for c in cond["any"])
        if "not" in cond:
            return not self.row_cond(cond["not"], source, row)
        if "sql" in cond:
            raise NotImplementedError("sql: conditions are not evaluated by the reference")
        if "property" in cond:
            spec = {k: v for k, v in cond.items() if k != "property"}
            return compare(self.read(source, row, cond["property"]), spec, self.T)
        raise ValueError(f"not a condition on event rows: {cond!r}")

    # ----- conditions over an entity

    def cond(self, cond: dict, entity: str, key: Any, row: dict) -> bool:
        if not isinstance(cond, dict):
            raise ValueError(f"a condition is a mapping, got {cond!r}")
        if "all" in cond:
            return all(self.cond(c, entity, key, row) for c in cond["all"])
        if "any" in cond:
            return any(self.cond(c, entity, key, row) for c in cond["any"])
        if "not" in cond:
            return not self.cond(cond["not"], entity, key, row)
        if "sql" in cond:
            raise NotImplementedError("sql: conditions are not evaluated by the reference")
        if "property" in cond:
            spec = {k: v for k, v in cond.items() if k != "property"}
            source = self.entity_source[entity]
            return compare(self.read(source, row, cond["property"]), spec, self.T)
        if "event" in cond:
            return self.event_cond(cond, entity, key, row)
        if "sequence" in cond:
            return self.sequence(cond["sequence"], entity, key, row)
        if "in_segment" in cond:
            return self.in_segment(cond["in_segment"], entity, key)
        if "parent" in cond:
            return self.parent(cond, entity, row)
        if "members" in cond:
            return self.members_cond(cond, entity, key)
        raise ValueError(f"unknown condition {cond!r}")

    def in_segment(self, name: str, entity: str, key: Any) -> bool:
        seg = self.segments.get(name)
        if seg is None:
            raise ValueError(f"in_segment: unknown segment {name!r}")
        if seg.get("enabled", True) is False:
            raise ValueError(f"in_segment: segment {name!r} is disabled")
        if seg.get("entity", "user") != entity:
            raise ValueError(f"in_segment: {name!r} is not a {entity} segment")
        return key in self.segment_members(name)

    def parent(self, cond: dict, entity: str, row: dict) -> bool:
        parent_type = cond["parent"]
        src = self.sources[self.entity_source[entity]]
        column = (src.get("parents") or {}).get(parent_type)
        if column is None:
            raise ValueError(f"{entity} has no parent {parent_type!r}")
        pkey = row.get(column)
        if pkey is None:
            return False
        prow = self.entities(parent_type).get(pkey)
        if prow is None:
            return False
        where = cond.get("where")
        return where is None or self.cond(where, parent_type, pkey, prow)

    def members_cond(self, cond: dict, entity: str, key: Any) -> bool:
        child_type = cond["members"]
        child_src = self.sources[self.entity_source[child_type]]
        column = (child_src.get("parents") or {}).get(entity)
        if column is None:
            raise ValueError(f"{child_type} has no parent {entity!r}")
        where = cond.get("where")
        n = 0
        for ckey, crow in self.entities(child_type).items():
            if crow.get(column) is None or crow.get(column) != key:
                continue
            if where is None or self.cond(where, child_type, ckey, crow):
                n += 1
        return compare(n, cond.get("count", {"gte": 1}), self.T)

    # ----- windows

    def window(self, cond: dict, entity: str, key: Any, row: dict, source: Any):
        """(lo, hi) inclusive bounds for event timestamps; None: condition FALSE;
        "empty": no event can match (the measure sees an empty set)."""
        T = self.T
        keys = _window_keys(cond)
        if not keys:
            return (None, T)
        kind = keys[0]
        if kind == "within":
            return (T - parse_duration(cond["within"]), T)
        if kind == "during":
            d = cond["during"] or {}
            lo = to_timestamp(d["from"]) if d.get("from") is not None else None
            hi = to_timestamp(d["to"]) if d.get("to") is not None else None
            hi = T if hi is None else min(hi, T)
            return (lo, hi)
        if kind == "since_property":
            raw = self.read(self.entity_source[entity], row, cond["since_property"])
            if isinstance(raw, _Json):
                raw = raw.raw
            start = to_timestamp(raw)
            if start is None:
                return "empty"
            hi = T
            if cond.get("for") is not None:
                hi = min(T, start + parse_duration(cond["for"]))
            return (start, hi)
        if kind == "since_nth_last":
            spec = cond["since_nth_last"]
            n = int(spec["n"])
            if n < 1:
                raise ValueError(f"since_nth_last: n must be >= 1, got {n}")
            anchors = sorted(
                (ts for ts, _, _ in self.matching_events(entity, key, spec["event"], source, None)),
                reverse=True,
            )
            if len(anchors) < n:
                return None
            return (anchors[n - 1], T)
        raise AssertionError(kind)

    # ----- event condition

    def event_cond(self, cond: dict, entity: str, key: Any, row: dict) -> bool:
        _, _, spec = _measure_spec(cond)
        found, value = self.measure_value(cond, entity, key, row)
        return found and compare(value, spec, self.T)

    def measure_value(self, cond: dict, entity: str, key: Any, row: dict) -> tuple[bool, Any]:
        """(False, None) when the condition is FALSE whatever its measure (fewer than n
        anchors for since_nth_last), else (True, the measure's value for the entity)."""
        measure, of, _ = _measure_spec(cond)
        source = cond.get("source")
        win = self.window(cond, entity, key, row, source)
        if win is None:
            return False, NULL
        if win == "empty":
            matched = []
        else:
            lo, hi = win
            matched = [
                (ts, s, r)
                for ts, s, r in self.matching_events(
                    entity, key, cond["event"], source, cond.get("where")
                )
                if (lo is None or ts >= lo) and ts <= hi
            ]
        return True, self.measure(measure, of, matched)

    def measure(self, measure: str, of: Any, matched: list) -> Any:
        if measure == "count":
            return len(matched)
        if measure in ("first", "last"):
            if not matched:
                return NULL
            stamps = [ts for ts, _, _ in matched]
            return min(stamps) if measure == "first" else max(stamps)
        values = []
        for _, s, r in matched:
            v = self.read(s, r, of)
            if measure == "count_distinct":
                if isinstance(v, _Json):
                    v = NULL if v.raw is None else _json_text(v.raw)
            elif isinstance(v, _Json):
                v = NULL if v.raw is None else _json_number(v.raw)
            elif measure in ("sum", "avg") and not _is_number(v):
                v = _json_number(v) if isinstance(v, str) else NULL
            if v is not None:
                values.append(v)
        if measure == "count_distinct":
            return len(set(values))
        if measure == "sum":
            return sum((_exact(v) for v in values), Fraction(0))
        if not values:
            return NULL
        if measure == "avg":
            return sum(_exact(v) for v in values) / len(values)
        return min(values) if measure == "min" else max(values)

    # ----- sequence

    def sequence(self, seq: dict, entity: str, key: Any, row: dict) -> bool:
        T = self.T
        steps = seq["steps"]
        if not 2 <= len(steps) <= 5:
            raise ValueError("a sequence has 2 to 5 steps")
        if any(s.get("absent") for s in steps[:-1]):
            raise ValueError("only the last step of a sequence may be absent")
        absent = bool(steps[-1].get("absent"))
        present = steps[:-1] if absent else steps

        def stamps(step: dict) -> list[datetime]:
            return sorted(
                {
                    ts
                    for ts, _, _ in self.matching_events(
                        entity, key, step["event"], step.get("source"), step.get("where")
                    )
                }
            )

        candidates = [stamps(s) for s in present]
        absent_stamps = stamps(steps[-1]) if absent else []
        cw = seq.get("completed_within")
        limit = parse_duration(cw) if cw is not None else None

        if "since_nth_last" in seq:
            raise ValueError("since_nth_last is not a sequence window")
        win = self.window(seq, entity, key, row, None)
        if win is None or win == "empty":
            return False
        lo, hi = win

        def ok_last(t1: datetime, tm: datetime) -> bool:
            if tm > T:
                return False
            if limit is not None and tm - t1 > limit:
                return False
            return not any(tm < a <= T for a in absent_stamps)

        def search(i: int, prev: datetime, t1: datetime, memo: dict) -> bool:
            # is there a strictly increasing chain for steps i.. after `prev`?
            if i == len(present):
                return ok_last(t1, prev)
            if (i, prev) not in memo:
                memo[i, prev] = any(search(i + 1, t, t1, memo) for t in candidates[i] if t > prev)
            return memo[i, prev]

        for t1 in candidates[0]:
            in_window = (lo is None or t1 >= lo) and t1 <= hi
            if in_window and search(1, t1, t1, {}):
                return True
        return False


def members(project: dict, segment: str, tables: dict[str, list[dict]], as_of: datetime) -> set:
    """Entity ids (the key values as given) that are members of `segment` at T=as_of."""
    return set(_Evaluator(project, tables, as_of).segment_members(segment))
