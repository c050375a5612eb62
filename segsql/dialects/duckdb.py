"""DuckDB: the embedded default; the base class spells almost everything its way."""

from sqlglot import exp

from .base import Dialect


class DuckDB(Dialect):
    name = "duckdb"

    def to_number(self, text: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=text, to=self.dtype(self.number_type))


DIALECTS = {"duckdb": DuckDB}
