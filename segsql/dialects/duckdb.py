"""DuckDB: the embedded default; the base class already spells everything its way."""

from .base import Dialect


class DuckDB(Dialect):
    name = "duckdb"


DIALECTS = {"duckdb": DuckDB}
