"""ClickHouse. Checked on chdb 4.4 (ClickHouse 26.9); the traps are noted where avoided.

Timestamps are `DateTime64(6, 'UTC')`: sqlglot's TIMESTAMP is `DateTime` (whole seconds),
and a type without a zone reads literals in the session's zone. The adapter also sets
`session_timezone = 'UTC'`. Without `join_use_nulls = 1` an unmatched LEFT JOIN row holds
0 and '' instead of NULL: every query with an outer join carries it (see `sql`).
"""

from __future__ import annotations

from sqlglot import exp

from .base import NUMBER_PATTERN, Dialect

# The ISO forms every engine reads the same way (a date, or a date and a time).
ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$"


class ClickHouse(Dialect):
    name = sqlglot = "clickhouse"
    text_type = "String"
    json_type = "String"
    number_type = "Float64"
    timestamp_type = "DateTime64(6, 'UTC')"
    instant_type = timestamp_type  # an instant already (Unix time), shown in UTC
    bigint_type = "Int64"

    def sql(self, expression: exp.Expression, pretty: bool = False) -> str:
        """Two fixes on the way out, so that every statement is right in any session:
        - `CAST(NULL AS T)` fails unless T is Nullable, and sqlglot wraps only the types it
          did not parse as ClickHouse types: a NULL cast is made Nullable;
        - a query with an outer join gets `SETTINGS join_use_nulls = 1` (it then applies to
          the whole query, subqueries and a view's later reads included)."""
        tree = expression.transform(_nullable_null_cast)
        query = tree if isinstance(tree, exp.Select) else tree.args.get("expression")
        if isinstance(query, exp.Select) and any(j.side for j in query.find_all(exp.Join)):
            settings = list(query.args.get("settings") or [])
            if not any(s.this.name == "join_use_nulls" for s in settings):
                settings.append(
                    exp.EQ(this=exp.column("join_use_nulls"), expression=exp.Literal.number(1))
                )
                query.set("settings", settings)
        return tree.sql(dialect=self.sqlglot, pretty=pretty, copy=False)  # transform() copied

    def column_type(self, kind: str) -> exp.DataType:
        """Table columns may hold NULL (a ClickHouse type without Nullable cannot)."""
        dtype = super().column_type(kind)
        if not dtype.is_type(*NON_NULLABLE):
            dtype.set("nullable", True)
        return dtype

    # -- time
    def instant(self, value):
        return self.timestamp(value)

    def is_instant(self, type_name: str) -> bool:
        return "DateTime" in type_name

    def utc(self, column: exp.Expression) -> exp.Expression:
        """DateTime values are instants and compare as such; shown in UTC, so that a union
        of sources in different zones has one type."""
        return exp.func("toTimeZone", column, exp.Literal.string("UTC"))

    def now(self) -> exp.Expression:
        return exp.func("now64", exp.Literal.number(6), exp.Literal.string("UTC"))

    def to_timestamp(self, text: exp.Expression) -> exp.Expression:
        """A CAST to a Nullable type is no TRY_CAST here (a bad value fails the query, or
        with chdb's best_effort input format, `12` is the 12th of this month). Same ISO
        guard as Postgres, then a parser that returns NULL instead of failing."""
        return exp.Case(
            ifs=[
                exp.If(
                    this=self.matches(text, ISO_TIMESTAMP),
                    true=exp.func(
                        "parseDateTime64BestEffortOrNull",
                        text.copy(),
                        exp.Literal.number(6),
                        exp.Literal.string("UTC"),
                    ),
                )
            ]
        )

    # -- JSON and casts
    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """`JSONExtract(col, 'a', 'b', 'Nullable(String)')`: a string's text, a number's or
        boolean's JSON text, NULL when missing or JSON null. sqlglot's JSONExtractString
        gives '' for missing keys and JSON null, and '' for numbers and booleans."""
        keys = [exp.Literal.string(k) for k in path]
        return exp.Anonymous(
            this="JSONExtract",
            expressions=[column, *keys, exp.Literal.string("Nullable(String)")],
        )

    def to_number(self, text: exp.Expression) -> exp.Expression:
        """The shared guard, then `toFloat64OrNull`: ClickHouse may evaluate a CASE branch
        for every row, so the branch itself must not fail."""
        return exp.Case(
            ifs=[
                exp.If(
                    this=self.matches(text, NUMBER_PATTERN),
                    true=exp.func("toFloat64OrNull", text.copy()),
                )
            ]
        )

    def to_text(self, value: exp.Expression) -> exp.Expression:
        """Nullable: `CAST(NULL AS String)` fails the whole query (a NULL key, say)."""
        dtype = self.dtype(self.text_type)
        dtype.set("nullable", True)
        return exp.cast(value, dtype)

    # -- holdout
    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        """7 hex digits, padded to 8 (whole bytes), read as a big-endian integer."""
        padded = exp.func("concat", exp.Literal.string("0"), hex_text)
        return exp.func("reinterpretAsUInt64", exp.func("reverse", exp.func("unhex", padded)))


NON_NULLABLE = (exp.DType.ARRAY, exp.DType.MAP, exp.DType.STRUCT)


def _nullable_null_cast(node: exp.Expression) -> exp.Expression:
    if (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.Null)
        and isinstance(node.to, exp.DataType)
        and not node.to.is_type(*NON_NULLABLE)
    ):
        node.to.set("nullable", True)
    return node
