"""Spark and Databricks specifics: JSON paths Spark's parser can read, casts that never
raise in ANSI mode, timestamps read back as UTC, the swap.py hooks on parquet
(segsql/adapters/spark.py), and the SQL the Databricks adapter sends (a fake connector:
no Databricks workspace here)."""

from __future__ import annotations

import sys
import time
import types
import uuid
from datetime import datetime

import pytest
from sqlglot import exp

from segsql.definitions.profiles import Target
from segsql.dialects import get_dialect
from segsql.state.tables import CHANGES, MEMBERSHIPS, TABLES, c

SPARK = get_dialect("spark")


@pytest.fixture
def spark_adapter(spark):
    from segsql.adapters.spark import SparkAdapter

    a = SparkAdapter(
        Target(
            name="spark",
            type="spark",
            schema=f"segsql_{uuid.uuid4().hex[:8]}",
            project_dir=".",
            options={"type": "spark", "master": "local[1]"},
        )
    )
    a.create_schema()
    yield a
    a.drop_schema(a.schema)
    a.close()


# ------------------------------------------------------------------ dialect (no engine)


@pytest.mark.parametrize(
    ("path", "sql"),
    [
        (("a", "b"), "GET_JSON_OBJECT(c, '$.a.b')"),
        (("it's",), "GET_JSON_OBJECT(c, '$.it\\'s')"),  # sqlglot would write $['it\'s']
        (("a[0]", "b"), "GET_JSON_OBJECT(c, '$[\\'a[0]\\'].b')"),
        (("*",), "FROM_JSON(c, 'MAP<STRING, STRING>')['*']"),
    ],
)
def test_json_path_spelling(path, sql):
    assert SPARK.sql(SPARK.json_text(exp.column("c"), path)) == sql


def test_try_cast_is_written_as_try_cast():
    assert "TRY_CAST(" in SPARK.sql(SPARK.to_timestamp(exp.column("t")))


# ------------------------------------------------------------------ on Spark


def test_json_and_casts_never_raise(spark_adapter):
    doc = (
        '{"it\'s": "q", "a[0]": {"b": 2}, "*": 7, "n": "1e3", "bad": "12abc", "x": null,'
        ' "t": "2026-03-01T10:00:00Z", "y": "2026", "m": "2026-13-45"}'
    )
    c0 = exp.Literal.string(doc)

    def text(*path):
        return SPARK.json_text(c0.copy(), path)

    row = spark_adapter.fetch(
        exp.select(
            text("it's"),
            text("a[0]", "b"),
            text("*"),
            text("x"),
            text("missing", "deeper"),
            SPARK.to_number(text("n")),
            SPARK.to_number(text("bad")),
            SPARK.to_timestamp(text("t")),
            SPARK.to_timestamp(text("y")),
            SPARK.to_timestamp(text("m")),
            SPARK.to_timestamp(text("bad")),
        )
    )[0]
    assert row == (
        "q",
        "2",
        "7",
        None,
        None,
        1000.0,
        None,
        datetime(2026, 3, 1, 10),
        None,
        None,
        None,
    )


def test_holdout_formula_equals_pythons(spark_adapter):
    """bucket = int(md5('<segment>:<id>')[:7], 16) % 100, as on every engine."""
    import dataclasses
    import hashlib

    from segsql.compiler import holdout_expr
    from segsql.definitions.project import load_project

    from .conftest import CONDITIONS

    seg = dataclasses.replace(load_project(CONDITIONS).segments["holdout_half"], holdout=37)
    ids = exp.func("RANGE", exp.Literal.number(20000))
    rows = spark_adapter.fetch(
        exp.select(
            exp.column("id"), holdout_expr(SPARK, seg, SPARK.to_text(exp.column("id")))
        ).from_(ids)
    )
    assert dict(rows) == {
        i: int(hashlib.md5(f"holdout_half:{i}".encode()).hexdigest()[:7], 16) % 100 < 37
        for i in range(20000)
    }


def test_timestamps_come_back_in_utc_whatever_the_local_zone(spark_adapter, monkeypatch):
    """pyspark turns TIMESTAMP values into the Python process's local time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        rows = spark_adapter.fetch(
            exp.select(SPARK.timestamp(datetime(2026, 7, 1, 10, 30)), exp.Literal.number(1))
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert rows == [(datetime(2026, 7, 1, 10, 30), 1)]


def test_swap_hooks_on_parquet(spark_adapter):
    a = spark_adapter
    memberships, changes = a.table(MEMBERSHIPS), a.table(CHANGES)
    for name, table in ((MEMBERSHIPS, memberships), (CHANGES, changes)):
        a.create_table(table, TABLES[name])

    def row(segment, entity, run="r1"):
        return [exp.Literal.string(v) for v in (segment, "user", entity)] + [
            exp.false(),
            SPARK.timestamp(datetime(2026, 3, 1)),
            exp.Literal.string(run),
        ]

    columns = [n for n, _ in TABLES[MEMBERSHIPS]]
    a.insert_rows(memberships, columns, [row("s1", "1"), row("s1", "2"), row("s2", "9")])

    def members():
        return sorted(
            a.fetch(exp.select(c("segment"), c("entity_id"), c("run_id")).from_(memberships.copy()))
        )

    # an eager snapshot: later writes to its source do not change it
    snapshot = a.temp_table("segsql_test_snapshot", exp.select(exp.Star()).from_(memberships))
    # the new rows may read the partition they replace (a dynamic partition overwrite)
    a.replace_segment_memberships(
        "s1",
        exp.select(
            *(
                exp.alias_(exp.Literal.string("r2") if n == "run_id" else c(n), n, quoted=True)
                for n in columns
            )
        )
        .from_(memberships.copy())
        .where(c("segment").eq(lit("s1"))),
    )
    assert members() == [("s1", "1", "r2"), ("s1", "2", "r2"), ("s2", "9", "r1")]
    a.replace_segment_memberships(
        "s2", exp.select(*(c(n) for n in columns)).from_(memberships.copy()).where(exp.false())
    )
    assert members() == [("s1", "1", "r2"), ("s1", "2", "r2")]
    assert len(a.fetch(exp.select(exp.Star()).from_(snapshot))) == 3

    # delete_rows rewrites only the partitions it touches, dropping those it empties
    a.delete_rows(memberships, c("entity_id").eq(lit("1")))
    assert members() == [("s1", "2", "r2")]
    a.delete_rows(memberships, c("segment").eq(lit("s1")))
    assert members() == []
    # an unpartitioned table: rewritten from a snapshot of the rows kept
    runs = a.table("segsql_test_runs")
    a.create_table(runs, [("run_id", "TEXT")])
    a.insert_rows(runs, ["run_id"], [[lit("r1")], [lit("r2")]])
    a.delete_rows(runs, c("run_id").eq(lit("r1")))
    assert a.fetch(exp.select(c("run_id")).from_(runs)) == [("r2",)]


def lit(v: str) -> exp.Literal:
    return exp.Literal.string(v)


# ------------------------------------------------------------------ Databricks (fake connector)


class FakeCursor:
    def __init__(self, log, answers):
        self.log, self.answers, self.rows = log, answers, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        self.log.append(sql)
        for prefix, answer in self.answers.items():
            if sql.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                self.rows = answer
                return
        self.rows = []

    def fetchall(self):
        return self.rows


@pytest.fixture
def databricks(monkeypatch):
    log: list[str] = []
    answers: dict = {}
    connects: list[dict] = []

    def connect(**kwargs):
        connects.append(kwargs)
        return types.SimpleNamespace(cursor=lambda: FakeCursor(log, answers), close=lambda: None)

    package = types.ModuleType("databricks")
    package.sql = types.SimpleNamespace(connect=connect)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "databricks", package)
    from segsql.adapters import connect as open_adapter

    adapter = open_adapter(
        Target(
            name="prod",
            type="databricks",
            schema="segsql",
            project_dir=".",
            options={
                "type": "databricks",
                "server_hostname": "h",
                "http_path": "/sql/1.0/x",
                "access_token": "secret",
                "catalog": "main",
            },
        )
    )
    return types.SimpleNamespace(adapter=adapter, log=log, answers=answers, connects=connects)


def test_databricks_connects_in_utc(databricks):
    assert databricks.connects == [
        {
            "server_hostname": "h",
            "http_path": "/sql/1.0/x",
            "access_token": "secret",
            "catalog": "main",
        }
    ]
    assert databricks.log == ["SET TIME ZONE 'UTC'"]


def test_databricks_swap_is_one_replace_where(databricks):
    a = databricks.adapter
    a.replace_segment_memberships("s1", exp.select(exp.Star()).from_("q"))
    a.delete_rows(a.table(CHANGES), c("run_id").eq(lit("r1")))
    assert databricks.log[1:] == [
        "CREATE OR REPLACE TABLE `segsql`.`segsql_swap` AS SELECT * FROM q",
        "INSERT INTO `segsql`.`segsql_memberships` REPLACE WHERE `segment` = 's1' SELECT "
        "`segment`, `entity_type`, `entity_id`, `holdout`, `entered_at`, `run_id` "
        "FROM `segsql`.`segsql_swap`",
        "DELETE FROM `segsql`.`segsql_membership_changes` WHERE `run_id` = 'r1'",
    ]


def test_databricks_relation_columns(databricks):
    a = databricks.adapter
    databricks.answers["DESCRIBE `segsql`.`segsql_runs`"] = [
        ("run_id", "string", None),
        ("segment", "string", None),
        ("", "", ""),
        ("# Partition Information", "", ""),
    ]
    databricks.answers["DESCRIBE `main`.`nope`"] = RuntimeError(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`nope` cannot be found."
    )
    assert a.relation_columns(("segsql", "segsql_runs")) == {
        "run_id": "string",
        "segment": "string",
    }
    assert a.relation_columns(("main", "nope")) is None
