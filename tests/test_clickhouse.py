"""ClickHouse specifics: the SQL the dialect and adapter send (no engine needed), and on
chdb the things test_engines.py does not reach: JSON and cast edge values against DuckDB,
the holdout formula on 100,000 ids, views read in a session without join_use_nulls, and
interrupted writes rolled forward or back through the partition swap."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta

import pytest
from sqlglot import exp

from segsql.adapters.base import Adapter
from segsql.adapters.clickhouse import ClickHouseAdapter
from segsql.compiler import evaluation_query, view_query
from segsql.definitions.profiles import Target
from segsql.dialects import get_dialect
from segsql.runner.fixtures import load_tables, memory_duckdb
from segsql.state.tables import MEMBERSHIPS, TABLES

from .conftest import require
from .test_engines import FIXTURES, PROJECT

D = get_dialect("clickhouse")
HAS_CHDB = importlib.util.find_spec("chdb") is not None


def target(path, schema="segsql_ch") -> Target:
    return Target(
        name="ch",
        type="clickhouse",
        schema=schema,
        project_dir=str(path),
        options={"type": "clickhouse", "path": str(path / "chdb")},
    )


# ------------------------------------------------------------------ the SQL, no engine


def test_outer_joins_carry_join_use_nulls_and_null_casts_are_nullable():
    joined = D.sql(view_query(PROJECT, PROJECT.segments["ev_last_old"], D))
    assert joined.endswith("SETTINGS join_use_nulls = 1")
    plain = D.sql(view_query(PROJECT, PROJECT.segments["prop_eq"], D))
    assert "SETTINGS" not in plain
    create = exp.Create(
        this=exp.to_table("v"),
        kind="VIEW",
        replace=True,
        expression=view_query(PROJECT, PROJECT.segments["ev_last_old"], D),
    )
    assert D.sql(create).endswith("SETTINGS join_use_nulls = 1")
    assert D.sql(exp.cast(exp.null(), D.dtype("String"))) == "CAST(NULL AS Nullable(String))"
    assert D.sql(D.timestamp(datetime(2026, 1, 2, 3, 4, 5, 6))) == (
        "CAST('2026-01-02 03:04:05.000006' AS DateTime64(6, 'UTC'))"
    )


class Recorder:
    """Stands in for the connection: records each statement, answers COUNT(*) with 0."""

    def __init__(self):
        self.sql: list[str] = []

    def execute(self, sql):
        self.sql.append(sql)

    def fetch(self, sql):
        self.sql.append(sql)
        return [(0,)]

    def close(self):
        pass


def adapter_on(session, tmp_path) -> ClickHouseAdapter:
    """The adapter over a given session (a recorder, or a clickhouse-connect client)."""
    a = ClickHouseAdapter.__new__(ClickHouseAdapter)
    Adapter.__init__(a, target(tmp_path))
    a.session = session
    return a


def recording_adapter(tmp_path) -> tuple[ClickHouseAdapter, Recorder]:
    rec = Recorder()
    return adapter_on(rec, tmp_path), rec


def test_state_tables_are_sorted_by_segment_with_non_nullable_keys(tmp_path):
    a, rec = recording_adapter(tmp_path)
    a.create_table(a.table(MEMBERSHIPS), TABLES[MEMBERSHIPS])
    a.create_table(D.table("main", "users"), [("user_id", "BIGINT")], replace=True)
    assert rec.sql == [
        'CREATE TABLE IF NOT EXISTS "segsql_ch"."segsql_memberships" ("segment" String, '
        '"entity_type" Nullable(String), "entity_id" String, "holdout" Nullable(Bool), '
        '"entered_at" Nullable(DateTime64(6, \'UTC\')), "run_id" Nullable(String)) '
        'ENGINE=MergeTree PARTITION BY "segment" ORDER BY ("segment", "entity_id")',
        'DROP TABLE IF EXISTS "main"."users"',
        'CREATE TABLE "main"."users" ("user_id" Nullable(Int64)) ENGINE=MergeTree ORDER BY ()',
    ]


def test_memberships_are_swapped_by_partition(tmp_path):
    a, rec = recording_adapter(tmp_path)
    a.replace_segment_memberships("vip", exp.select("*").from_("x"))
    stage = '"segsql_ch"."segsql_stage__vip"'
    assert rec.sql[0] == f"DROP TABLE IF EXISTS {stage}"
    assert rec.sql[1] == f'CREATE TABLE {stage} AS "segsql_ch"."segsql_memberships"'
    assert rec.sql[2].startswith(f'INSERT INTO {stage} ("segment", "entity_type", ')
    # the recorder's staging table is empty: an empty membership drops the partition
    assert rec.sql[4] == 'ALTER TABLE "segsql_ch"."segsql_memberships" DROP PARTITION \'vip\''
    assert rec.sql[5] == f"DROP TABLE IF EXISTS {stage}"


# ------------------------------------------------------------------ on chdb


@pytest.fixture
def ch(tmp_path):
    """A ClickHouse adapter on chdb, in a fresh data directory."""
    require("clickhouse", None if HAS_CHDB else "Python package 'chdb' is not installed")
    a = ClickHouseAdapter(target(tmp_path))
    yield a
    a.close()


JSON_DOCS = [
    {
        "s": "shoes",
        "n": 5,
        "f": 1.5,
        "b": True,
        "z": None,
        "o": {"k": "v"},
        "e": "",
        "u": "é ☃",
        "t": "2026-01-02T03:04:05",
        "d": "2026-01-02",
        "bad": "12",
        "q": "it's",
    },
    {
        "s": "5",
        "n": -2.5e3,
        "b": False,
        "o": {},
        "t": "2026-01-02 03:04",
        "d": "soon",
        "bad": "1,5",
    },
    {},
]
PATHS = [
    ("s",),
    ("n",),
    ("f",),
    ("b",),
    ("z",),
    ("o", "k"),
    ("e",),
    ("u",),
    ("t",),
    ("d",),
    ("bad",),
    ("q",),
    ("missing",),
    ("o", "missing"),
]


def json_probe(d, table: exp.Table) -> exp.Select:
    column = exp.column("doc", table="j", quoted=True)
    values = [exp.column("i", table="j", quoted=True)]
    for path in PATHS:
        text = d.json_text(column.copy(), path)
        values += [
            text,
            d.to_number(text.copy()),
            d.to_bool(text.copy()),
            d.to_timestamp(text.copy()),
        ]
    return exp.select(*values).from_(exp.alias_(table, "j", table=True)).order_by(values[0])


@pytest.mark.clickhouse
def test_json_text_and_casts_agree_with_duckdb(ch):
    """Text of strings, numbers as numbers, booleans, timestamps, NULL for missing, JSON
    null and values that do not cast: the same on ClickHouse as on DuckDB."""
    results = []
    for a in (memory_duckdb(), ch):
        table = a.dialect.table("main", "docs")
        a.execute(
            exp.Create(this=exp.Table(this=a.dialect.ident("main")), kind="SCHEMA", exists=True)
        )
        a.create_table(table, [("i", "BIGINT"), ("doc", "JSON")], replace=True)
        a.insert_rows(
            table,
            ["i", "doc"],
            [
                [a.dialect.literal(i, "BIGINT"), a.dialect.literal(doc, "JSON")]
                for i, doc in enumerate(JSON_DOCS)
            ],
        )
        results.append(a.fetch(json_probe(a.dialect, table)))
    duck, click = results
    for row_duck, row_click in zip(duck, click, strict=True):
        for i, path in enumerate(PATHS):
            text_d, num_d, bool_d, ts_d = row_duck[1 + 4 * i : 5 + 4 * i]
            text_c, num_c, bool_c, ts_c = row_click[1 + 4 * i : 5 + 4 * i]
            where = f"doc {row_duck[0]}, path {path}"
            if path != ("n",) and path != ("f",):  # a number's JSON text differs by engine
                assert text_c == text_d, where
            assert num_c == num_d, where
            assert bool_c == bool_d, where
            assert ts_c == ts_d, where


@pytest.mark.clickhouse
def test_holdout_formula_equals_python_on_100k_ids(ch):
    import hashlib

    seg = PROJECT.segments["holdout_half"]
    load_tables(ch, PROJECT, {})
    ch._execute('INSERT INTO "main"."users" ("user_id") SELECT number FROM numbers(100000)')
    got = {str(k): bool(h) for k, h in ch.fetch(view_query(PROJECT, seg, D))}
    expected = {
        str(i): int(hashlib.md5(f"holdout_half:{i}".encode()).hexdigest()[:7], 16) % 100 < 50
        for i in range(100000)
    }
    assert got == expected


class StrictTables(ClickHouseAdapter):
    """Fixture tables as ClickHouse users declare theirs: a column is Nullable only when
    the data holds a NULL. (An unmatched LEFT JOIN gives NULL for a Nullable column even
    without join_use_nulls, so all-Nullable tables would hide the trap.) Each table with
    rows is made again with the types of its literals."""

    def insert_rows(self, table, columns, rows):
        if rows:
            defs = []
            for name, *values in zip(columns, *rows, strict=True):
                typed = [v for v in values if isinstance(v, exp.Cast)]
                dtype = typed[0].to.copy() if typed else D.dtype("String")
                dtype.set("nullable", any(isinstance(v.this, exp.Null) for v in typed))
                defs.append(exp.ColumnDef(this=self.dialect.ident(name), kind=dtype))
            engine = [
                exp.EngineProperty(this=exp.var("MergeTree")),
                exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[]))]),
            ]
            self.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
            self.execute(
                exp.Create(
                    this=exp.Schema(this=table.copy(), expressions=defs),
                    kind="TABLE",
                    properties=exp.Properties(expressions=engine),
                )
            )
        super().insert_rows(table, columns, rows)


@pytest.mark.clickhouse
def test_views_are_right_without_session_settings(tmp_path):
    """Each fixture's segment as a view (T a literal) over non-Nullable columns, read in a
    session that does not set join_use_nulls, gives the fixture's members, as does the
    run's evaluation."""
    require("clickhouse", None if HAS_CHDB else "Python package 'chdb' is not installed")
    ch = StrictTables(target(tmp_path))
    try:
        ch.create_schema()
        failures = []
        for name, fixture in sorted(FIXTURES.items()):
            seg = PROJECT.segments[fixture.segment]
            load_tables(ch, PROJECT, fixture.given)
            ch.replace_view("v", view_query(PROJECT, seg, D, fixture.as_of))
            view = {str(r[0]) for r in ch.fetch(exp.select("*").from_(ch.table("v")))}
            query = evaluation_query(PROJECT, seg.entity, [seg], D, fixture.as_of)
            run = {r[0] for r in ch.fetch(query) if r[1]}
            if not view == run == {str(m) for m in fixture.members}:
                failures.append(f"{name}: view {sorted(view)}, run {sorted(run)}")
        setting = exp.func("getSetting", exp.Literal.string("join_use_nulls"))
        assert ch.fetch(exp.select(setting)) == [(False,)]
        assert not failures, "\n".join(failures)
    finally:
        ch.close()


@pytest.mark.clickhouse
def test_timestamps_keep_microseconds_and_come_back_naive_utc(ch):
    ch.create_schema()
    table = ch.table("ts")
    ch.create_table(table, [("t", "TIMESTAMP")], replace=True)
    t = datetime(2026, 3, 1, 23, 59, 59, 123456)
    ch.insert_rows(table, ["t"], [[D.literal(t, "TIMESTAMP")], [D.literal(None, "TIMESTAMP")]])
    rows = ch.fetch(exp.select("t").from_(table).order_by("t"))
    assert sorted(rows, key=str) == sorted([(t,), (None,)], key=str)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The transitions of three uninterrupted runs (the adapter is closed again: chdb
    holds one data path per process)."""
    require("clickhouse", None if HAS_CHDB else "Python package 'chdb' is not installed")
    from .test_swap import history, transitions

    reference = ClickHouseAdapter(target(tmp_path_factory.mktemp("reference")))
    try:
        list(history(reference))
        return transitions(reference)
    finally:
        reference.close()


@pytest.mark.clickhouse
@pytest.mark.parametrize("point", ["changes", "memberships"])
def test_crash_is_rolled_back_before_the_swap_and_forward_after_it(
    uninterrupted, tmp_path, point, monkeypatch
):
    """The two sides of the commit point, crashed (test_swap.py covers every point and
    in-process failures on DuckDB): the next run rolls a crash before the partition swap
    back with delete_rows, and one after it forward. The transitions recorded equal those
    of uninterrupted runs."""
    from .test_engines import replay_matches
    from .test_swap import history, transitions

    a = ClickHouseAdapter(target(tmp_path))
    try:
        for _ in history(a, point, crash=True, monkeypatch=monkeypatch):
            pass
        replay_matches(a)
        assert transitions(a) == uninterrupted
    finally:
        a.close()


@pytest.mark.clickhouse
def test_as_of_is_compared_naive(ch):
    """The last run's as_of comes back as a naive UTC datetime the runner can compare."""
    from segsql.runner.run import read_last_success, run_segments

    load_tables(ch, PROJECT, {"users": [{"user_id": 1}]})
    as_of = datetime(2026, 3, 1, 12, 0, 0, 250000)
    run_segments(ch, PROJECT, [PROJECT.segments["holdout_half"]], as_of)
    assert read_last_success(ch) == {"holdout_half": as_of}
    later = as_of + timedelta(hours=1)
    assert [
        r.status for r in run_segments(ch, PROJECT, [PROJECT.segments["holdout_half"]], later)
    ] == ["success"]


@pytest.mark.clickhouse
def test_clickhouse_connect_session_keeps_the_run_invariants(tmp_path):
    """The clickhouse-connect session used for servers, driven through its in-process chdb
    interface: same client calls (command, query), same settings, same SQL as over HTTP."""
    require("clickhouse", None if HAS_CHDB else "Python package 'chdb' is not installed")
    if importlib.util.find_spec("clickhouse_connect.driver._chdbclient") is None:
        pytest.skip("this clickhouse-connect has no chdb interface (1.x has)")
    import clickhouse_connect

    from segsql.adapters.clickhouse import SESSION_SETTINGS, _Server

    from .test_engines import test_run_invariants

    client = clickhouse_connect.get_client(
        interface="chdb", path=str(tmp_path / "chdb"), settings=dict(SESSION_SETTINGS)
    )
    a = adapter_on(_Server(client), tmp_path)
    try:
        test_run_invariants(a)
    finally:
        a.close()
