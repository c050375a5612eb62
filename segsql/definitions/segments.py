"""Segments and test fixtures."""

from __future__ import annotations

import re
from typing import Any

from ..errors import DefinitionError, Location
from ..model.types import Fixture, Segment, Source
from .conditions import ConditionParser
from .guards import GUARD_KEYS, parse_guards
from .values import check_keys, expect_list, expect_map, parse_duration, parse_timestamp

SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FILE_KEYS = ("sources", "segments", "tests", "suppressions")


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
    *GUARD_KEYS,
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
        **parse_guards(m, ctx, entity, parser),
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
