"""DuckDB: the embedded default; the base class spells almost everything its way."""

from sqlglot import exp

from .base import Dialect


class DuckDB(Dialect):
    name = "duckdb"

    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """A JSON Pointer path (`/a/b`, `~` and `/` escaped as `~0`, `~1`): sqlglot's
        `$."key"` paths do not escape backslashes, so a key ending in one breaks the query."""
        pointer = "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in path)
        return exp.Anonymous(this="json_extract_string",
                             expressions=[column, exp.Literal.string(pointer)])

    def to_number(self, text: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=text, to=self.dtype(self.number_type))


DIALECTS = {"duckdb": DuckDB}
