"""ClickHouse (the session time zone is UTC: the adapter sets it)."""

from __future__ import annotations

from sqlglot import exp

from .base import Dialect


class ClickHouse(Dialect):
    name = sqlglot = "clickhouse"
    text_type = "String"
    json_type = "String"
    number_type = "Float64"
    timestamp_type = "DateTime64(6)"
    bigint_type = "Int64"
    supports_transactions = False

    def now(self) -> exp.Expression:
        return exp.cast(
            exp.func("now64", exp.Literal.number(6), exp.Literal.string("UTC")),
            self.dtype(self.timestamp_type),
        )

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.func("reinterpretAsUInt64", exp.func("reverse", exp.func("unhex", hex_text)))


DIALECTS = {"clickhouse": ClickHouse}
