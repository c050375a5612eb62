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

    def nth_largest(self, value: exp.Expression, n: int) -> exp.Expression:
        """`max(value, n)` keeps the n largest per group, sorted descending: a bounded heap
        per entity, where ROW_NUMBER sorts every row (on 3M anchor events, 0.2 s of CPU
        against 0.8 s)."""
        top = exp.Anonymous(this="MAX", expressions=[value, exp.Literal.number(n)])
        return exp.Bracket(this=top, expressions=[exp.Literal.number(n - 1)])  # 0-based


DIALECTS = {"duckdb": DuckDB}
