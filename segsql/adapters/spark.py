"""Spark (pyspark, any master) and Databricks (databricks-sql-connector).

Neither has multi-statement transactions, so both write through swap.py
(`SUPPORTS_TRANSACTIONS = False`): the only atomic step is replacing one segment's rows of
segsql_memberships.

Spark, on parquet tables (no DELETE, and an overwrite may not read its own table unless
it is a dynamic partition overwrite):
- segsql_memberships and segsql_membership_changes are partitioned by `segment` with
  `partitionOverwriteMode=dynamic` as a table option. `INSERT OVERWRITE` then replaces
  just the partitions its rows fall in: files are written to a staging directory and the
  partition is swapped in at commit, and it may read the table it writes. An empty new
  membership is `ALTER TABLE .. DROP PARTITION` instead (no rows, no partition to swap).
- Temp tables are eager snapshots (`localCheckpoint`): CREATE TEMPORARY VIEW would be
  lazy and re-read tables that the write then changes.
- Timestamps are naive UTC: the session time zone is set to UTC, and fetched
  timestamps are read as TIMESTAMP_NTZ (pyspark would turn TIMESTAMP values into the
  local time of the Python process).

Databricks (Delta tables): DELETE works, and `INSERT INTO .. REPLACE WHERE segment = x`
replaces a segment's rows in one Delta transaction.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ..errors import WarehouseError, one_line
from ..state.tables import CHANGES, MEMBERSHIPS, c, columns_of
from .base import Adapter
from .row_lock import LOCKS

PARTITIONED = (MEMBERSHIPS, CHANGES)  # segsql's tables partitioned by `segment`


class _SparkSQL(Adapter):
    """What Spark and Databricks share: no transactions (writes follow swap.py), state
    tables."""

    default_schema = "default"
    SUPPORTS_TRANSACTIONS = False

    def _is_partitioned(self, table: exp.Table) -> bool:
        return table.name in PARTITIONED and table.db == self.schema


class SparkAdapter(_SparkSQL):
    """pyspark: `master` (e.g. local[4], yarn; default: the active session's), `conf`."""

    DELETES_IN_PLACE = False  # `delete_rows` rewrites an unpartitioned table from a snapshot

    def __init__(self, target: Any, lock_timeout: float = 0):
        super().__init__(target, lock_timeout)
        from pyspark.sql import SparkSession

        o = target.options
        self._owned = SparkSession.getActiveSession() is None
        builder = SparkSession.builder.appName("segsql")
        if o.get("master"):
            builder = builder.master(str(o["master"]))
        for key, value in dict(o.get("conf") or {}).items():  # YAML true -> "true"
            builder = builder.config(
                str(key), str(value).lower() if isinstance(value, bool) else str(value)
            )
        try:
            self.spark = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
        except Exception as err:  # noqa: BLE001 - py4j / JVM start-up errors vary
            raise WarehouseError(f"cannot start Spark: {one_line(err, first_only=True)}") from None
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        self._views: set[str] = set()

    def _execute(self, sql: str) -> None:
        self.spark.sql(sql)  # commands run eagerly

    def refresh_table(self, table: exp.Table) -> None:
        """Another process's appends are seen only after the cached file list is dropped."""
        self.spark.catalog.refreshTable(self.sql(table))

    def _fetch(self, sql: str) -> list[tuple]:
        from pyspark.sql.types import TimestampType

        df = self.spark.sql(sql)
        fields = df.schema.fields
        if any(isinstance(f.dataType, TimestampType) for f in fields):
            names = [f"c{i}" for i in range(len(fields))]  # result names may repeat
            df = df.toDF(*names).select(
                *(
                    _ntz(n) if isinstance(f.dataType, TimestampType) else n
                    for n, f in zip(names, fields, strict=True)
                )
            )
        return [tuple(row) for row in df.collect()]

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        if self._owned:
            self.spark.stop()

    # -- tables
    def schema_exists(self) -> bool:
        return self.spark.catalog.databaseExists(self.schema)

    def view_names(self) -> set[str]:
        if not self.schema_exists():
            return set()
        tables = self.spark.catalog.listTables(self.schema)
        return {t.name for t in tables if t.tableType == "VIEW" and not t.isTemporary}

    def relation_columns(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        name = ".".join(self.sql(self.dialect.ident(p)) for p in parts)
        if not self.spark.catalog.tableExists(name):
            return None
        return {f.name: f.dataType.simpleString() for f in self.spark.table(name).schema.fields}

    def create_table(
        self, table: exp.Table, columns: list[tuple[str, str]], replace: bool = False
    ) -> None:
        """Parquet; segsql's memberships and changes partitioned by segment."""
        if replace:
            self.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
        properties: list[exp.Expression] = [exp.FileFormatProperty(this=exp.var("parquet"))]
        is_locks = table.name == LOCKS and table.db == self.schema
        if self._is_partitioned(table) or is_locks:
            column = "owner" if is_locks else "segment"
            properties += [
                exp.PartitionedByProperty(
                    this=exp.Schema(expressions=[self.dialect.ident(column)])
                ),
                exp.OptionsProperty(
                    expressions=[
                        exp.Property(
                            this=exp.var("partitionOverwriteMode"),
                            value=exp.Literal.string("dynamic"),
                        )
                    ]
                ),
            ]
        schema = exp.Schema(
            this=table,
            expressions=[
                exp.ColumnDef(this=self.dialect.ident(col), kind=self.dialect.column_type(kind))
                for col, kind in columns
            ],
        )
        self.execute(
            exp.Create(
                this=schema,
                kind="TABLE",
                exists=not replace,
                properties=exp.Properties(expressions=properties),
            )
        )

    def write_lock_row(self, table: exp.Table, columns: list[str], values: list) -> None:
        """A dynamic overwrite of the owner's own partition of segsql_locks (partitioned
        by owner): each job stages its files in a folder of its own. Plain appends of
        concurrent jobs to one parquet table share its `_temporary` folder, and one job's
        commit deletes it under the other ("Mkdirs failed")."""
        self.execute(
            exp.insert(
                exp.select(
                    *(exp.alias_(v, n, quoted=True) for v, n in zip(values, columns, strict=True))
                ),
                table.copy(),
                columns=[self.dialect.ident(n) for n in columns],
                overwrite=True,
            )
        )

    def temp_table(self, name: str, query: exp.Select) -> exp.Table:
        """An eager snapshot as a temp view: later writes to its sources do not change it."""
        text = self.sql(query)
        df = self.spark.sql(text).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._views.add(name)
        return exp.Table(this=self.dialect.ident(name))

    # -- the hooks of swap.py
    def replace_segment_memberships(self, segment: str, query: exp.Select) -> None:
        """A dynamic overwrite of the segment's partition; no rows: the partition is
        dropped. (Spark lets a dynamic overwrite read the partition it replaces: it writes
        to a staging directory and deletes nothing before the job commits.)"""
        table = self.table(MEMBERSHIPS)
        rows = query.subquery("q")
        if self.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(rows))[0][0]:
            self.execute(
                exp.insert(
                    exp.select(*(c(n, "q") for n in columns_of(MEMBERSHIPS))).from_(rows),
                    table,
                    columns=[self.dialect.ident(n) for n in columns_of(MEMBERSHIPS)],
                    overwrite=True,
                )
            )
        else:
            self._drop_partition(table, segment)

    def delete_rows(self, table: exp.Table, where: exp.Expression) -> None:
        """Rewrite the partitions holding rows that match `where` (atomic per partition);
        an unpartitioned table is rewritten whole from a snapshot (not atomic, and never
        needed by swap.py, which deletes only change rows)."""
        keep = exp.not_(exp.func("COALESCE", exp.paren(where.copy()), exp.false()))
        if not self._is_partitioned(table):
            rest = self.temp_table(
                "segsql_keep", exp.select(exp.Star()).from_(table.copy()).where(keep)
            )
            self.execute(
                exp.insert(exp.select(exp.Star()).from_(rest), table.copy(), overwrite=True)
            )
            return
        hit = (
            exp.select(c("segment"), exp.func("COUNT", exp.Star()))
            .from_(table.copy())
            .where(where.copy())
            .group_by(c("segment"))
        )
        for segment, _ in self.fetch(hit):
            of_segment = c("segment").eq(exp.Literal.string(segment))
            kept = exp.select(exp.Star()).from_(table.copy()).where(exp.and_(of_segment, keep))
            if self.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(kept.subquery("k")))[0][
                0
            ]:
                self.execute(exp.insert(kept, table.copy(), overwrite=True))
            else:
                self._drop_partition(table, segment)

    def _drop_partition(self, table: exp.Table, segment: str) -> None:
        self.execute(
            exp.Alter(
                this=table.copy(),
                kind="TABLE",
                actions=[
                    exp.DropPartition(
                        expressions=[
                            exp.Partition(
                                expressions=[c("segment").eq(exp.Literal.string(segment))]
                            )
                        ],
                        exists=True,
                    )
                ],
            )
        )


def _ntz(name: str):
    from pyspark.sql import functions as F  # noqa: N812

    return F.col(name).cast("timestamp_ntz")


class DatabricksAdapter(_SparkSQL):
    """databricks-sql-connector: `server_hostname`, `http_path`, `access_token`, `catalog`.
    Delta tables: DELETE, and INSERT .. REPLACE WHERE as the atomic swap."""

    def __init__(self, target: Any, lock_timeout: float = 0):
        super().__init__(target, lock_timeout)
        from databricks import sql as dbsql

        o = target.options
        try:
            self.con = dbsql.connect(
                server_hostname=o.get("server_hostname"),
                http_path=o.get("http_path"),
                access_token=o.get("access_token"),
                catalog=o.get("catalog"),
            )
        except Exception as err:  # noqa: BLE001 - the connector raises several kinds
            raise WarehouseError(
                f"cannot connect to Databricks at {o.get('server_hostname')}: "
                f"{one_line(err, first_only=True)}"
            ) from None
        self._execute("SET TIME ZONE 'UTC'")

    def _execute(self, sql: str) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql)

    def _fetch(self, sql: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def close(self) -> None:
        self.con.close()

    def schema_exists(self) -> bool:
        """Unknown without Unity Catalog's information_schema: CREATE SCHEMA IF NOT EXISTS
        runs every time, as it always did on Databricks."""
        return False

    def view_names(self) -> set[str]:
        """Unknown without Unity Catalog's information_schema: none, so that every run
        replaces every view, as it always did on Databricks."""
        return set()

    def relation_columns(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        name = self.dialect.table(*parts)
        try:
            rows = self.fetch(exp.Describe(this=name))
        except Exception as err:  # noqa: BLE001 - the connector's error classes vary
            if "NOT_FOUND" in str(err):  # TABLE_OR_VIEW_NOT_FOUND, SCHEMA_NOT_FOUND
                return None
            raise
        columns = {}
        for row in rows:
            if not row[0] or row[0].startswith("#"):
                break
            columns[row[0]] = row[1]
        return columns

    def temp_table(self, name: str, query: exp.Select) -> exp.Table:
        """A Delta table in segsql's schema (a temp view would be lazy)."""
        table = self.table(name)
        self.execute(exp.Create(this=table, kind="TABLE", replace=True, expression=query))
        return table.copy()

    def replace_segment_memberships(self, segment: str, query: exp.Select) -> None:
        """`INSERT INTO .. REPLACE WHERE` (one Delta transaction) from a staged copy: the
        form takes no column list, so the columns are selected in the table's order."""
        staged = self.temp_table("segsql_swap", query)
        insert = exp.insert(
            exp.select(*(c(n) for n in columns_of(MEMBERSHIPS))).from_(staged),
            self.table(MEMBERSHIPS),
        )
        insert.set("where", c("segment").eq(exp.Literal.string(segment)))
        self.execute(insert)
