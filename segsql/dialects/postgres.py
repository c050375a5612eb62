"""Postgres and Redshift."""

from __future__ import annotations

from sqlglot import exp

from .base import Dialect


class Postgres(Dialect):
    name = sqlglot = "postgres"
    row_store = True
    number_type = "DOUBLE PRECISION"
    text_allows_nul = False  # and libpq cuts a statement at one (Redshift: the same)
    name_bytes = 63  # NAMEDATALEN - 1: longer names are cut, silently
    materialized_ctes = True  # (12 and later)
    lateral_queries = True  # run once per row of t, within the one statement
    pairwise_union_types = True

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """`col #>> '{a,b}'`: one operator for both json and jsonb columns (sqlglot's
        JSON_EXTRACT_PATH_TEXT is json-only, and its jsonb path rendering drops the commas)."""
        keys = ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in path)
        return exp.JSONBExtractScalar(this=column, expression=exp.Literal.string("{" + keys + "}"))

    def to_timestamp(self, text: exp.Expression) -> exp.Expression:
        iso = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$"
        return exp.Case(
            ifs=[
                exp.If(
                    this=self.matches(text, iso),
                    true=exp.cast(text.copy(), self.dtype(self.timestamp_type)),
                )
            ]
        )

    def ends_with(self, x: exp.Expression, text: str) -> exp.Expression:
        """Postgres has starts_with() but no ends_with()."""
        return exp.EQ(
            this=exp.Right(this=x, expression=exp.Literal.number(len(text))),
            expression=exp.Literal.string(text),
        )

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        bits = exp.cast(exp.DPipe(this=exp.Literal.string("x"), expression=hex_text), "BIT(28)")
        return exp.cast(bits, "INT")


class Redshift(Postgres):
    name = sqlglot = "redshift"
    row_store = False  # columnar
    text_type = "VARCHAR(65535)"
    name_bytes = 127
    materialized_ctes = False
    lateral_queries = False

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        # exp.func would map this to a two-argument node and drop every key after the first
        return exp.Anonymous(
            this="JSON_EXTRACT_PATH_TEXT",
            expressions=[column, *(exp.Literal.string(k) for k in path)],
        )

    def starts_with(self, x: exp.Expression, text: str) -> exp.Expression:
        """sqlglot writes STARTS_WITH as LIKE 'v' || '%', wrong when v holds % or _."""
        return exp.EQ(
            this=exp.Left(this=x, expression=exp.Literal.number(len(text))),
            expression=exp.Literal.string(text),
        )

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.func("STRTOL", hex_text, exp.Literal.number(16))
