"""ClickHouse: in-process with chdb (`path:`), or a server through clickhouse-connect
(`host:`, `port:`, `user:`, `password:`, `database:`, `secure:`). Both send the same SQL,
one statement per call.

ClickHouse has no multi-statement transactions, so writes follow swap.py: the one atomic
step, replacing a segment's memberships, is `ALTER TABLE ... REPLACE PARTITION` from a
staging table (segsql_memberships is partitioned by segment).

Traps avoided here (chdb 4.4 / ClickHouse 26.9):
- without `join_use_nulls = 1` an unmatched LEFT JOIN row holds 0 / '' instead of NULL
  (anti-joins, MIN/MAX and COALESCE break): the dialect adds it to every query with an
  outer join, so the SQL is right in any session and views keep it (the session does not
  set it, so the tests prove that);
- a MergeTree needs `ENGINE` and `ORDER BY`; a Nullable key column needs a setting, so
  segsql's key columns are declared non-Nullable and other tables use `ORDER BY tuple()`;
- `DROP DATABASE` takes no CASCADE;
- after a failed query, chdb's cursor returns that query's leftovers with the next
  result: a fresh cursor per statement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from ..errors import WarehouseError, one_line
from ..state.tables import CHANGES, MEMBERSHIPS, RUNS, c, columns_of
from .base import Adapter, set_statement
from .file_lock import file_lock

SESSION_SETTINGS = {
    "session_timezone": "UTC",  # literals and DateTime values without a zone are UTC
    "lightweight_deletes_sync": 2,  # DELETE returns once the rows are gone
    "mutations_sync": 2,
}
# segsql's tables: (ORDER BY columns, PARTITION BY column); their key columns are never NULL
LAYOUT: dict[str, tuple[tuple[str, ...], str | None]] = {
    MEMBERSHIPS: (("segment", "entity_id"), "segment"),
    CHANGES: (("segment", "run_id", "entity_id"), None),
    RUNS: (("segment", "run_id"), None),
}


class ClickHouseAdapter(Adapter):
    default_schema = "default"
    SUPPORTS_TRANSACTIONS = False  # writes follow swap.py

    def __init__(self, target: Any, lock_timeout: float = 0):
        super().__init__(target, lock_timeout)
        o = target.options
        if o.get("path"):
            self.RUN_LOCK = "file"  # one process per chdb folder, taken by _Chdb
            self.session: _Session = _Chdb(o["path"], target.project_dir, lock_timeout)
        else:  # a server: lock rows (row_lock.py)
            self.session = _Server.connect(o)
            self.default_schema = o.get("database") or "default"

    # -- primitives
    def _execute(self, sql: str) -> None:
        self.session.execute(sql)

    def _fetch(self, sql: str) -> list[tuple]:
        return self.session.fetch(sql)

    def close(self) -> None:
        self.session.close()

    # -- DDL
    def view_names(self) -> set[str]:
        query = (
            exp.select(exp.column("name"))
            .from_(exp.table_("tables", db="system"))
            .where(
                exp.and_(
                    exp.column("database").eq(exp.Literal.string(self.schema)),
                    exp.column("engine").eq(exp.Literal.string("View")),
                )
            )
        )
        return {name for (name,) in self.fetch(query)}

    def relation_columns(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        *rest, name = parts
        schema = rest[-1] if rest else self.default_schema
        query = (
            exp.select(exp.column("name"), exp.column("type"))
            .from_(exp.table_("columns", db="system"))
            .where(
                exp.and_(
                    exp.column("database").eq(exp.Literal.string(schema)),
                    exp.column("table").eq(exp.Literal.string(name)),
                )
            )
            .order_by(exp.column("position"))
        )
        return {name: kind for name, kind in self.fetch(query)} or None

    def schema_exists(self) -> bool:
        query = (
            exp.select(exp.column("name"))
            .from_(exp.table_("databases", db="system"))
            .where(exp.column("name").eq(exp.Literal.string(self.schema)))
        )
        return bool(self.fetch(query))

    def drop_schema(self, name: str) -> None:
        """`DROP DATABASE` drops what it holds; ClickHouse has no CASCADE keyword."""
        self.execute(
            exp.Drop(tables=[exp.Table(db=self.dialect.ident(name))], kind="SCHEMA", exists=True)
        )

    def create_table(
        self, table: exp.Table, columns: list[tuple[str, str]], replace: bool = False
    ) -> None:
        """A MergeTree; segsql's own tables are sorted (and memberships partitioned) by
        segment, other tables (fixtures) keep insertion order."""
        if replace:
            self.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
        keys, partition = (
            LAYOUT.get(table.name, ((), None)) if table.db == self.schema else ((), None)
        )
        d = self.dialect
        defs = [
            exp.ColumnDef(
                this=d.ident(name),
                kind=d.dtype(d.text_type) if name in keys else d.column_type(kind),
            )
            for name, kind in columns
        ]
        order: exp.Expression = exp.Tuple(expressions=[c(k) for k in keys])
        if len(keys) == 1:
            order = c(keys[0])
        properties: list[exp.Expression] = [exp.EngineProperty(this=exp.var("MergeTree"))]
        if partition:
            properties.append(exp.PartitionedByProperty(this=c(partition)))
        properties.append(exp.Order(expressions=[exp.Ordered(this=order)]))
        self.execute(
            exp.Create(
                this=exp.Schema(this=table, expressions=defs),
                kind="TABLE",
                exists=not replace,
                properties=exp.Properties(expressions=properties),
            )
        )

    # -- the hooks of swap.py
    def replace_segment_memberships(self, segment: str, query: exp.Select) -> None:
        """Build the segment's new partition in a staging table of the same structure,
        then swap it in with `REPLACE PARTITION`, which readers see at once or not at all
        (an empty membership is a `DROP PARTITION`, atomic too)."""
        memberships = self.table(MEMBERSHIPS)
        staging = self.table(f"segsql_stage__{segment}")
        self.execute(exp.Drop(tables=[staging.copy()], kind="TABLE", exists=True))
        self.execute(exp.Create(this=staging.copy(), kind="TABLE", expression=memberships.copy()))
        try:
            self.execute(
                exp.insert(
                    query,
                    staging.copy(),
                    columns=[self.dialect.ident(name) for name in columns_of(MEMBERSHIPS)],
                )
            )
            partition = exp.Partition(expressions=[exp.Literal.string(segment)])
            staged = self.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(staging.copy()))
            if staged[0][0]:
                action: exp.Expression = exp.ReplacePartition(
                    expression=partition, source=staging.copy()
                )
            else:  # recent versions refuse to REPLACE from an empty source
                action = exp.DropPartition(expressions=[partition])
            self.execute(exp.Alter(this=memberships, kind="TABLE", actions=[action]))
        finally:
            self.execute(exp.Drop(tables=[staging], kind="TABLE", exists=True))

    def delete_rows(self, table: exp.Table, where: exp.Expression) -> None:
        """A lightweight DELETE (synchronous with lightweight_deletes_sync = 2)."""
        self.execute(exp.delete(table.copy(), where=where))


# ---------------------------------------------------------------------- sessions


class _Session:
    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def fetch(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Chdb(_Session):
    """chdb keeps one embedded server per process: one open path at a time, and one process
    per path. That is the run lock, as DuckDB's file: `segsql.lock` beside the folder, an
    OS lock (released when the holder dies) naming the holder's PID, so a second run waits
    up to `lock_timeout` seconds and then says who holds it."""

    def __init__(self, path: str, project_dir: str, lock_timeout: float = 0):
        import chdb

        if not Path(path).is_absolute():
            path = str(Path(project_dir) / path)
        Path(path).mkdir(parents=True, exist_ok=True)
        self._lock = file_lock(f"{path.rstrip('/')}.segsql.lock", f"chdb database {path}")
        self._lock.acquire(lock_timeout)
        # chdb.ChdbError is not the class its cursor raises (chdb._exceptions.ChdbError,
        # a RuntimeError)
        self._error = (getattr(chdb, "ChdbError", RuntimeError), RuntimeError)
        try:
            self.con = chdb.connect(path)
        except self._error as err:
            self._lock.release()
            text = str(err).split("Stack trace:")[0]
            if "EmbeddedServer" in text:  # another process (not segsql) has it open
                text = "it is open in another process (chdb allows one per folder)"
            raise WarehouseError(f"cannot open chdb database {path}: {one_line(text)}") from None
        try:
            for key, value in SESSION_SETTINGS.items():
                self.execute(set_statement(key, value).sql("clickhouse"))
        except WarehouseError:
            self.con.close()  # chdb holds one data path per process while it is open
            self._lock.release()
            raise

    def _run(self, sql: str):
        cursor = self.con.cursor()  # a fresh cursor: chdb 4.4 leaks a failed query's rows
        try:
            cursor.execute(sql)
        except self._error as err:
            cursor.close()
            raise WarehouseError(_message(err)) from None
        return cursor

    def execute(self, sql: str) -> None:
        self._run(sql).close()

    def fetch(self, sql: str) -> list[tuple]:
        cursor = self._run(sql)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._lock.release()


class _Server(_Session):
    """A clickhouse-connect client. Temporary tables need its session, one per client."""

    def __init__(self, client: Any):
        from clickhouse_connect.driver.exceptions import ClickHouseError

        self.client = client
        self._error = ClickHouseError

    @classmethod
    def connect(cls, o: dict) -> _Server:
        """Over HTTP(S) to a server. Tests drive this class through clickhouse-connect's
        in-process chdb interface instead (see tests/test_clickhouse.py)."""
        import clickhouse_connect

        params = {
            k: o[k]
            for k in ("host", "port", "user", "password", "database")
            if o.get(k) not in (None, "")
        }
        if "user" in params:
            params["username"] = params.pop("user")
        if "port" in params:
            params["port"] = int(params["port"])
        try:
            client = clickhouse_connect.get_client(
                secure=str(o.get("secure", "")).lower() in ("1", "true", "yes"),
                settings=dict(SESSION_SETTINGS),
                client_name="segsql",
                autogenerate_session_id=True,
                connect_timeout=int(o.get("connect_timeout", 10)),
                **params,
            )
        except Exception as err:  # noqa: BLE001 - the driver raises several kinds
            raise WarehouseError(
                f"cannot connect to ClickHouse at {o.get('host')}:"
                f"{o.get('port', '')}: {one_line(str(err).split('Stack trace:')[0])}"
            ) from None
        return cls(client)

    def execute(self, sql: str) -> None:
        try:
            self.client.command(sql)
        except self._error as err:
            raise WarehouseError(_message(err)) from None

    def fetch(self, sql: str) -> list[tuple]:
        try:
            return [tuple(r) for r in self.client.query(sql).result_rows]
        except self._error as err:
            raise WarehouseError(_message(err)) from None

    def close(self) -> None:
        self.client.close()


def _message(err: BaseException) -> str:
    """The server's message on one line, without the stack trace ClickHouse attaches."""
    return one_line(str(err).split("Stack trace:")[0])
