"""Compile-only targets: Snowflake, BigQuery, Trino."""

from __future__ import annotations

from sqlglot import exp

from .base import Dialect


class Snowflake(Dialect):
    name = sqlglot = "snowflake"
    text_type = "VARCHAR"
    instant_type = "TIMESTAMP_TZ"

    def matches(self, x: exp.Expression, pattern: str) -> exp.Expression:
        """Snowflake's REGEXP_LIKE must match the whole value; REGEXP_INSTR finds it anywhere."""
        return exp.GT(
            this=exp.RegexpInstr(this=x, expression=exp.Literal.string(pattern)),
            expression=exp.Literal.number(0),
        )

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.func("TO_NUMBER", hex_text, exp.Literal.string("XXXXXXX"))


class BigQuery(Dialect):
    name = sqlglot = "bigquery"
    text_type = "STRING"
    number_type = "FLOAT64"
    timestamp_type = "DATETIME"
    bigint_type = "INT64"
    instant_type = "TIMESTAMP"  # BigQuery's TIMESTAMP is an instant

    def to_number(self, text: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=text, to=self.dtype(self.number_type))

    def now(self) -> exp.Expression:
        return exp.func("CURRENT_DATETIME", exp.Literal.string("UTC"))


class Trino(Dialect):
    name = sqlglot = "trino"
    text_type = "VARCHAR"
    instant_type = "TIMESTAMP(6) WITH TIME ZONE"

    def to_number(self, text: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=text, to=self.dtype(self.number_type))

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.func("FROM_BASE", hex_text, exp.Literal.number(16))
