"""Spark and Databricks (the session time zone is UTC: the adapter sets it)."""

from __future__ import annotations

from sqlglot import exp

from .base import Dialect


class Spark(Dialect):
    name = sqlglot = "spark"
    text_type = "STRING"
    json_type = "STRING"

    def now(self) -> exp.Expression:
        return exp.CurrentTimestamp()

    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.cast(
            exp.func("CONV", hex_text, exp.Literal.number(16), exp.Literal.number(10)),
            self.dtype(self.bigint_type),
        )


class Databricks(Spark):
    name = sqlglot = "databricks"


DIALECTS = {"spark": Spark, "databricks": Databricks}
