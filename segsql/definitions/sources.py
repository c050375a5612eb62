"""The `sources:` of a project: entity tables and event streams."""

from __future__ import annotations

from typing import Any

from ..errors import DefinitionError, Location
from ..model.types import Source
from .values import IDENTIFIER, check_keys, expect_list, expect_map, parse_duration


def parse_source(name: Any, m: Any, loc: Location) -> Source:
    ctx = f"source '{name}'"
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise DefinitionError("a source name must be a plain identifier", loc, ctx)
    m = expect_map(m, loc, ctx)
    is_events = "events_of" in m
    allowed = (
        (
            "table",
            "events_of",
            "key",
            "event",
            "timestamp",
            "json",
            "description",
            "loaded_at",
            "lookback",
        )
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
    lookback = None
    if "lookback" in m and str(m["lookback"]).strip() not in ("0", "0s", "0m", "0h", "0d", "0w"):
        lookback = parse_duration(m["lookback"], m.loc_of("lookback"), "lookback")
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
        loaded_at=ident("loaded_at"),
        lookback=lookback,
    )
