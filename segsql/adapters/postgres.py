"""Postgres (psycopg 3). Redshift speaks the same protocol but is compile-only for now."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlglot import exp

from ..dialects.base import lit
from ..errors import LockError, WarehouseError, one_line
from .base import Adapter, set_statement


class PostgresAdapter(Adapter):
    RUN_LOCK = "advisory"  # run_lock below
    default_schema = "public"

    def __init__(self, target: Any, lock_timeout: float = 0):
        super().__init__(target, lock_timeout)
        import psycopg

        o = target.options
        params = {
            k: o[k]
            for k in ("host", "port", "user", "password", "dbname", "sslmode")
            if o.get(k) not in (None, "")
        }
        params["connect_timeout"] = int(o.get("connect_timeout", 10))
        try:
            self.con = psycopg.connect(autocommit=True, application_name="segsql", **params)
        except psycopg.Error as err:
            raise WarehouseError(
                f"cannot connect to Postgres at {o.get('host')}:{o.get('port')}: {one_line(err)}"
            ) from None
        # JIT compiles each of our wide aggregate queries anew: measured at 20.6 s of a 21 s
        # evaluation on 5M events (bench/), for no gain
        self._set("jit", exp.var("off"))
        self._set("TimeZone", "UTC")  # zone-aware values print in UTC
        if o.get("statement_timeout"):
            self._set("statement_timeout", int(o["statement_timeout"]))
        if o.get("work_mem"):  # the memory budget of each sort and hash, e.g. '256MB'
            self._set("work_mem", str(o["work_mem"]))

    def _set(self, name: str, value: Any) -> None:
        self.execute(set_statement(name, value))

    def lookup_table(self, name: str, query: exp.Select, key: str) -> exp.Table:
        """With an index on `key`, and analyzed: Postgres never analyzes a temp table by
        itself, and planned the semi-joins of a narrowed evaluation on one as nested loops
        that scan it for each outer row (a one-day step of the benchmark, 100k users and
        5M events: 290 s against 10 s for a full refresh)."""
        table = super().lookup_table(name, query, key)
        index = exp.Index(
            this=self.dialect.ident(f"{name}_{key}"),
            table=table.copy(),
            params=exp.IndexParameters(
                columns=[exp.Ordered(this=exp.column(self.dialect.ident(key)))]
            ),
        )
        self.execute(exp.Create(this=index, kind="INDEX"))
        self.analyze(table)
        return table

    def analyze(self, table: exp.Table) -> None:
        """Autovacuum analyzes a table only a while after its commit: a run soon after
        one that rebuilt the kept state (a backfill's next step, or a benchmark's) would
        plan its semi-joins on that state as if it were nearly empty (the rows of a new
        generation estimated at 1: nested loops over 400k rows on 100k users)."""
        self.execute(exp.Analyze(tables=[table.copy()]))

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)  # no parameters: psycopg sends the text as is (% stays %)

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()

    def _named(self, query: exp.Select, parts: tuple[str, ...]) -> exp.Select:
        """`query`, which reads pg_class as `t`, kept to the row of the relation `parts`."""
        *rest, name = parts
        t, n = exp.to_identifier("t"), exp.to_identifier("n")
        return query.join(
            exp.table_("pg_namespace", db="pg_catalog", alias="n"),
            on=exp.column("relnamespace", table=t).eq(exp.column("oid", table=n)),
        ).where(
            exp.and_(
                exp.column("nspname", table=n).eq(lit(rest[-1] if rest else self.default_schema)),
                exp.column("relname", table=t).eq(lit(name)),
            )
        )

    def relation_columns(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        """From pg_catalog, which lists the columns of tables the role may not read
        (information_schema hides them): reading them then fails with the engine's
        "permission denied", for the segments that read them only."""

        def attr(alias: str, column: str) -> exp.Column:
            return exp.column(column, table=alias)

        query = (
            exp.select(
                attr("a", "attname"),
                exp.func("format_type", attr("a", "atttypid"), attr("a", "atttypmod")),
            )
            .from_(exp.table_("pg_attribute", db="pg_catalog", alias="a"))
            .join(
                exp.table_("pg_class", db="pg_catalog", alias="t"),
                on=attr("a", "attrelid").eq(attr("t", "oid")),
            )
        )
        query = (
            self._named(query, parts)
            .where(exp.and_(attr("a", "attnum") > 0, exp.not_(attr("a", "attisdropped"))))
            .order_by(attr("a", "attnum"))
        )
        return {column: kind for column, kind in self.fetch(query)} or None

    def unindexed(self, parts: tuple[str, ...], column: str) -> bool:
        """A table (or a partitioned one) none of whose indexes (b-tree, BRIN, ...) has
        `column` as its first key. From the catalog's rows only: `pg_get_indexdef` reads
        every index the planner scans, and failed on a temp table's index that another
        session dropped meanwhile ("could not open relation with OID")."""
        t, i, a = (exp.to_identifier(alias) for alias in ("t", "i", "a"))
        # indkey is an int2vector, numbered from 0 (offset=1: written as Postgres spells it)
        first = exp.Bracket(
            this=exp.column("indkey", table=i), expressions=[exp.Literal.number(0)], offset=1
        )
        led = (
            exp.select(exp.Literal.number(1))
            .from_(exp.table_("pg_index", db="pg_catalog", alias="i"))
            .join(
                exp.table_("pg_attribute", db="pg_catalog", alias="a"),
                on=exp.and_(
                    exp.column("attrelid", table=a).eq(exp.column("indrelid", table=i)),
                    exp.column("attnum", table=a).eq(first),
                ),
            )
            .where(
                exp.and_(
                    exp.column("indrelid", table=i).eq(exp.column("oid", table=t)),
                    exp.column("attname", table=a).eq(lit(column)),
                )
            )
        )
        query = exp.select(exp.column("relkind", table=t), exp.Exists(this=led)).from_(
            exp.table_("pg_class", db="pg_catalog", alias="t")
        )
        rows = self.fetch(self._named(query, parts))
        return any(kind in ("r", "p") and not indexed for kind, indexed in rows)

    def replace_view(self, name: str, query: exp.Select) -> None:
        """CREATE OR REPLACE VIEW refuses to change a view's columns: drop and create in
        one transaction instead."""
        with self.transaction():
            self.execute(exp.Drop(tables=[self.table(name)], kind="VIEW", exists=True))
            self.execute(exp.Create(this=self.table(name), kind="VIEW", expression=query))

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """A session-level advisory lock per schema: released by the server when the
        holder's connection ends, so a crashed run never blocks the next one."""
        key = exp.Literal.number(zlib.crc32(f"segsql:{self.schema}".encode()))
        timeout = self.lock_timeout
        deadline = time.monotonic() + timeout
        while not self.fetch(exp.select(exp.func("pg_try_advisory_lock", key)))[0][0]:
            if time.monotonic() >= deadline:
                raise LockError(
                    f"another segsql run is writing schema '{self.schema}' "
                    f"({self._lock_holder(key)}); waited {timeout:g}s "
                    "(--lock-timeout)"
                )
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        try:
            yield
        finally:
            if not self.con.closed and not self.con.broken:  # a lost session lost its lock
                self.fetch(exp.select(exp.func("pg_advisory_unlock", key)))

    def _lock_holder(self, key: exp.Expression) -> str:
        locks = (
            exp.select(exp.column("pid"))
            .from_("pg_locks")
            .where(
                exp.and_(
                    exp.column("locktype").eq(exp.Literal.string("advisory")),
                    exp.column("objid").eq(key.copy()),
                    exp.column("granted"),
                )
            )
        )
        rows = self.fetch(
            exp.select("pid", "application_name", "client_addr", "backend_start")
            .from_("pg_stat_activity")
            .where(exp.column("pid").isin(query=locks))
        )
        if not rows:
            return "holder unknown"
        pid, app, addr, since = rows[0]
        return (
            f"held by pid {pid} ({app or 'unknown app'} from {addr or 'local socket'}, "
            f"connected since {since:%Y-%m-%d %H:%M:%S})"
        )
