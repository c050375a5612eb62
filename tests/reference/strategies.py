"""Hypothesis strategies for differential tests: random segments + small data sets.

`cases()` draws a `Case`: a project (fixed sources, a segment named "target" and
helper segments it may reference), tables for every source, an `as_of` and the column
types a loader needs. The condition is drawn first; the data's timestamps are then
clustered at the points that matter for it (T, T +/- 1s, T-d and T-d +/- 1s for every
duration d used, X +/- 1s for every absolute timestamp X used, ends of
`completed_within` / `for` spans). Events are planted for the names (and, for
sequences, the order) that the condition asks for. Literals come from the same small
pools as the data; then, most of the time, they are refitted to the drawn data: a
property comparison takes values (or substrings, for contains / starts_with /
ends_with) that the column holds, and a numeric measure (count, count_distinct, sum,
avg, min, max) takes values that the measure has for some entity (rounded to halves,
so an `avg` threshold never sits on a value that floating point cannot hold). So
comparisons are sometimes true and sometimes false, and hit their boundaries.

Everything is chosen to be read alike by every engine: whole seconds, numbers that are
integers or halves (sums and averages exact in floating point), ASCII text with `%`,
`_` and quotes, regexes from a safe set, JSON keys of one type each (plus missing and
null), no ordering comparisons on text (collations differ), no empty `in` lists.

Schema (`column_types` gives it per case; `score` is DOUBLE or BIGINT):

    users(user_id BIGINT, plan VARCHAR, score, signup_at TIMESTAMP, traits JSON,
          account_id BIGINT)                  entity user, parent account, created_at
                                              signup_at in some cases
    accounts(account_id BIGINT, tier VARCHAR, seats BIGINT)          entity account
    events(user_id BIGINT, event_name VARCHAR, ts TIMESTAMP, amount DOUBLE,
           platform VARCHAR, properties JSON)                        events of user
    email_events(uid BIGINT, event_type VARCHAR, sent_at TIMESTAMP, platform VARCHAR,
                 properties JSON)                                    events of user
    account_events(account_id BIGINT, event_name VARCHAR, ts TIMESTAMP, amount DOUBLE)
                                                                     events of account
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .evaluator import _Evaluator, parse_duration, to_timestamp

__all__ = ["Case", "cases", "COLUMN_TYPES", "base_sources"]


@dataclass
class Case:
    project: dict  # sources + segments ("target" and helpers it references)
    segment: str  # "target"
    tables: dict[str, list[dict]]
    as_of: datetime
    column_types: dict[str, dict[str, str]]  # source -> column -> SQL type


# ------------------------------------------------------------------------- schema

AS_OF_CHOICES = [datetime(2026, 3, 1, 12, 0, 0), datetime(2026, 3, 1, 0, 0, 0)]
DURATIONS = ["1h", "24h", "7d", "30s", "15m", "2d", "2w", "30d"]

PLANS = ["trial", "free", "pro", "enterprise", "50%_off", "o'brien", "a_c", "abc", "Trial"]
TIERS = ["enterprise", "startup", "smb", "ent%"]
PLATFORMS = ["web", "ios", "android", "w%b", "web_2"]
CITIES = ["Berlin", "Paris", "paris", "O'Neil", "50%", "a_b"]
CATEGORIES = ["shoes", "hats", "shoe_box", "50%off", "it's"]
FRAGMENTS = ["e", "tr", "al", "pro", "%", "_", "'", "a_", "%_", "x", "T", "s", "b"]
REGEXES = ["^tr", "e$", "r.a", "a.c", "[0-9]", "^pro$", "_", "%", "o'b", "^[a-z]+$", "s$"]
SCORES = [0, 1, 2.5, 10, -1, 0.5]
INT_SCORES = [0, 1, 2, 10, -1]
AGES = [30, 18, 45, 30.5]
QTYS = [1, 0, 2, 3]
PRICES = [2.5, 0.5, 1, 10]
AMOUNTS = [10, 0, 0.5, 1, 2, 99.5]
SEATS = [5, 1, 2, 10]

USER_EVENTS = ["add_to_cart", "page_view", "checkout_completed", "purchase"]
EMAIL_EVENTS = ["email_delivered", "email_opened", "page_view"]
ACCOUNT_EVENTS = ["report_created", "invoice_paid", "seat_added"]
EVENT_NAMES = {
    "events": USER_EVENTS,
    "email_events": EMAIL_EVENTS,
    "account_events": ACCOUNT_EVENTS,
}
EVENT_SOURCES = {"user": ["events", "email_events"], "account": ["account_events"]}

COLUMN_TYPES_BASE: dict[str, dict[str, str]] = {
    "users": {
        "user_id": "BIGINT",
        "plan": "VARCHAR",
        "score": "DOUBLE",
        "signup_at": "TIMESTAMP",
        "traits": "JSON",
        "account_id": "BIGINT",
    },
    "accounts": {"account_id": "BIGINT", "tier": "VARCHAR", "seats": "BIGINT"},
    "events": {
        "user_id": "BIGINT",
        "event_name": "VARCHAR",
        "ts": "TIMESTAMP",
        "amount": "DOUBLE",
        "platform": "VARCHAR",
        "properties": "JSON",
    },
    "email_events": {
        "uid": "BIGINT",
        "event_type": "VARCHAR",
        "sent_at": "TIMESTAMP",
        "platform": "VARCHAR",
        "properties": "JSON",
    },
    "account_events": {
        "account_id": "BIGINT",
        "event_name": "VARCHAR",
        "ts": "TIMESTAMP",
        "amount": "DOUBLE",
    },
}
COLUMN_TYPES = COLUMN_TYPES_BASE


def reproducible(examples: int) -> settings:
    """Hypothesis settings for CI: `examples` derandomized examples (the same in every run
    and on every machine), no deadline (engines vary), no example database."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def base_sources(users_created_at: bool) -> dict:
    users = {
        "table": "users",
        "entity": "user",
        "key": "user_id",
        "json": ["traits"],
        "parents": {"account": "account_id"},
    }
    if users_created_at:
        users["created_at"] = "signup_at"
    return {
        "users": users,
        "accounts": {"table": "accounts", "entity": "account", "key": "account_id"},
        "events": {
            "table": "events",
            "events_of": "user",
            "key": "user_id",
            "event": "event_name",
            "timestamp": "ts",
            "json": ["properties"],
        },
        "email_events": {
            "table": "email_events",
            "events_of": "user",
            "key": "uid",
            "event": "event_type",
            "timestamp": "sent_at",
            "json": ["properties"],
        },
        "account_events": {
            "table": "account_events",
            "events_of": "account",
            "key": "account_id",
            "event": "event_name",
            "timestamp": "ts",
        },
    }


# Properties: (name, kind, pool). Kinds: text, num, bool, ts.
ENTITY_PROPS = {
    "user": [
        ("plan", "text", PLANS),
        ("score", "num", None),  # pool depends on the score type
        ("signup_at", "ts", None),
        ("traits.age", "num", AGES),
        ("traits.city", "text", CITIES),
        ("traits.vip", "bool", None),
        ("traits.address.city", "text", CITIES),
        ("account_id", "num", [1, 2, 3, 99]),
        ("user_id", "num", [1, 2, 3, 4, 5]),
    ],
    "account": [
        ("tier", "text", TIERS),
        ("seats", "num", SEATS),
        ("account_id", "num", [1, 2, 3]),
    ],
}
COMMON_USER_EVENT_COLS = [
    ("platform", "text", PLATFORMS),
    ("properties.category", "text", CATEGORIES),
    ("properties.qty", "num", QTYS),
    ("properties.price", "num", PRICES),
    ("properties.gift", "bool", None),
]
EVENT_COLS = {
    None: COMMON_USER_EVENT_COLS,
    "events": COMMON_USER_EVENT_COLS
    + [("amount", "num", AMOUNTS), ("event_name", "text", USER_EVENTS), ("ts", "ts", None)],
    "email_events": COMMON_USER_EVENT_COLS
    + [("event_type", "text", EMAIL_EVENTS), ("sent_at", "ts", None)],
    "account_events": [
        ("amount", "num", AMOUNTS),
        ("event_name", "text", ACCOUNT_EVENTS),
        ("ts", "ts", None),
    ],
}
# Measures' `of`: numeric ones (sum/avg/min/max) and distinct-able ones.
NUMERIC_OF = {
    None: [("properties.qty", QTYS), ("properties.price", PRICES)],
    "events": [("amount", AMOUNTS), ("properties.qty", QTYS), ("properties.price", PRICES)],
    "email_events": [("properties.qty", QTYS), ("properties.price", PRICES)],
    "account_events": [("amount", AMOUNTS)],
}
DISTINCT_OF = {
    None: ["platform", "properties.category", "properties.qty"],
    "events": ["platform", "event_name", "properties.category", "properties.qty"],
    "email_events": ["platform", "event_type", "properties.category"],
    "account_events": ["event_name", "amount"],
}


# --------------------------------------------------------------------- generator


@dataclass
class _Gen:
    draw: object
    T: datetime
    score_pool: list
    helpers: dict  # entity -> [helper segment names] that in_segment may reference
    durations: set = field(default_factory=set)
    stamps: set = field(default_factory=set)
    spans: set = field(default_factory=set)  # completed_within / for durations
    used_names: list = field(default_factory=list)  # event names the conditions name
    recipes: list = field(default_factory=list)  # events to plant so conditions can hold

    def use(self, spec):
        for name in [spec] if isinstance(spec, str) else spec:
            if name != "*" and name not in self.used_names:
                self.used_names.append(name)
        return spec

    def d(self, strategy):
        return self.draw(strategy)

    def pick(self, seq):
        return self.draw(st.sampled_from(list(seq)))

    # ----- literals

    def duration(self) -> str:
        d = self.pick(DURATIONS)
        self.durations.add(d)
        return d

    def abs_points(self) -> list[datetime]:
        T = self.T
        midnight = datetime(T.year, T.month, T.day)
        return [
            T - timedelta(days=1),
            T - timedelta(hours=1),
            T - timedelta(days=7),
            T,
            midnight,
            midnight - timedelta(days=1),
            T - timedelta(days=30),
        ]

    def timestamp_literal(self):
        """An absolute timestamp as YAML could give it: datetime, date or ISO text."""
        x = self.pick(self.abs_points())
        self.stamps.add(x)
        forms = ["datetime", "iso"]
        if x.hour == x.minute == x.second == 0:
            forms += ["date", "date_iso"]
        form = self.pick(forms)
        if form == "datetime":
            return x
        if form == "date":
            return x.date()
        if form == "date_iso":
            return x.date().isoformat()
        suffix = self.pick(["", "Z", "+00:00"])
        return x.isoformat() + suffix

    # ----- comparisons

    def comparison(self, kind: str, pool) -> dict:
        """A comparison mapping (no `property`) for a value of `kind`."""
        if self.d(st.integers(0, 9)) == 0:
            return {"is_null": self.d(st.booleans())}
        if kind == "text":
            op = self.pick(
                ["eq", "in", "ne", "not_in", "contains", "starts_with", "ends_with", "matches"]
            )
            if op in ("eq", "ne"):
                return {op: self.pick(pool)}
            if op in ("in", "not_in"):
                return {op: self.d(st.lists(st.sampled_from(pool), min_size=1, max_size=3))}
            if op == "matches":
                return {op: self.pick(REGEXES)}
            return {op: self.pick(FRAGMENTS + list(pool))}
        if kind == "num":
            op = self.pick(
                ["gte", "eq", "lt", "gt", "lte", "ne", "in", "not_in", "between", "range"]
            )
            if op in ("in", "not_in"):
                return {op: self.d(st.lists(st.sampled_from(pool), min_size=1, max_size=3))}
            if op == "between":
                return {op: [self.pick(pool), self.pick(pool)]}
            if op == "range":  # several keys ANDed
                return {"gte": self.pick(pool), "lt": self.pick(pool)}
            return {op: self.pick(pool)}
        if kind == "bool":
            op = self.pick(["eq", "ne", "in"])
            value = self.d(st.booleans())
            return {op: [value] if op == "in" else value}
        if kind == "ts":
            op = self.pick(["within", "older_than", "before", "after", "after_before"])
            if op in ("within", "older_than"):
                return {op: self.duration()}
            if op == "after_before":
                lo, hi = sorted([self.timestamp_literal(), self.timestamp_literal()], key=_ts_key)
                return {"after": lo, "before": hi}
            return {op: self.timestamp_literal()}
        raise AssertionError(kind)

    def prop_cond(self, catalog) -> dict:
        name, kind, pool = self.pick(catalog)
        if pool is None and kind == "num":
            pool = self.score_pool
        return {"property": name, **self.comparison(kind, pool)}

    def row_cond(self, catalog, depth: int) -> dict:
        """A condition over event rows (`where`)."""
        if depth > 0 and self.d(st.integers(0, 3)) == 0:
            kind = self.pick(["all", "any", "not"])
            if kind == "not":
                return {"not": self.row_cond(catalog, depth - 1)}
            n = self.d(st.integers(1, 3))
            return {kind: [self.row_cond(catalog, depth - 1) for _ in range(n)]}
        return self.prop_cond(catalog)

    # ----- event conditions

    def names(self, sources: list[str]) -> list[str]:
        out: list[str] = []
        for s in sources:
            out += [n for n in EVENT_NAMES[s] if n not in out]
        return out

    def event_spec(self, names: list[str]):
        form = self.d(st.integers(0, 5))
        if form == 4:
            return "*"
        if form == 5:
            return self.use(
                self.d(st.lists(st.sampled_from(names), min_size=2, max_size=3, unique=True))
            )
        return self.use(self.pick(names))

    def event_cond(self, entity: str) -> dict:
        all_sources = EVENT_SOURCES[entity]
        source = self.pick([None, *all_sources])
        searched = all_sources if source is None else [source]
        col_key = _col_key(entity, source)
        cond: dict = {"event": self.event_spec(self.names(searched))}
        self.recipes.append(("event", entity, searched, cond["event"]))
        if source is not None:
            cond["source"] = source
        if self.d(st.integers(0, 2)) == 0:
            cond["where"] = self.row_cond(EVENT_COLS[col_key], 1)
        window = self.pick(["none", "within", "during", "since_property", "since_nth_last"])
        if window == "within":
            cond["within"] = self.duration()
        elif window == "during":
            lo, hi = sorted([self.timestamp_literal(), self.timestamp_literal()], key=_ts_key)
            cond["during"] = {"from": lo, "to": hi}
        elif window == "since_property" and entity == "user":
            cond["since_property"] = "signup_at"
            if self.d(st.booleans()):
                f = self.pick(DURATIONS)
                self.spans.add(f)
                cond["for"] = f
        elif window == "since_nth_last":
            cond["since_nth_last"] = {
                "event": self.use(self.pick(self.names(searched))),
                "n": self.d(st.integers(1, 3)),
            }
        measure = self.pick(
            [
                "default",
                "count",
                "count",
                "count_distinct",
                "sum",
                "avg",
                "min",
                "max",
                "first",
                "last",
            ]
        )
        if measure == "default":
            return cond
        if measure == "count":
            cond["count"] = self.comparison("num", [0, 1, 2, 3])
        elif measure == "count_distinct":
            of = self.pick(DISTINCT_OF[col_key])
            cond["count_distinct"] = {"of": of, **self.comparison("num", [0, 1, 2])}
        elif measure in ("sum", "avg", "min", "max"):
            of, pool = self.pick(NUMERIC_OF[col_key])
            if measure == "sum":
                pool = [0, 1, 3, 10, 20, 2.5]
            cond[measure] = {"of": of, **self.comparison("num", pool)}
        else:
            cond[measure] = self.comparison("ts", None)
        return cond

    def sequence(self, entity: str) -> dict:
        all_sources = EVENT_SOURCES[entity]
        n = self.pick([2, 2, 3, 2, 3, 4, 5])
        steps = []
        for _ in range(n):
            source = None
            if len(all_sources) > 1 and self.d(st.integers(0, 3)) == 0:
                source = self.pick(all_sources)
            searched = all_sources if source is None else [source]
            names = self.names(searched)
            if self.d(st.integers(0, 4)):
                step: dict = {"event": self.use(self.pick(names))}
            else:
                step = {
                    "event": self.use(
                        self.d(
                            st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True)
                        )
                    )
                }
            if source is not None:
                step["source"] = source
            if self.d(st.integers(0, 3)) == 0:
                step["where"] = self.row_cond(EVENT_COLS[_col_key(entity, source)], 0)
            steps.append(step)
        if self.d(st.booleans()):
            steps[-1]["absent"] = True
        seq: dict = {"steps": steps}
        if self.d(st.booleans()):
            seq["within"] = self.duration()
        if self.d(st.booleans()):
            cw = self.pick(DURATIONS)
            self.spans.add(cw)
            seq["completed_within"] = cw
        planted = [([s["source"]] if "source" in s else all_sources, s["event"]) for s in steps]
        self.recipes.append(
            ("sequence", entity, planted, seq.get("within"), seq.get("completed_within"))
        )
        return {"sequence": seq}

    # ----- entity conditions

    def leaf(self, entity: str, depth: int, allow_ref: bool) -> dict:
        kinds = ["property", "event", "event", "sequence"]
        if allow_ref and self.helpers.get(entity):
            kinds.append("in_segment")
        if entity == "user":
            kinds.append("parent")
        else:
            kinds.append("members")
        kind = self.pick(kinds)
        if kind == "property":
            return self.prop_cond(ENTITY_PROPS[entity])
        if kind == "event":
            return self.event_cond(entity)
        if kind == "sequence":
            return self.sequence(entity)
        if kind == "in_segment":
            return {"in_segment": self.pick(self.helpers[entity])}
        if kind == "parent":
            cond: dict = {"parent": "account"}
            if self.d(st.integers(0, 3)):
                cond["where"] = self.cond("account", max(depth - 1, 0), allow_ref)
            return cond
        cond = {"members": "user"}
        if self.d(st.integers(0, 3)):
            cond["where"] = self.cond("user", max(depth - 1, 0), allow_ref)
        if self.d(st.booleans()):
            cond["count"] = self.comparison("num", [0, 1, 2, 3])
        return cond

    def cond(self, entity: str, depth: int, allow_ref: bool = True) -> dict:
        if depth > 0 and self.d(st.booleans()):
            kind = self.pick(["all", "any", "not"])
            if kind == "not":
                return {"not": self.cond(entity, depth - 1, allow_ref)}
            n = self.pick([2, 1, 2, 3, 0])
            return {kind: [self.cond(entity, depth - 1, allow_ref) for _ in range(n)]}
        return self.leaf(entity, depth, allow_ref)


def _col_key(entity: str, source: str | None):
    """Key of EVENT_COLS / NUMERIC_OF / DISTINCT_OF for the sources a condition searches."""
    if source is not None:
        return source
    return None if entity == "user" else EVENT_SOURCES[entity][0]


def _ts_key(x) -> datetime:
    return to_timestamp(x)


# -------------------------------------------------------------------------- data


def _maybe(draw, pool, null_weight: int = 1):
    """A value from pool, or None (roughly 1 in len(pool) + null_weight)."""
    return draw(st.sampled_from([*pool, *([None] * null_weight)]))


def _json_doc(draw, spec: dict):
    """A JSON object (or None) whose keys are each missing, null or from their pool."""
    if draw(st.integers(0, 5)) == 0:
        return None
    doc = {}
    for key, pool in spec.items():
        state = draw(st.sampled_from(["value", "value", "missing", "null"]))
        if state == "null":
            doc[key] = None
        elif state == "value":
            doc[key] = draw(st.sampled_from(pool)) if isinstance(pool, list) else pool(draw)
    return doc


def _address(draw):
    state = draw(st.sampled_from(["city", "empty", "null_city"]))
    if state == "city":
        return {"city": draw(st.sampled_from(CITIES))}
    if state == "null_city":
        return {"city": None}
    return {}


def _time_pool(g: _Gen) -> list[datetime]:
    T = g.T
    s, h, d = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
    pool = [T - h, T, T - s, T + s, T - d, T - 7 * d, T - 30 * d, T + d]
    for dur in sorted(g.durations):
        x = T - parse_duration(dur)
        pool += [x, x - s, x + s, T - parse_duration(dur) / 2]
    for x in sorted(g.stamps):
        pool += [x, x - s, x + s]
    for span in sorted(g.spans):
        delta = parse_duration(span)
        for p in (T - d, T - h, T - delta):
            pool += [p + delta, p + delta + s, p]
    return list(dict.fromkeys(pool))  # keep order, drop repeats (T - h shrinks first)


@st.composite
def cases(draw, max_depth: int = 3) -> Case:
    T = draw(st.sampled_from(AS_OF_CHOICES))
    score_type = draw(st.sampled_from(["DOUBLE", "BIGINT"]))
    score_pool = SCORES if score_type == "DOUBLE" else INT_SCORES
    users_created_at = draw(st.booleans())
    target_entity = draw(st.sampled_from(["user", "user", "user", "account"]))

    g = _Gen(draw=draw, T=T, score_pool=score_pool, helpers={})

    # Helper segments (no references of their own), then the target.
    segments = []
    for entity in ("user", "account"):
        if draw(st.integers(0, 2)) == 0:
            continue
        name = f"helper_{entity}"
        seg = {"name": name, "entity": entity, "where": g.cond(entity, 1, allow_ref=False)}
        if draw(st.booleans()):
            seg["holdout"] = draw(st.sampled_from([10, 50]))
        segments.append(seg)
        g.helpers[entity] = [name]
    target = {"name": "target", "entity": target_entity, "where": g.cond(target_entity, max_depth)}
    segments.append(target)
    suppressions = _guards(draw, g, segments)

    # ----- data, clustered at the condition's interesting points
    time_pool = _time_pool(g)
    signup_pool = [
        T - timedelta(days=7),
        T,
        T + timedelta(seconds=1),
        T - timedelta(days=30),
        T - timedelta(days=1),
        T + timedelta(days=1),
        *sorted(g.stamps),
    ]
    n_accounts = draw(st.integers(2 if target_entity == "account" else 1, 3))
    account_ids = list(range(1, n_accounts + 1))
    n_users = draw(st.integers(3, 8))
    user_ids = list(range(1, n_users + 1))

    users = []
    signups = set()
    for uid in user_ids:
        signup = _maybe(draw, signup_pool)
        if signup is not None:
            signups.add(signup)
        score = _maybe(draw, score_pool)
        if score is not None:
            score = float(score) if score_type == "DOUBLE" else int(score)
        users.append(
            {
                "user_id": uid,
                "plan": _maybe(draw, PLANS),
                "score": score,
                "signup_at": signup,
                "traits": _json_doc(
                    draw,
                    {"age": AGES, "city": CITIES, "vip": [True, False], "address": _address},
                ),
                "account_id": _maybe(draw, [*account_ids, 99]),
            }
        )
    # since_property / for: events at the start and end of each user's span
    for span in sorted(g.spans):
        delta = parse_duration(span)
        for x in sorted(signups):
            time_pool += [x, x - timedelta(seconds=1), x + delta, x + delta + timedelta(seconds=1)]
    for x in sorted(signups):  # since_property: events exactly at / just before the start
        time_pool += [x, x - timedelta(seconds=1)]
    time_pool = list(dict.fromkeys(time_pool))

    accounts = [
        {"account_id": aid, "tier": _maybe(draw, TIERS), "seats": _maybe(draw, SEATS)}
        for aid in account_ids
    ]

    def amount():
        v = _maybe(draw, AMOUNTS)
        return None if v is None else float(v)

    def props():
        return _json_doc(
            draw, {"category": CATEGORIES, "qty": QTYS, "price": PRICES, "gift": [True, False]}
        )

    def event_name(source: str) -> str:
        used = [n for n in g.used_names if n in EVENT_NAMES[source]]
        if used and draw(st.integers(0, 3)):
            return draw(st.sampled_from(used))
        return draw(st.sampled_from(EVENT_NAMES[source]))

    def make_event(source: str, owner, name: str, ts: datetime) -> dict:
        if source == "events":
            return {
                "user_id": owner,
                "event_name": name,
                "ts": ts,
                "amount": amount(),
                "platform": _maybe(draw, PLATFORMS),
                "properties": props(),
            }
        if source == "email_events":
            return {
                "uid": owner,
                "event_type": name,
                "sent_at": ts,
                "platform": _maybe(draw, PLATFORMS),
                "properties": props(),
            }
        return {"account_id": owner, "event_name": name, "ts": ts, "amount": amount()}

    tables_events: dict[str, list[dict]] = {s: [] for s in EVENT_NAMES}
    owner_ids = {"user": user_ids, "account": account_ids}

    # Random events: each entity gets a few; some belong to no entity (id 99).
    for source, entity, per_owner in (
        ("events", "user", 4),
        ("email_events", "user", 2),
        ("account_events", "account", 3),
    ):
        owners = []
        for i in owner_ids[entity]:
            owners += [i] * draw(st.integers(0, per_owner))
        owners += [99] * draw(st.integers(0, 1))
        for owner in owners:
            ts = draw(st.sampled_from(time_pool))
            tables_events[source].append(make_event(source, owner, event_name(source), ts))

    # Planted events: the names (and for sequences the order) that a condition asks for.
    def plant_source(sources: list[str], names) -> tuple[str, str]:
        options = [
            (src, n)
            for src in sources
            for n in EVENT_NAMES[src]
            if names == "*" or n == names or (isinstance(names, list) and n in names)
        ]
        return (
            draw(st.sampled_from(options)) if options else (sources[0], EVENT_NAMES[sources[0]][0])
        )

    for recipe in g.recipes:
        if not draw(st.booleans()):
            continue
        entity = recipe[1]
        owner = draw(st.sampled_from(owner_ids[entity]))
        if recipe[0] == "event":
            _, _, sources, names = recipe
            for _ in range(draw(st.integers(1, 3))):
                src, name = plant_source(sources, names)
                ts = draw(st.sampled_from(time_pool))
                tables_events[src].append(make_event(src, owner, name, ts))
            continue
        _, _, steps, within, cw = recipe
        window = parse_duration(within) if within else timedelta(days=30)
        starts = [x for x in time_pool if T - window <= x <= T]
        start = draw(st.sampled_from(starts or [T]))
        gaps = [timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(0)]
        if cw:
            gaps += [parse_duration(cw), parse_duration(cw) + timedelta(seconds=1)]
        gap = draw(st.sampled_from(gaps))
        n_planted = draw(st.integers(len(steps) - 1, len(steps)))
        for i, (sources, names) in enumerate(steps[:n_planted]):
            src, name = plant_source(sources, names)
            tables_events[src].append(make_event(src, owner, name, start + i * gap))

    tables = {
        "users": users,
        "accounts": accounts,
        "events": tables_events["events"],
        "email_events": tables_events["email_events"],
        "account_events": tables_events["account_events"],
    }
    project = {"sources": base_sources(users_created_at), "segments": segments}
    if suppressions:
        project["suppressions"] = suppressions

    # Literals and measure thresholds from the values the data holds.
    ev = _Evaluator(project, tables, T)
    for seg in [*segments, *suppressions]:
        _fit(draw, ev, seg["where"], seg.get("entity", "user"))

    column_types = {k: dict(v) for k, v in COLUMN_TYPES_BASE.items()}
    column_types["users"]["score"] = score_type
    return Case(
        project=project,
        segment="target",
        tables=tables,
        as_of=T,
        column_types=column_types,
    )


def _guards(draw, g: _Gen, segments: list[dict]) -> list[dict]:
    """Suppressions (0-2 per entity type, simple conditions) and priority groups: the
    target and, separately, each helper may compete with a rival segment (no references,
    so no cycles); the target may ignore some suppressions. Returns the suppressions;
    the rivals are appended to `segments`."""
    suppressions = []
    for entity in ("user", "account"):
        for i in range(draw(st.sampled_from([0, 0, 1, 2]))):
            suppressions.append(
                {
                    "name": f"sup_{entity}_{i}",
                    "entity": entity,
                    "where": g.cond(entity, 1, allow_ref=False),
                }
            )
    for seg in list(segments):
        entity = seg["entity"]
        if seg["name"] == "target":
            names = [x["name"] for x in suppressions if x["entity"] == entity]
            ignored = [n for n in names if draw(st.booleans())]
            if ignored:
                seg["ignore_suppressions"] = ignored
        if draw(st.integers(0, 2)) != 0:
            continue
        group = f"group_{seg['name']}"
        rival = {
            "name": f"rival_{seg['name']}",
            "entity": entity,
            "priority_group": group,
            "priority": 5,
            "where": g.cond(entity, 1, allow_ref=False),
        }
        seg["priority_group"] = group
        seg["priority"] = draw(st.sampled_from([1, 9]))  # wins, or loses to the rival
        segments.insert(0, rival)
    return suppressions


_FIT_MEASURES = ("count", "count_distinct", "sum", "avg", "min", "max")
_VALUE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between")


def _literal_kind(spec: dict) -> str | None:
    """num / text / bool by the literals of a comparison (None: timestamps, is_null)."""
    for op, lit in spec.items():
        if op in ("contains", "starts_with", "ends_with"):
            return "text"
        if op not in _VALUE_OPS:
            continue
        x = lit[0] if isinstance(lit, list) and lit else lit
        if isinstance(x, bool):
            return "bool"
        if isinstance(x, (int, float)):
            return "num"
        if isinstance(x, str):
            return "text"
    return None


def _fit_comparison(draw, spec: dict, values: list) -> None:
    """Replace (sometimes) a comparison's literals with values the data holds."""
    kind = _literal_kind(spec)
    if kind not in ("num", "text") or not draw(st.integers(0, 3)):
        return
    if kind == "num":
        values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    else:
        values = [v for v in values if isinstance(v, str)]
    if not values:
        return
    pool = sorted(set(values))
    for op, lit in list(spec.items()):
        if op in ("in", "not_in", "between"):
            spec[op] = [draw(st.sampled_from(pool)) for _ in lit]
        elif op in _VALUE_OPS:
            spec[op] = draw(st.sampled_from(pool))
        elif op in ("contains", "starts_with", "ends_with"):
            text = draw(st.sampled_from(pool))
            if not text:
                continue
            n = draw(st.integers(1, min(3, len(text))))
            if op == "starts_with":
                spec[op] = text[:n]
            elif op == "ends_with":
                spec[op] = text[-n:]
            else:
                start = draw(st.integers(0, len(text) - n))
                spec[op] = text[start : start + n]


def _column_values(ev: _Evaluator, sources: list[str], rows_of, prop: str) -> list:
    out = []
    for src in sources:
        for row in rows_of(src):
            v = ev.read(src, row, prop)
            v = getattr(v, "raw", v)
            if v is not None:
                out.append(v)
    return out


def _fit_row_cond(draw, ev: _Evaluator, cond: dict, sources: list[str]) -> None:
    for key in ("all", "any"):
        for child in cond.get(key, ()):
            _fit_row_cond(draw, ev, child, sources)
    if "not" in cond:
        _fit_row_cond(draw, ev, cond["not"], sources)
    if "property" in cond:
        values = _column_values(ev, sources, lambda s: ev.tables.get(s, []), cond["property"])
        spec = {k: v for k, v in cond.items() if k != "property"}
        _fit_comparison(draw, spec, values)
        cond.update(spec)


def _fit(draw, ev: _Evaluator, cond: dict, entity: str) -> None:
    """Fit the literals of a condition tree to the data (see _fit_comparison and
    _fit_measure); the evaluator only serves to compute measure values."""
    for key in ("all", "any"):
        for child in cond.get(key, ()):
            _fit(draw, ev, child, entity)
    if "not" in cond:
        _fit(draw, ev, cond["not"], entity)
    if "parent" in cond and cond.get("where"):
        _fit(draw, ev, cond["where"], cond["parent"])
    if "members" in cond and cond.get("where"):
        _fit(draw, ev, cond["where"], cond["members"])
    if "property" in cond:
        source = ev.entity_source[entity]
        rows = list(ev.entities(entity).values())
        values = _column_values(ev, [source], lambda _: rows, cond["property"])
        spec = {k: v for k, v in cond.items() if k != "property"}
        _fit_comparison(draw, spec, values)
        cond.update(spec)
    if "sequence" in cond:
        for step in cond["sequence"]["steps"]:
            if step.get("where"):
                sources = [step["source"]] if "source" in step else EVENT_SOURCES[entity]
                _fit_row_cond(draw, ev, step["where"], sources)
    if "event" in cond:
        if cond.get("where"):
            sources = [cond["source"]] if "source" in cond else EVENT_SOURCES[entity]
            _fit_row_cond(draw, ev, cond["where"], sources)
        _fit_measure(draw, ev, cond, entity)


def _fit_measure(draw, ev: _Evaluator, cond: dict, entity: str) -> None:
    """Replace (sometimes) the literals of a numeric measure with values that the
    measure takes for some entity (or a half-integer next to it), so that `gte`/`gt`/...
    split the entities. Only values that are exact in binary floating point are used."""
    measure = next((m for m in _FIT_MEASURES if m in cond), None)
    if measure is None or not draw(st.integers(0, 3)):
        return
    values = set()
    for key, row in ev.entities(entity).items():
        found, value = ev.measure_value(cond, entity, key, row)
        if found and value is not None:
            f = Fraction(value)
            values.add(f if (2 * f).denominator == 1 else Fraction(math.floor(2 * f), 2))
    if not values:
        return
    pool = [int(f) if f.denominator == 1 else float(f) for f in sorted(values)]
    spec = cond[measure]
    for op, lit in list(spec.items()):
        if op in ("of", "is_null"):
            continue
        if op in ("in", "not_in", "between"):
            spec[op] = [draw(st.sampled_from(pool)) for _ in lit]
        else:
            spec[op] = draw(st.sampled_from(pool))
