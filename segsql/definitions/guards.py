"""The guardrail keys (SPEC section 14): `suppressions:` (a top-level key), and on a
segment `ignore_suppressions`, `priority_group`, `priority`, `reentry_cooldown`,
`min_membership`, `max_exit_share` and `goal`. Cross-segment checks (unknown
suppressions, equal priorities) are in `check_guards`, after every file is read."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..errors import DefinitionError, Location, did_you_mean
from ..model.types import Goal, Segment, Source, Suppression
from .conditions import ConditionParser
from .values import check_keys, expect_map, kind_of, parse_duration
from .yaml import YMap

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SUPPRESSION_KEYS = ("name", "entity", "description", "where")
GUARD_KEYS = (
    "ignore_suppressions",
    "priority_group",
    "priority",
    "reentry_cooldown",
    "min_membership",
    "max_exit_share",
    "goal",
)
GOAL_KEYS = ("event", "source", "where", "within")


def _name(value: Any, loc: Location, what: str, ctx: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise DefinitionError(
            f"invalid {what} {value!r}: expected lowercase letters, digits and _ "
            "starting with a letter",
            loc,
            ctx,
        )
    return value


def parse_suppression(
    node: Any, loc: Location, sources: dict[str, Source], sql_dialect: str
) -> Suppression:
    m = expect_map(node, loc, "a suppression")
    name = m.get("name")
    ctx = f"suppression '{name}'" if name else "suppression"
    check_keys(m, SUPPRESSION_KEYS, ctx, required=("name", "where"))
    name = _name(name, m.loc_of("name"), "suppression name", ctx)
    entity = m.get("entity", "user")
    if not isinstance(entity, str):
        raise DefinitionError("'entity' expects an entity type", m.loc_of("entity"), ctx)
    parser = ConditionParser(sources, name, sql_dialect)
    parser.entity_source(entity, m.loc_of("entity"))
    where = parser.condition(m["where"], m.loc_of("where"), entity)
    if parser.references:
        _, ref_loc, _ = parser.references[0]
        raise DefinitionError(
            "a suppression cannot use 'in_segment' (segments are evaluated after suppressions)",
            ref_loc,
            ctx,
        )
    if "description" in m and not isinstance(m["description"], str):
        raise DefinitionError("'description' expects text", m.loc_of("description"), ctx)
    return Suppression(
        name, entity, where, (m.get("description") or "").strip(), loc=m.loc_of("name")
    )


def parse_guards(m: YMap, ctx: str, entity: str, parser: ConditionParser) -> dict[str, Any]:
    """The guardrail fields of a segment (keyword arguments of `Segment`)."""
    out: dict[str, Any] = {}
    if "ignore_suppressions" in m:
        value = m["ignore_suppressions"]
        value = [value] if isinstance(value, str) else value
        loc = m.loc_of("ignore_suppressions")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DefinitionError(
                f"'ignore_suppressions' expects a list of suppression names, got {kind_of(value)}",
                loc,
                ctx,
            )
        out["ignore_suppressions"] = tuple(value)
    if "priority_group" in m:
        out["priority_group"] = _name(
            m["priority_group"], m.loc_of("priority_group"), "priority_group", ctx
        )
    if "priority" in m:
        value = m["priority"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise DefinitionError(
                f"'priority' expects a whole number (lower wins), got {kind_of(value)}",
                m.loc_of("priority"),
                ctx,
            )
        if "priority_group" not in m:
            raise DefinitionError(
                "'priority' needs a 'priority_group' (the group it ranks the segment in)",
                m.loc_of("priority"),
                ctx,
            )
        out["priority"] = value
    elif "priority_group" in m:
        raise DefinitionError(
            "'priority_group' needs a 'priority' (a whole number, lower wins)",
            m.loc_of("priority_group"),
            ctx,
        )
    for key in ("reentry_cooldown", "min_membership"):
        if key in m:
            out[key] = parse_duration(m[key], m.loc_of(key), key)
    if "max_exit_share" in m:
        out["max_exit_share"] = parse_exit_share(m["max_exit_share"], m.loc_of("max_exit_share"))
    if "goal" in m:
        out["goal"] = _goal(m["goal"], m.loc_of("goal"), entity, parser, ctx)
    out["key_locs"] = tuple((k, m.loc_of(k)) for k in GUARD_KEYS if k in m)
    return out


def parse_exit_share(value: Any, loc: Location | None, ctx: str | None = None) -> float:
    """`max_exit_share`: a percentage from 0 to 100."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 100:
        raise DefinitionError(
            f"'max_exit_share' expects a percentage from 0 to 100, got {value!r}", loc, ctx
        )
    return float(value)


def _goal(node: Any, loc: Location, entity: str, parser: ConditionParser, ctx: str) -> Goal:
    m = expect_map(node, loc, "'goal'")
    check_keys(m, GOAL_KEYS, f"{ctx}: goal", required=("event", "within"))
    names = parser._event_names(m["event"], m.loc_of("event"))
    sources = parser.event_sources(entity, m.get("source"), m.loc_of("source"))
    where = (
        parser.condition(
            m["where"], m.loc_of("where"), entity, events=[parser.sources[s] for s in sources]
        )
        if "where" in m
        else None
    )
    within = parse_duration(m["within"], m.loc_of("within"), "goal.within")
    return Goal(names, sources, where, within)


def check_guards(
    segments: dict[str, Segment], suppressions: dict[str, Suppression]
) -> dict[str, Segment]:
    """Unknown names in `ignore_suppressions`, suppressions of another entity type, equal
    priorities in one group; returns the segments with `outranked_by` filled in."""
    for seg in segments.values():
        ctx = f"segment '{seg.name}'"
        seen: set[str] = set()
        for name in seg.ignore_suppressions:
            if name in seen:
                raise DefinitionError(
                    f"'ignore_suppressions' names '{name}' twice",
                    seg.loc_of("ignore_suppressions"),
                    ctx,
                )
            seen.add(name)
            if name not in suppressions:
                raise DefinitionError(
                    f"'ignore_suppressions': unknown suppression '{name}'"
                    f"{did_you_mean(name, suppressions)}; expected one of: "
                    + (", ".join(suppressions) or "(none defined)"),
                    seg.loc_of("ignore_suppressions"),
                    ctx,
                )
            if suppressions[name].entity != seg.entity:
                raise DefinitionError(
                    f"'ignore_suppressions': '{name}' is a suppression of "
                    f"'{suppressions[name].entity}', not '{seg.entity}'",
                    seg.loc_of("ignore_suppressions"),
                    ctx,
                )
    groups: dict[str, list[Segment]] = {}
    for seg in segments.values():
        if seg.priority_group is not None and seg.enabled:
            groups.setdefault(seg.priority_group, []).append(seg)
    out = dict(segments)
    for group, members in groups.items():
        by_priority: dict[int, Segment] = {}
        for seg in members:
            other = by_priority.get(seg.priority)  # type: ignore[arg-type]
            if other is not None:
                raise DefinitionError(
                    f"priority_group '{group}': segments '{other.name}' and '{seg.name}' "
                    f"both have priority {seg.priority}; priorities in a group must differ",
                    seg.loc_of("priority"),
                    f"segment '{seg.name}'",
                )
            if other is None and members[0].entity != seg.entity:
                raise DefinitionError(
                    f"priority_group '{group}' mixes entity types "
                    f"('{members[0].entity}' and '{seg.entity}')",
                    seg.loc,
                    f"segment '{seg.name}'",
                )
            by_priority[seg.priority] = seg  # type: ignore[index]
        ranked = sorted(members, key=lambda s: s.priority)  # type: ignore[arg-type, return-value]
        for i, seg in enumerate(ranked):
            out[seg.name] = replace(seg, outranked_by=tuple(s.name for s in ranked[:i]))
    return out
