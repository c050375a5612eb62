"""The dialect interface, with DuckDB's spelling as the default.

A subclass overrides only what its engine spells differently. Every method takes and
returns sqlglot expressions; text is produced once, by `sql()`.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect

from ..errors import DefinitionError

if TYPE_CHECKING:
    from ..model.types import Project, Segment


def lit(value: object) -> exp.Expression:
    """A YAML scalar as an SQL literal (never parsed as SQL)."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    return exp.Literal.string(str(value))


def basis_digest(basis: str) -> str:
    """A short, fixed-length stand-in for a row signature's basis (`row_signature`)."""
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


class Dialect:
    name = "duckdb"  # the target type
    sqlglot = "duckdb"  # the sqlglot dialect that writes its SQL
    text_type = "TEXT"
    number_type = "DOUBLE"
    timestamp_type = "TIMESTAMP"
    instant_type = "TIMESTAMPTZ"  # a zone-aware instant: segsql's own timestamps
    bigint_type = "BIGINT"
    row_store = False  # reads whole rows, no min/max per block: plan one fused scan
    text_allows_nul = True  # False: text cannot hold \x00 (refused at compile time)
    name_bytes: int | None = None  # the longest name (a segment's view and column) it keeps
    materialized_ctes = False  # WITH x AS MATERIALIZED (...): computed once, however often read
    # FROM t, LATERAL (a query over t's columns), at any depth of it: a backfill evaluates
    # all its steps in one query (compiler/steps.py)
    lateral_queries = False
    # a UNION of three or more SELECTs is typed pair by pair, left to right: NULL UNION
    # NULL is text, and text does not unite with a number later (Postgres)
    pairwise_union_types = False
    # Snowflake upper-cases unquoted names, Postgres lower-cases them, ClickHouse keeps
    # them: every name is normalised by the engine's own rule (sqlglot's), then quoted, so
    # that `users` in YAML is the table created the ordinary, unquoted way.

    # -- rendering
    def dtype(self, name: str) -> exp.DataType:
        """A type name parsed in this dialect (e.g. ClickHouse's DateTime64(6))."""
        return _parsed_type(name, self.sqlglot).copy()

    def sql(self, expression: exp.Expression, pretty: bool = False) -> str:
        """The text of `expression`, generated without sqlglot's defensive deep copy of
        the tree (half the cost of generating a run's statements). Sound because each
        tree is built for one dialect, and the rewrites sqlglot then makes in place read
        the same when generated again (docs/engines.md#generating-sql)."""
        return expression.sql(dialect=self.sqlglot, pretty=pretty, copy=False)

    def check_text(self, project: Project, segments: list[Segment]) -> None:
        """Refuse, as a DefinitionError naming the place, text of `segments` (and of those
        they reference) that this engine cannot hold (see `text_allows_nul`), and segment
        names longer than it keeps (`name_bytes`: Postgres would cut the view's name)."""
        for seg in segments:
            size = len(seg.name.encode())
            if self.name_bytes is not None and size > self.name_bytes:
                raise DefinitionError(
                    f"segment name '{seg.name}' is {size} bytes long; {self.name} keeps "
                    f"names of at most {self.name_bytes} bytes; choose a shorter one",
                    seg.loc,
                )
        if not self.text_allows_nul:
            from .text import refuse_nul

            refuse_nul(project, segments, self.name)

    def normalize(self, name: str, table: bool = False) -> str:
        """`name` as the engine stores it when written unquoted (Snowflake `USERS`,
        Postgres `users`); `table`: a part of a table name (case-sensitive on BigQuery).
        Also what to look a name up with in the engine's catalog."""
        return _normalized(self.sqlglot, name, table)

    def ident(self, name: str) -> exp.Identifier:
        """A column, alias or schema name: normalised, then quoted."""
        return exp.Identifier(this=self.normalize(name), quoted=True)

    def table(self, *parts: str) -> exp.Table:
        """A quoted, possibly qualified table name, each part normalised."""
        *rest, name = parts
        db = rest[-1] if rest else None
        catalog = rest[-2] if len(rest) > 1 else None

        def part(p: str | None) -> exp.Identifier | None:
            return exp.Identifier(this=self.normalize(p, table=True), quoted=True) if p else None

        return exp.Table(this=part(name), db=part(db), catalog=part(catalog))

    json_type = "JSON"

    def column_type(self, kind: str) -> exp.DataType:
        """A generic column type (TEXT, VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, JSON)."""
        names = {
            "TEXT": self.text_type,
            "VARCHAR": self.text_type,
            "DOUBLE": self.number_type,
            "TIMESTAMP": self.timestamp_type,
            "INSTANT": self.instant_type,
            "JSON": self.json_type,
            "BIGINT": self.bigint_type,
        }
        return self.dtype(names.get(kind, kind))

    def literal(self, value: object, kind: str) -> exp.Expression:
        """A typed literal for a generic column type (fixture and test rows)."""
        if value is None:
            return exp.cast(exp.null(), self.column_type(kind))
        if kind == "TIMESTAMP":
            return self.timestamp(value)  # type: ignore[arg-type]
        if kind == "JSON":
            import json

            text = exp.Literal.string(json.dumps(value, default=str))
            if self.json_type.upper() in ("STRING", "VARCHAR", "TEXT"):
                return text
            return exp.cast(text, self.column_type(kind))
        if kind in ("TEXT", "VARCHAR"):
            return exp.Literal.string(str(value))
        if isinstance(value, datetime):  # a naive UTC value for a zone-aware column
            return self.instant(value)
        return exp.cast(lit(value), self.column_type(kind))

    # -- time
    def timestamp(self, value: datetime) -> exp.Expression:
        """A naive UTC timestamp literal."""
        text = value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
        return exp.cast(exp.Literal.string(text), self.dtype(self.timestamp_type))

    def instant(self, value: datetime) -> exp.Expression:
        """A naive UTC datetime as a literal of `instant_type`, with its offset spelled out,
        so that no session time zone reads it otherwise."""
        text = value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
        return exp.cast(exp.Literal.string(text + "+00:00"), self.dtype(self.instant_type))

    def is_instant(self, type_name: str) -> bool:
        """Does a column of this engine type hold instants (zone-aware), as segsql's own
        timestamps must? (Tables of older versions had plain TIMESTAMPs.)"""
        name = type_name.lower()
        return "with time zone" in name or name == "timestamptz"

    def utc(self, column: exp.Expression) -> exp.Expression:
        """A source column of a zone-aware type read as its instant in UTC, a naive
        timestamp like T (docs/language.md, Sources), whatever the session's zone."""
        zoned = exp.AtTimeZone(this=column, zone=exp.Literal.string("UTC"))
        return exp.cast(zoned, self.dtype(self.timestamp_type), copy=False)

    def now(self) -> exp.Expression:
        """The current time in UTC as a naive timestamp (T of the live views)."""
        return exp.cast(
            exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")),
            self.dtype(self.timestamp_type),
        )

    def shift(self, ts: exp.Expression, amount: int, unit: str) -> exp.Expression:
        """`ts` plus `amount` (may be negative) of SECOND/MINUTE/HOUR/DAY, time of day kept."""
        interval = exp.Interval(this=exp.Literal.string(str(abs(amount))), unit=exp.Var(this=unit))
        node = exp.Sub if amount < 0 else exp.Add
        return node(this=ts, expression=interval)

    # -- JSON and casts
    def json_text(self, column: exp.Expression, path: tuple[str, ...]) -> exp.Expression:
        """The text of a JSON key path (NULL when missing or JSON null)."""
        return exp.JSONExtractScalar(this=column, expression=_json_path(path))

    def to_number(self, text: exp.Expression) -> exp.Expression:
        """Text to a number, NULL when it is not one. A regex-guarded CAST, because sqlglot
        writes TRY_CAST as a plain (failing) CAST for several engines."""
        return exp.Case(
            ifs=[
                exp.If(
                    this=self.matches(text, NUMBER_PATTERN),
                    true=exp.cast(text.copy(), self.dtype(self.number_type)),
                )
            ]
        )

    def to_bool(self, text: exp.Expression) -> exp.Expression:
        """JSON boolean text to a boolean, NULL otherwise."""
        return exp.Case(
            ifs=[
                exp.If(this=text.eq(exp.Literal.string("true")), true=exp.true()),
                exp.If(this=text.eq(exp.Literal.string("false")), true=exp.false()),
            ]
        )

    def to_timestamp(self, text: exp.Expression) -> exp.Expression:
        return exp.TryCast(this=text, to=self.dtype(self.timestamp_type))

    def to_text(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, self.dtype(self.text_type))

    # -- text predicates (% and _ are ordinary characters; regex matches anywhere)
    def contains(self, x: exp.Expression, text: str) -> exp.Expression:
        return exp.GT(
            this=exp.StrPosition(this=x, substr=exp.Literal.string(text)),
            expression=exp.Literal.number(0),
        )

    def starts_with(self, x: exp.Expression, text: str) -> exp.Expression:
        return exp.StartsWith(this=x, expression=exp.Literal.string(text))

    def ends_with(self, x: exp.Expression, text: str) -> exp.Expression:
        return exp.EndsWith(this=x, expression=exp.Literal.string(text))

    def matches(self, x: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=x, expression=exp.Literal.string(pattern))

    # -- holdout: bucket = int(first 7 hex digits of md5(text)) mod 100, on every engine
    def hex_to_int(self, hex_text: exp.Expression) -> exp.Expression:
        return exp.cast(
            exp.DPipe(this=exp.Literal.string("0x"), expression=hex_text),
            self.dtype(self.bigint_type),
        )

    def share_json(self, query: exp.Select, table: str) -> None:
        """Let the JSON keys that `query` reads from columns of `table` (its FROM) share
        one parse per row, where the engine can (see DuckDB)."""

    def md5_hex(self, text: exp.Expression) -> exp.Expression:
        return exp.MD5(this=text)

    def row_signature(self, basis: str, values: list[exp.Expression]) -> exp.Expression:
        """A text that differs, but for hash collisions, between two rows whose `values`
        differ, or with another `basis`: an md5 of the basis's digest and each value
        spelled length:text, or `-` for NULL (so that different rows never spell alike).
        The digest, not the basis: hashing the 2 KB basis of the benchmark's catalogue into
        every row made Postgres's signature diff of 100k users 0.93 s, against 0.46 s."""
        spelled: exp.Expression = exp.Literal.string(basis_digest(basis))
        for value in values:
            text = self.to_text(value)
            part = exp.DPipe(
                this=exp.DPipe(
                    this=self.to_text(exp.Length(this=text)),
                    expression=exp.Literal.string(":"),
                    safe=True,
                ),
                expression=text.copy(),
                safe=True,
            )
            spelled = exp.DPipe(
                this=spelled,
                expression=exp.Coalesce(this=part, expressions=[exp.Literal.string("-")]),
                safe=True,
            )
        return self.md5_hex(spelled)

    def holdout_bucket(self, text: exp.Expression) -> exp.Expression:
        prefix = exp.Substring(
            this=self.md5_hex(text), start=exp.Literal.number(1), length=exp.Literal.number(7)
        )
        return exp.Mod(
            this=exp.paren(self.hex_to_int(prefix), copy=False), expression=exp.Literal.number(100)
        )


@functools.lru_cache(maxsize=65536)
def _normalized(dialect: str, name: str, table: bool) -> str:
    node = exp.Identifier(this=name, quoted=False)
    if table:
        node.meta["is_table"] = True  # BigQuery: table names keep their case
    return SqlglotDialect.get_or_raise(dialect).normalize_identifier(node).name


@functools.lru_cache(maxsize=256)
def _parsed_type(name: str, dialect: str) -> exp.DataType:
    """Parsed once: a run asks for the same few types thousands of times (one parse each
    cost a tenth of a backfill step); callers get a copy, since trees are mutated."""
    return exp.DataType.build(name, dialect=dialect)


NUMBER_PATTERN = r"^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$"


def _json_path(path: tuple[str, ...]) -> exp.JSONPath:
    parts: list[exp.Expression] = [exp.JSONPathRoot()]
    parts += [exp.JSONPathKey(this=key) for key in path]
    return exp.JSONPath(expressions=parts)
