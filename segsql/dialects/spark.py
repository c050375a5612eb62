"""Spark and Databricks (the session time zone is UTC: the adapter sets it).

Traps (pyspark 4.3, sqlglot 30.30):
- ANSI mode is on: a bad CAST raises. Numbers keep the base regex guard; timestamps use
  TRY_CAST, which sqlglot writes for Spark only when the node says `safe=True` (a plain
  exp.TryCast becomes CAST).
- GET_JSON_OBJECT paths: sqlglot writes a key holding `'` as `$['a\\'b']`, which Spark's
  path parser cannot read (a bracketed key ends at the first `'`): paths are written here.
- Intervals: `ts - INTERVAL '30' DAY` (the base `shift`) keeps the time of day;
  exp.DateSub becomes DATE_ADD, which returns a DATE.
"""

from __future__ import annotations

from sqlglot import exp

from .base import Dialect

# Spark casts '2026' and '2026-03' to timestamps; segsql (and every other engine) wants
# a full date first. TRY_CAST turns the rest (a bad month, trailing junk) into NULL.
ISO_DATE_PREFIX = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]|\s*$)"


class Spark(Dialect):
    name = sqlglot = "spark"
    text_type = "STRING"
    json_type = "STRING"
    instant_type = "TIMESTAMP"  # Spark's TIMESTAMP is an instant (TIMESTAMP_NTZ is not)

    def is_instant(self, type_name: str) -> bool:
        return type_name.lower() in ("timestamp", "timestamptype()")

    def utc(self, column: exp.Expression) -> exp.Expression:
        """TIMESTAMP values are instants, compared with T in the session's zone, which the
        adapter sets to UTC (TIMESTAMP_NTZ is no instant: read as UTC like elsewhere)."""
        return column

    def now(self) -> exp.Expression:
        return exp.CurrentTimestamp()

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """GET_JSON_OBJECT with the path spelled for Spark's parser: `.key` reads up to the
        next `.` or `[`, `['key']` up to the next `'`, and `*` is a wildcard in both. A key
        that fits neither is looked up in FROM_JSON(.., 'MAP<STRING, STRING>'), which
        gives the same text (nested objects as JSON, JSON null as NULL)."""
        value, steps = column, ""
        for key in path:
            if "[" not in key and not key.startswith("*"):
                steps += "." + key
            elif "'" not in key and key != "*":
                steps += "['" + key + "']"
            else:
                if steps:
                    value, steps = _get_json_object(value, steps), ""
                as_map = exp.func("FROM_JSON", value, exp.Literal.string("MAP<STRING, STRING>"))
                value = exp.Bracket(this=as_map, expressions=[exp.Literal.string(key)])
        return _get_json_object(value, steps) if steps else value

    def to_timestamp(self, text: exp.Expression) -> exp.Expression:
        return exp.Case(
            ifs=[
                exp.If(
                    this=self.matches(text, ISO_DATE_PREFIX),
                    true=exp.TryCast(
                        this=text.copy(), to=self.dtype(self.timestamp_type), safe=True
                    ),
                )
            ]
        )

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.cast(
            exp.func("CONV", hex_text, exp.Literal.number(16), exp.Literal.number(10)),
            self.dtype(self.bigint_type),
        )


def _get_json_object(value: exp.Expression, steps: str) -> exp.Expression:
    return exp.func("GET_JSON_OBJECT", value, exp.Literal.string("$" + steps))


class Databricks(Spark):
    name = sqlglot = "databricks"
