"""The adapter interface and the generic (transactional SQL) implementation.

An adapter receives sqlglot trees and turns them into text only here, at the edge.
What an engine can do is declared once, as class attributes that this base class reads:
`SUPPORTS_TRANSACTIONS` picks the write strategy - one transaction per write (the
statements of state/writes.py and state/batch.py) or, without transactions, the ordered
writes and crash recovery of swap.py, for which the engine implements
`replace_segment_memberships` and `delete_rows`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlglot import exp

from ..clock import utc_naive
from ..dialects import get_dialect
from ..dialects.base import Dialect, lit
from ..state import faults
from ..state.batch import (
    batch_change_rows,
    batch_changes,
    batch_counts,
    batch_drop_exited,
    batch_entered_rows,
    batch_run_rows,
    batch_set_run,
)
from ..state.tables import (
    CHANGES,
    MEMBERSHIPS,
    RUNS,
    UPGRADE_DEFAULTS,
    SegmentRun,
    c,
    columns_of,
    insert,
)
from ..state.writes import change_rows, delete_segment, next_memberships, run_row
from . import swap

log = logging.getLogger("segsql.sql")


def set_statement(name: str, value: Any) -> exp.Set:
    """`SET name = value`, a session setting, as a tree (a constant becomes a literal)."""
    value = value if isinstance(value, exp.Expression) else lit(value)
    return exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.var(name), expression=value))])


class Adapter:
    default_schema = "main"  # where an unqualified source table lives
    SUPPORTS_TRANSACTIONS = True  # multi-statement transactions with DELETE
    # DELETE removes rows in place: interrupted, it loses no row it does not match (not
    # so where a table is rewritten whole: Spark's parquet tables, see spark.py)
    DELETES_IN_PLACE = True
    # set by the runner around a batched write: writes the kept state (runner/incremental.py)
    state_write: Callable[[], None] | None = None

    def __init__(self, target: Any, lock_timeout: float = 0):
        self.target = target
        self.lock_timeout = lock_timeout  # seconds `run_lock` waits for another run
        self.dialect: Dialect = get_dialect(target.type)
        self.schema: str = target.schema

    # -- primitives an engine implements
    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def _fetch(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def begin(self) -> None:
        self._execute("BEGIN")

    def commit(self) -> None:
        self._execute("COMMIT")

    def rollback(self) -> None:
        self._execute("ROLLBACK")

    def close(self) -> None:
        pass

    # -- generic
    def sql(self, expression: exp.Expression) -> str:
        return self.dialect.sql(expression)

    def execute(self, expression: exp.Expression) -> None:
        text = self.sql(expression)
        log.debug("%s", text)
        self._execute(text)

    def fetch(self, expression: exp.Expression) -> list[tuple]:
        """Rows of a query; datetimes come back naive UTC, whatever the engine's zone."""
        text = self.sql(expression)
        log.debug("%s", text)
        return [tuple(utc_naive(v) for v in row) for row in self._fetch(text)]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; without them, statements take effect one by one (and
        `recover()` repairs an interrupted write)."""
        if not self.SUPPORTS_TRANSACTIONS:
            yield
            return
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def table(self, name: str) -> exp.Table:
        """A table in segsql's own schema."""
        return self.dialect.table(self.schema, name)

    def relation_columns(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        """{column name: engine type name} of a table or view, in column order, or None
        when it does not exist."""
        *rest, name = parts
        schema = rest[-1] if rest else self.default_schema
        query = (
            exp.select(exp.column("column_name"), exp.column("data_type"))
            .from_(exp.table_("columns", db="information_schema"))
            .where(
                exp.and_(
                    exp.column("table_schema").eq(exp.Literal.string(schema)),
                    exp.column("table_name").eq(exp.Literal.string(name)),
                )
            )
            .order_by(exp.column("ordinal_position"))
        )
        return {name: kind for name, kind in self.fetch(query)} or None

    def view_names(self) -> set[str]:
        """The names (as the engine stores them) of the views in segsql's schema."""
        query = (
            exp.select(exp.column("table_name"))
            .from_(exp.table_("tables", db="information_schema"))
            .where(
                exp.and_(
                    exp.column("table_schema").eq(lit(self.dialect.normalize(self.schema))),
                    exp.column("table_type").eq(lit("VIEW")),
                )
            )
        )
        return {name for (name,) in self.fetch(query)}

    def schema_exists(self) -> bool:
        query = (
            exp.select(exp.column("schema_name"))
            .from_(exp.table_("schemata", db="information_schema"))
            .where(exp.column("schema_name").eq(lit(self.dialect.normalize(self.schema))))
        )
        return bool(self.fetch(query))

    def create_schema(self) -> None:
        """segsql's schema, unless it exists (then no CREATE rights are needed)."""
        if not self.schema_exists():
            self.execute(
                exp.Create(
                    this=exp.Table(this=self.dialect.ident(self.schema)),
                    kind="SCHEMA",
                    exists=True,
                )
            )

    def upgrade_table(
        self, table: exp.Table, columns: list[tuple[str, str]], found: dict[str, str]
    ) -> None:
        """Bring a table an older segsql made up to `columns`, in place: missing columns
        are added (old rows get UPGRADE_DEFAULTS, else NULL), plain TIMESTAMPs that must
        hold instants become the zone-aware type (their values read as UTC). Nothing is
        dropped."""
        d = self.dialect
        for name, kind in columns:
            if name not in found:
                default = UPGRADE_DEFAULTS.get(name)
                action: exp.Expression = exp.ColumnDef(
                    this=d.ident(name),
                    kind=d.column_type(kind),
                    constraints=[]
                    if default is None
                    else [
                        exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=lit(default)))
                    ],
                )
            elif kind == "INSTANT" and not d.is_instant(found[name]):
                action = exp.AlterColumn(
                    this=d.ident(name),
                    dtype=d.column_type(kind),
                    using=exp.AtTimeZone(this=c(name), zone=lit("UTC")),
                )
            else:
                continue
            self.execute(exp.Alter(this=table.copy(), kind="TABLE", actions=[action]))

    def drop_schema(self, name: str) -> None:
        """Drop a schema and everything in it (tests clean up with it)."""
        self.execute(
            exp.Drop(
                tables=[exp.Table(db=self.dialect.ident(name))],
                kind="SCHEMA",
                exists=True,
                cascade=True,
            )
        )

    def replace_view(self, name: str, query: exp.Select) -> None:
        self.execute(exp.Create(this=self.table(name), kind="VIEW", replace=True, expression=query))

    def create_table(
        self, table: exp.Table, columns: list[tuple[str, str]], replace: bool = False
    ) -> None:
        """CREATE TABLE (IF NOT EXISTS, or replacing it) with generic column types (TEXT,
        BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, JSON) spelled the engine's way."""
        if replace:
            self.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
        schema = exp.Schema(
            this=table,
            expressions=[
                exp.ColumnDef(this=self.dialect.ident(c), kind=self.dialect.column_type(t))
                for c, t in columns
            ],
        )
        self.execute(exp.Create(this=schema, kind="TABLE", exists=not replace))

    def insert_rows(self, table: exp.Table, columns: list[str], rows: list[list]) -> None:
        """INSERT literal rows (small data: fixtures and tests). Values are sqlglot
        expressions, never text."""
        if rows:
            self.execute(
                exp.insert(
                    exp.values([tuple(r) for r in rows]),
                    table.copy(),
                    columns=[self.dialect.ident(c) for c in columns],
                )
            )

    def temp_table(self, name: str, query: exp.Select) -> exp.Table:
        """(Re)create a session-local table from a query; returns a reference to it."""
        table = exp.Table(this=self.dialect.ident(name))
        self.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
        self.execute(
            exp.Create(
                this=table.copy(),
                kind="TABLE",
                expression=query,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            )
        )
        return table

    def lookup_table(self, name: str, query: exp.Select, key: str) -> exp.Table:
        """A temp table that other queries probe by `key` (`key IN (SELECT key FROM it)`)."""
        return self.temp_table(name, query)

    def unindexed(self, parts: tuple[str, ...], column: str) -> bool:
        """`parts` is a table with no index led by `column`, so that reading a time range
        of it scans it whole. False where the engine skips the blocks outside a range
        by itself (zone maps, min/max statistics of its files), and for a view."""
        return False

    def analyze(self, table: exp.Table) -> None:
        """Bring the planner's statistics of `table` up to date after a write that grew
        it many times over; nothing where the engine keeps them itself."""

    # -- the write strategy of one segment's run (transactional engines)
    def write_segment(self, run: SegmentRun, members: exp.Select, now) -> tuple[int, int, int]:
        """Record the segment's new membership atomically; returns (members, entered,
        exited). `members` selects (entity_id text, holdout)."""
        if not self.SUPPORTS_TRANSACTIONS:
            return swap.write_segment(self, run, members, now)
        d = self.dialect
        T = d.instant(run.as_of)
        memberships, changes = self.table(MEMBERSHIPS), self.table(CHANGES)
        with self.transaction():
            staged = self.temp_table("segsql_staged", members)
            faults.checkpoint("staged")
            for rows in change_rows(run, staged, memberships, T):
                self.execute(insert(changes, rows, CHANGES))
            faults.checkpoint("changes")
            following = self.temp_table(
                "segsql_next", next_memberships(run, staged, memberships, T)
            )
            self.execute(delete_segment(memberships, run.segment))
            self.execute(
                insert(
                    memberships, exp.select(*columns_of(MEMBERSHIPS)).from_(following), MEMBERSHIPS
                )
            )
            faults.checkpoint("memberships")
            counts = self.change_counts(run, staged)
            self.execute(insert(self.table(RUNS), run_row(run, d, "success", now(), counts), RUNS))
            faults.checkpoint("runs_row")
        faults.checkpoint("committed")
        return counts

    def write_segments(
        self,
        runs: list[SegmentRun],
        members: dict[str, exp.Select],
        now: Callable[[], datetime],
        scope: exp.Table | None = None,
    ) -> dict[str, tuple[int, int, int]]:
        """Record the new membership of several segments (of one run) in one transaction,
        with the same few statements however many segments; returns segment -> (members,
        entered, exited). members[segment] selects (entity_id text, holdout); with
        `scope` (a table of `entity_id`), the members among those ids, the others'
        being as stored (a narrowed evaluation). Without transactions: each segment's
        swap its own commit point (see swap.py).
        `self.state_write()`, when set, writes the kept state of incremental refresh: inside
        the transaction, or, without one, first (it has its own commit point, see
        state/features.py)."""
        state = self.state_write
        if not self.SUPPORTS_TRANSACTIONS:
            assert scope is None, "narrowing needs transactions"
            if state is not None:
                state()
            return swap.write_segments(self, runs, members, now)
        d = self.dialect
        run_id, names = runs[0].run_id, [run.segment for run in runs]
        T = d.instant(runs[0].as_of)
        memberships, changes = self.table(MEMBERSHIPS), self.table(CHANGES)
        with self.transaction():
            changed = self.temp_table(
                "segsql_batch_changes", batch_changes(runs, members, memberships, scope)
            )
            faults.checkpoint("staged")
            firsts = [run.segment for run in runs if run.first_run]
            self.execute(
                insert(changes, batch_change_rows(run_id, changed, T, firsts, runs), CHANGES)
            )
            faults.checkpoint("changes")
            self.execute(batch_drop_exited(memberships, changed))
            self.execute(batch_set_run(run_id, names, memberships))
            self.execute(insert(memberships, batch_entered_rows(run_id, changed, T), MEMBERSHIPS))
            faults.checkpoint("memberships")
            if state is not None:
                state()
            found: dict[str, dict[str, int]] = {name: {} for name in names}
            for segment, kind, n in self.fetch(batch_counts(names, memberships, changed)):
                found[segment][kind] = int(n)
            counts = {
                name: (k.get("members", 0), k.get("entered", 0), k.get("exited", 0))
                for name, k in found.items()
            }
            rows = batch_run_rows(runs, d, now(), counts)
            self.execute(insert(self.table(RUNS), rows, RUNS))
            faults.checkpoint("runs_row")
        faults.checkpoint("committed")
        return counts

    # the run lock of an engine: "file" (taken when the adapter opens it: DuckDB, chdb),
    # "advisory" (Postgres, its own run_lock) or "rows" (segsql_locks, row_lock.py)
    RUN_LOCK = "rows"

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Exclusive right to write this target's segsql schema for one run, waiting up to
        `lock_timeout` seconds ([engines.md](../../docs/engines.md#locks))."""
        if self.RUN_LOCK != "rows":
            yield
            return
        from .row_lock import row_lock

        with row_lock(self, self.lock_timeout, self.target.options.get("lock_ttl")):
            yield

    def write_lock_row(self, table: exp.Table, columns: list[str], values: list) -> None:
        """Append one row of segsql_locks (row_lock.py); Spark overrides it."""
        self.insert_rows(table, columns, [values])

    def refresh_table(self, table: exp.Table) -> None:
        """Forget what the session cached about `table` (files written by another process)."""

    def recover(self, failing: Collection[tuple[str, str]] = ()) -> list[tuple[str, str, str]]:
        """Repair refreshes a crash interrupted: (run_id, segment, 'forward'|'back'); those
        in `failing` (failing in this process) get no error row. Nothing to do where each
        refresh is one transaction (see swap.py for the others)."""
        return [] if self.SUPPORTS_TRANSACTIONS else swap.recover(self, failing)

    # -- the hooks of swap.py, for engines without transactions
    def replace_segment_memberships(self, segment: str, query: exp.Select) -> None:
        """Atomically replace all rows of `segment` in segsql_memberships by `query`."""
        raise NotImplementedError

    def delete_rows(self, table: exp.Table, where: exp.Expression) -> None:
        self.execute(exp.delete(table.copy(), where=where))

    def change_counts(self, run: SegmentRun, staged: exp.Table) -> tuple[int, int, int]:
        members = self.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(staged.copy()))
        rows = self.fetch(
            exp.select(c("change"), exp.func("COUNT", exp.Star()))
            .from_(self.table(CHANGES))
            .where(
                exp.and_(
                    c("run_id").eq(exp.Literal.string(run.run_id)),
                    c("segment").eq(exp.Literal.string(run.segment)),
                )
            )
            .group_by(c("change"))
        )
        by_change = dict(rows)
        return int(members[0][0]), int(by_change.get("entered", 0)), int(by_change.get("exited", 0))
