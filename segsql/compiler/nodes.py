"""Node helpers: fresh sqlglot nodes built without copying, and the names the rendered
SQL uses for its generated columns and aliases.

Column and alias names go through the dialect (`Names`, a base of the renderer): each is
normalised by the engine's case rule, then quoted (`Dialect.ident`), so that `user_id`
in YAML is Snowflake's USER_ID, the column an ordinary, unquoted CREATE TABLE made. The
module-level `ident`, `col` and `alias` keep a name as written (for callers without a
dialect); the renderer never uses them.

sqlglot's convenience builders (`exp.alias_`, `exp.func`, operators, `.subquery()`)
deep-copy their arguments by default, which made compiling a thousand segments take
seconds. Every node built here is fresh, so a subtree that appears twice is built twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sqlglot import exp

from ..model.types import Source

if TYPE_CHECKING:
    from ..dialects.base import Dialect

KEY = "segsql_k"  # the entity key column of every feature subquery
EVENT = "segsql_event"
TS = "segsql_ts"
ENTITY = "_e"  # alias of the entity table (no segment name starts with `_`)
EV = "ev"  # alias of event rows
SRC = "segsql_src"  # which source a row of a tagged union comes from (its index)
ENTITY_ID = "entity_id"  # the id column of a view (its key in the key's own type)
# the id column of an evaluation query: no segment name starts with `segsql_`, so no
# segment's output column can take it
EVALUATION_ID = "segsql_entity_id"


def ident(name: str) -> exp.Identifier:
    """A quoted name, as written (not normalised: see `Names`)."""
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A column named as written (not normalised: see `Names.col`)."""
    return exp.Column(this=ident(name), table=_table_ident(table))


def _table_ident(table: str | None) -> exp.Identifier | None:
    """A table alias (`e`, `ev`, `s1` ...): unquoted, so the engine normalises it alike
    wherever it appears."""
    return exp.Identifier(this=table, quoted=False) if table else None


def alias(node: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=node, alias=ident(name))


def table_alias(node: exp.Expression, name: str) -> exp.Expression:
    """`node AS name` for a table or a subquery (no copy)."""
    if isinstance(node, exp.Query):
        return exp.Subquery(this=node, alias=exp.TableAlias(this=exp.to_identifier(name)))
    node.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
    return node


def coalesce(node: exp.Expression, default: exp.Expression) -> exp.Coalesce:
    return exp.Coalesce(this=node, expressions=[default])


def and_(*parts: exp.Expression) -> exp.Expression:
    return exp.and_(*parts, copy=False)


def or_(*parts: exp.Expression) -> exp.Expression:
    return exp.or_(*parts, copy=False)


def not_(node: exp.Expression) -> exp.Expression:
    return exp.Not(this=node)


def paren(node: exp.Expression) -> exp.Expression:
    return exp.Paren(this=node)


def is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=node, expression=exp.Null())


def present(node: exp.Expression) -> exp.Expression:
    """NOT node IS NULL."""
    return exp.Not(this=is_null(node))


def isin(node: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
    return exp.In(this=node, expressions=[exp.Literal.string(v) for v in values])


def select(*projections: exp.Expression) -> exp.Select:
    return exp.Select(expressions=list(projections))


def join(
    query: exp.Select, other: exp.Expression, on: exp.Expression, side: str | None = None
) -> exp.Select:
    """query [LEFT] JOIN other ON on (the `.join()` builder parses its join type as SQL)."""
    query.append("joins", exp.Join(this=other, on=on, side=side))
    return query


class RelCols(NamedTuple):
    """Fresh columns of the event rows `ev`: the entity key, the event name, the time."""

    key: exp.Column
    event: exp.Column
    ts: exp.Expression  # an instant in UTC (a zone-aware column converted)


class Names:
    """Column and alias names for the dialect `d`: every name the SQL gives a column
    (a source's, a segment's, a generated one) normalised, then quoted."""

    d: Dialect

    def name(self, name: str) -> str:
        """`name` as the engine stores it: the name of `col(name)`."""
        return self.d.normalize(name)

    def col(self, name: str, table: str | None = None) -> exp.Column:
        return exp.Column(this=self.d.ident(name), table=_table_ident(table))

    def alias(self, node: exp.Expression, name: str) -> exp.Alias:
        return exp.Alias(this=node, alias=self.d.ident(name))

    def read(self, src: Source, column: str, table: str | None = None) -> exp.Expression:
        """`src`'s column, read as its instant in UTC if of a zone-aware type."""
        node = self.col(column, table)
        return self.d.utc(node) if column in src.zone_aware else node

    def rel_cols(self, single: Source | None) -> RelCols:
        """The key, event and timestamp columns of `ev`: a single source's own names, or
        the standard names of a union of sources (`single` None)."""
        if single is None:
            return RelCols(self.col(KEY, EV), self.col(EVENT, EV), self.col(TS, EV))
        return RelCols(
            self.col(single.key, EV),
            self.col(single.event, EV),  # type: ignore[arg-type]
            self.read(single, single.timestamp, EV),  # type: ignore[arg-type]
        )

    def ev_columns(self, *nodes: exp.Expression) -> set[str]:
        """Names (normalised) of the columns of event rows (`ev`) that `nodes` read,
        beyond key, event and timestamp."""
        standard = {self.name(KEY), self.name(EVENT), self.name(TS)}
        return {c.name for n in nodes for c in n.find_all(exp.Column) if c.table == EV} - standard
