"""Values in segment files: mappings and lists with their places, durations, timestamps,
comparisons. Every error names the file, line and field, says what was expected, and
suggests the closest valid word."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from ..clock import parse_instant
from ..errors import DefinitionError, Location, did_you_mean
from ..model.types import TEXT_OPS, Duration, Test
from .yaml import YList, YMap

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
MAX_DURATION_DAYS = 36500  # 100 years: every engine's interval and Python's datetime hold it


def loc_of(node: Any, default: Location) -> Location:
    return getattr(node, "loc", default)


def expect_map(node: Any, loc: Location, what: str) -> YMap:
    if not isinstance(node, dict):
        raise DefinitionError(f"expected a mapping for {what}, got {kind_of(node)}", loc)
    return node  # type: ignore[return-value]


def expect_list(node: Any, loc: Location, what: str) -> YList:
    if not isinstance(node, list):
        raise DefinitionError(f"expected a list for {what}, got {kind_of(node)}", loc)
    return node  # type: ignore[return-value]


def kind_of(value: Any) -> str:
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
    if not isinstance(value, (str, date)):
        raise DefinitionError(
            f"'{field}' expects an ISO date or timestamp, got {kind_of(value)}", loc
        )
    try:
        return parse_instant(value)
    except OverflowError:
        shown = value.isoformat() if isinstance(value, datetime) else value
        raise DefinitionError(f"'{field}' is out of range in UTC: {shown!r}", loc) from None
    except ValueError:
        raise DefinitionError(
            f"'{field}' expects an ISO date or timestamp like 2026-01-31 or "
            f"2026-01-31T12:00:00, got {value!r}",
            loc,
        ) from None


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
        f"'{field}' expects a text, number, boolean or timestamp, got {kind_of(value)}", loc
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
            raise DefinitionError(f"'{op}' expects text, got {kind_of(value)}", loc)
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
            raise DefinitionError(f"'is_null' expects true or false, got {kind_of(value)}", loc)
        return value
    if op in ("within", "older_than"):
        return parse_duration(value, loc, op)
    if op in ("before", "after"):
        return parse_timestamp(value, loc, op)
    return _scalar(value, loc, op)
