"""Hostile values and names (docs/language.md, Definition errors: values reach SQL only as
literals or validated identifiers): quotes, backslashes, semicolons, comment markers, NUL,
right-to-left marks, emoji, 10,000-character strings.

(a) Through the compiler, on every dialect: the SQL parses back (in that dialect) to one
    statement, and each value comes back as exactly the same literal; JSON keys come back
    as the same key path.
(b) On DuckDB and on Postgres, rows holding such values: `eq: <value>` matches exactly the
    row holding it, and a JSON key with such a name reads exactly its own value.
    Postgres text cannot hold NUL: a segment comparing with a NUL fails alone with a clear
    error (checked below), and the NUL rows are left out of the Postgres tables.
(c) Secrets: a password from an environment variable never shows in the output of any
    command (also with --debug and on errors) nor in any file under target/.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from sqlglot import exp
from sqlglot.dialects.spark import Spark as SparkDialect

from segsql.compiler import view_query
from segsql.definitions.project import project_from_docs
from segsql.definitions.yaml import load_text
from segsql.dialects import get_dialect
from segsql.errors import DefinitionError

from .conftest import write_project
from .engines import PROFILE_PG
from .reference.strategies import reproducible

DIALECTS = (
    "duckdb",
    "postgres",
    "snowflake",
    "bigquery",
    "spark",
    "clickhouse",
    "redshift",
    "trino",
)
LONG = "x" * 10_000
NASTY = (
    "'",
    "''",
    '"',
    "\\",
    "\\'",
    "'\\",
    "\\\\'",
    "x'); DROP TABLE users; --",
    "a;b",
    "; SELECT 1",
    "-- comment",
    "/* c */",
    "*/",
    "/*",
    "#",
    "%",
    "_",
    "%_",
    "$1",
    "$$",
    "$tag$x$tag$",
    "?",
    ":name",
    "{}",
    "{{ x }}",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "שלום",
    "مرحبا",
    "🎉",
    "👩\u200d👩\u200d👧",
    "e\u0301",
    "\t\n\r",
    " spaced ",
    "",
    "\ufeffbom",
    "\u2028",
    "NULL",
    "null",
    "true",
    "1e5",
    "0x41",
    "é",
    "\U0010ffff",
    "\\u0041",
    "\\x41",
    "\\n",
    "${HOME}",
    "`rm -rf /`",
    "</script>",
    LONG,
    "'" * 5000,
    "\\" * 5001,
    "a'b\"c\\d;e--f/*g*/h\x00i\u202ej🎉",
)
# JSON keys: any text without "." (the path separator) and not empty
KEYS = (
    "a'b",
    'a"b',
    "a\\b",
    "a\\",
    "'",
    '"',
    "\\",
    "k;DROP TABLE users;--",
    "--",
    "/*",
    "*/",
    "$",
    "[0]",
    "a[0]",
    "*",
    "@",
    "\u202eevil",
    "🎉",
    "键",
    " ",
    "a b",
    "{a,b}",
    ",",
    "NULL",
    "$x",
    "k" * 10_000,
)

SOURCES = """
sources:
  users: {table: main.users, entity: user, key: user_id, json: [traits]}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts, json: [properties]}
"""


def project_of(segments: list[dict], sources: str = SOURCES):
    """A project from Python values, through YAML text like a real one."""
    text = sources + yaml.safe_dump({"segments": segments}, allow_unicode=True, width=10**9)
    return project_from_docs(".", [("main.yml", load_text(text, "main.yml"))])


class RawSpark(SparkDialect):
    """Spark as sqlglot reads it, but keeping GET_JSON_OBJECT paths as the literal text:
    sqlglot's own path reader differs from Spark's (`$.a;b.c` is two keys for Spark)."""

    def to_json_path(self, path):
        return path


def parse_back(sql: str, dialect: str) -> exp.Expression:
    read = RawSpark if dialect == "spark" else get_dialect(dialect).sqlglot
    trees = [t for t in sqlglot.parse(sql, read=read) if t is not None]
    assert len(trees) == 1, f"{dialect}: {len(trees)} statements in\n{sql[:2000]}"
    assert isinstance(trees[0], exp.Query), f"{dialect}: not a query: {sql[:500]}"
    return trees[0]


def strings(tree: exp.Expression) -> list[str]:
    return [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]


# ------------------------------------------------------------------ (a) values, compiled


def value_segment(v: str) -> dict:
    """One segment using the value in every text comparison, and in an event filter on a
    JSON key (one view per dialect keeps the test fast)."""
    return {
        "name": "s",
        "where": {
            "any": [
                {"property": "plan", "eq": v},
                {"property": "plan", "in": [v, "other"]},
                {"property": "plan", "contains": v},
                {"property": "plan", "starts_with": v},
                {"property": "plan", "ends_with": v},
                {"property": "plan", "matches": re.escape(v)},
                {"property": "traits.note", "ne": v},
                {"event": "order", "where": {"property": "properties.category", "eq": v}},
            ]
        },
    }


hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY[:40]), min_size=2, max_size=6).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)


def check_value(v: str) -> None:
    project = project_of([value_segment(v)])
    for dialect in DIALECTS:
        d = get_dialect(dialect)
        if "\x00" in v and not d.text_allows_nul:  # refused, naming the place
            with pytest.raises(DefinitionError, match=r"main.yml:\d+: .*NUL"):
                view_query(project, project.segments["s"], d)
            continue
        sql = d.sql(view_query(project, project.segments["s"], d))
        literals = strings(parse_back(sql, dialect))
        assert literals.count(v) >= 7, (dialect, v[:80], [s[:80] for s in literals])
        assert re.escape(v) in literals, (dialect, "matches")


@reproducible(int(os.environ.get("SEGSQL_INJECTION_EXAMPLES", "60")))
@given(hostile_text.filter(lambda v: v != ""))
@example("x'); DROP TABLE users; --")
@example(LONG)
def test_values_round_trip_as_literals_on_every_dialect(v):
    check_value(v)


@pytest.mark.parametrize("v", [v for v in NASTY if v], ids=lambda v: repr(v)[:24])
def test_each_nasty_value_round_trips(v):
    check_value(v)


def test_empty_text_value():
    """`eq: ""` compiles to the empty literal everywhere (contains "" is TRUE)."""
    check_value("")


# ------------------------------------------------------------------ (a) names, compiled


def known_key_bug(dialect: str, key: str) -> str | None:
    """Dialect bugs this test found (segsql/dialects/ and sqlglot; reported to the lead):
    the key path written for these dialects does not read the same key back."""
    if "\\" in key and dialect in ("snowflake", "bigquery", "trino"):
        return (
            f"{dialect}: a backslash in a quoted JSON path key is written unescaped; a "
            "trailing one ends the key early (DuckDB: Binder Error), an inner one reads "
            "back as an escape (\\b as backspace) in sqlglot"
        )
    if dialect == "bigquery" and key == "--":
        return "bigquery: the key '--' is written unquoted ($.--), which sqlglot cannot read"
    return None


def json_keys(tree: exp.Expression, dialect: str) -> list[list[str]]:
    """The key paths of the JSON reads in a parsed query, however the dialect spells them."""
    d = sqlglot.Dialect.get_or_raise(get_dialect(dialect).sqlglot)
    paths: list[list[str]] = []
    if dialect == "spark":
        for node in tree.find_all(exp.JSONExtractScalar, exp.JSONExtract, exp.Bracket):
            paths.append(spark_keys(node))
        return paths
    if dialect == "duckdb":  # JSON Pointer paths: /a/b with ~0 for ~ and ~1 for /
        for node in tree.find_all(exp.JSONExtractScalar):
            pointer = node.expression
            if isinstance(pointer, exp.Literal) and pointer.this.startswith("/"):
                paths.append(
                    [k.replace("~1", "/").replace("~0", "~") for k in pointer.this.split("/")[1:]]
                )
        return paths
    for node in tree.find_all(exp.JSONPath):
        paths.append([p.this for p in node.expressions if isinstance(p, exp.JSONPathKey)])
    for lit in strings(tree):
        if dialect == "postgres" and lit.startswith("{"):
            paths.append(pg_array(lit))
        elif lit.startswith(("$", "[")) and dialect != "clickhouse":
            logging.disable(logging.WARNING)  # sqlglot warns about paths it cannot read
            try:
                path = d.to_json_path(exp.Literal.string(lit))
            finally:
                logging.disable(logging.NOTSET)
            if isinstance(path, exp.JSONPath):
                paths.append([p.this for p in path.expressions if isinstance(p, exp.JSONPathKey)])
    for fn in tree.find_all(exp.Func):
        name = fn.name if isinstance(fn, exp.Anonymous) else fn.sql_name()
        if str(name).upper() in ("JSONEXTRACT", "JSON_EXTRACT_PATH_TEXT"):
            args = [a.this for a in fn.expressions if isinstance(a, exp.Literal)]
            paths.append([a for a in args if a != "Nullable(String)"])
    return paths


def spark_keys(node: exp.Expression) -> list[str]:
    """Keys read by GET_JSON_OBJECT(.., path) and FROM_JSON(..)['key'] chains, with Spark's
    own path rules: `.key` runs to the next `.` or `[`, `['key']` to the next `'`."""
    if isinstance(node, exp.Bracket) and isinstance(node.this, exp.FromJson):
        return spark_keys(node.this.this) + [e.this for e in node.expressions]
    if not isinstance(node, (exp.JSONExtractScalar, exp.JSONExtract)):
        return []
    base, path = spark_keys(node.this), node.expression
    if isinstance(path, exp.JSONPath):
        return base + [p.this for p in path.expressions if isinstance(p, exp.JSONPathKey)]
    text, keys, i = path.this, [], 1
    while i < len(text):
        if text.startswith("['", i):
            j = text.index("'", i + 2)
            keys.append(text[i + 2 : j])
            i = j + 2
        else:
            j = min(
                [k for k in (text.find(".", i + 1), text.find("[", i + 1)) if k > 0] or [len(text)]
            )
            keys.append(text[i + 1 : j])
            i = j
    return base + keys


def pg_array(text: str) -> list[str]:
    """A Postgres text[] literal like {"a\\"b",c}."""
    out, i, body = [], 0, text[1:-1]
    while i < len(body):
        if body[i] == '"':
            i, item = i + 1, ""
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                item += body[i]
                i += 1
            out.append(item)
            i += 2
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            out.append(body[i:j])
            i = j + 1
    return out


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("key", KEYS, ids=lambda k: repr(k)[:16])
def test_json_key_names_round_trip(dialect, key):
    project = project_of(
        [
            {"name": "s", "where": {"property": f"traits.{key}", "eq": "v"}},
            {"name": "t", "where": {"property": f"traits.{key}.inner", "eq": "v"}},
            {
                "name": "u",
                "where": {"event": "e", "where": {"property": f"properties.{key}", "eq": "v"}},
            },
        ]
    )
    d = get_dialect(dialect)
    problems = []
    for name, path in (("s", [key]), ("t", [key, "inner"]), ("u", [key])):
        try:
            sql = d.sql(view_query(project, project.segments[name], d))
        except ValueError as err:  # sqlglot refuses to write it
            problems.append(f"{name}: cannot compile: {err}")
            continue
        tree = parse_back(sql, dialect)
        found = json_keys(tree, dialect)
        if path not in found:
            problems.append(f"{name}: wrote {found!r:.300} for {path!r:.100}")
    if problems and known_key_bug(dialect, key):
        pytest.xfail(known_key_bug(dialect, key))
    assert not problems, "\n".join(problems)


def test_names_are_validated_identifiers():
    """Column, table and source names are checked, never quoted blindly."""
    bad = {
        "column": "{property: 'plan\"; DROP TABLE users; --', eq: x}",
        "json column": "{property: 'no_such.x', eq: x}",
        "segment name": None,
    }
    for what, where in bad.items():  # noqa: B007 - names the case in a failure
        if where is None:
            text = SOURCES + 'segments:\n  - name: "s; DROP TABLE users"\n    where: {all: []}\n'
        else:
            text = SOURCES + f"segments:\n  - name: s\n    where: {where}\n"
        with pytest.raises(DefinitionError):
            project_from_docs(".", [("main.yml", load_text(text, "main.yml"))])
    for source in (
        "{table: 'main.users; DROP TABLE x', entity: user, key: user_id}",
        "{table: main.users, entity: user, key: 'id--'}",
        "{table: main.users, entity: user, key: id, json: ['t\"x']}",
        "{table: main.users, entity: user, key: id, parents: {account: 'a b'}}",
    ):
        text = f"sources:\n  users: {source}\n  accounts: {{table: a, entity: account, key: id}}\n"
        with pytest.raises(DefinitionError):
            project_from_docs(".", [("main.yml", load_text(text, "main.yml"))])


# ------------------------------------------------------------------ (b) on the engines


def engine_values(engine: str) -> list[str]:
    values = list(dict.fromkeys(NASTY))
    if engine == "postgres":  # text cannot hold NUL in Postgres
        values = [v for v in values if "\x00" not in v]
    return values


class Engine:
    """Source tables filled through the driver's own parameters (not through segsql's SQL),
    and a way to evaluate a segment the way `segsql run` does."""

    def __init__(self, engine: str, request, tmp_path: Path):
        self.engine = engine
        if engine == "duckdb":
            import duckdb

            self.con = duckdb.connect(str(tmp_path / "wh.duckdb"))
            self.schema, self.json_type, self.param = "main", "JSON", "?"
        else:
            pg = request.getfixturevalue("postgres_server")
            self.con = pg.connect()
            self.schema = f"inj_{uuid.uuid4().hex[:8]}"
            self.con.execute(f"CREATE SCHEMA {self.schema}")
            self.json_type, self.param = "JSONB", "%s"

    def load(self, table: str, ddl: str, rows: list[tuple]) -> None:
        self.con.execute(f"CREATE TABLE {self.schema}.{table} ({ddl})")
        marks = ", ".join([self.param] * len(rows[0]))
        if self.engine == "duckdb":
            self.con.executemany(f"INSERT INTO {self.schema}.{table} VALUES ({marks})", rows)
        else:
            with self.con.cursor() as cur:
                cur.executemany(f"INSERT INTO {self.schema}.{table} VALUES ({marks})", rows)

    def members(self, project, segment: str) -> set[str]:
        from segsql.compiler import evaluation_query

        d = get_dialect(self.engine)
        seg = project.segments[segment]
        sql = d.sql(evaluation_query(project, seg.entity, [seg], d, datetime(2026, 1, 1)))
        return {str(r[0]) for r in self.con.execute(sql).fetchall() if r[1]}

    def close(self) -> None:
        if self.engine == "postgres":
            self.con.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.con.close()


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request, tmp_path):
    e = Engine(request.param, request, tmp_path)
    yield e
    e.close()


def test_eq_matches_exactly_the_row_holding_the_value(engine):
    values = engine_values(engine.engine)
    engine.load(
        "users",
        f"user_id BIGINT, plan TEXT, traits {engine.json_type}",
        [(i, v, json.dumps({"note": v})) for i, v in enumerate(values)],
    )
    sources = SOURCES.replace("main.", f"{engine.schema}.")
    segments = [
        {"name": f"{prefix}{i}", "where": {"property": prop, "eq": v}}
        for i, v in enumerate(values)
        for prefix, prop in (("v", "plan"), ("j", "traits.note"))
    ]
    project = project_of(segments, sources)
    wrong = []
    for i, v in enumerate(values):
        for prefix in ("v", "j"):
            got = engine.members(project, f"{prefix}{i}")
            if got != {str(i)}:
                wrong.append(f"{prefix}{i} {v!r:.40}: {sorted(got)[:5]}")
    assert not wrong, "\n".join(wrong)
    count = engine.con.execute(f"SELECT count(*) FROM {engine.schema}.users").fetchall()[0][0]
    assert count == len(values)  # nothing was dropped along the way


@pytest.mark.parametrize("key", KEYS, ids=lambda k: repr(k)[:16])
def test_json_key_reads_exactly_its_own_value(engine, key):
    """Rows {key: "hit", other keys: "miss"}: `traits.<key> eq hit` finds exactly the row
    that has the key (and the key nested one level deeper, too)."""
    rows = [
        (1, "a", json.dumps({key: "hit", "other": "miss"})),
        (2, "b", json.dumps({"other": "hit", key + "x": "hit", "x" + key: "hit"})),
        (3, "c", json.dumps({key: {"inner": "hit"}})),
    ]
    engine.load("users", f"user_id BIGINT, plan TEXT, traits {engine.json_type}", rows)
    project = project_of(
        [
            {"name": "top", "where": {"property": f"traits.{key}", "eq": "hit"}},
            {"name": "nested", "where": {"property": f"traits.{key}.inner", "eq": "hit"}},
        ],
        SOURCES.replace("main.", f"{engine.schema}."),
    )
    got = {}
    for name in ("top", "nested"):
        try:
            got[name] = engine.members(project, name)
        except Exception as err:  # noqa: BLE001 - reported below
            got[name] = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
    if (
        got != {"top": {"1"}, "nested": {"3"}} and engine.engine == "duckdb" and key.endswith("\\")
    ):  # a dialect bug (segsql/dialects/duckdb.py), reported to the lead
        pytest.xfail(known_key_bug("duckdb", key))
    assert got == {"top": {"1"}, "nested": {"3"}}


NUL_CONDITIONS = [
    {"property": "plan", "eq": "a\x00b"},
    {"property": "plan", "in": ["a", "b\x00"]},
    {"property": "traits.k\x00", "eq": "a"},
    {"event": "a\x00b"},
    {"event": "e", "where": {"property": "properties.x", "contains": "\x00"}},
]
NUL_IDS = ["eq", "in", "json_key", "event_name", "event_filter"]


def run_with_nul(postgres_server, tmp_path, where) -> tuple[subprocess.CompletedProcess, str]:
    """`segsql run` on Postgres of a project with a NUL in one segment; (result, schema)."""
    schema = f"inj_{uuid.uuid4().hex[:8]}"
    write_project(
        tmp_path,
        SOURCES.replace("main.", "public.")
        + yaml.safe_dump(
            {
                "segments": [
                    {"name": "plain", "where": {"property": "plan", "eq": "a"}},
                    {"name": "with_nul", "where": where},
                ]
            }
        ),
        PROFILE_PG.format(
            host=postgres_server.host,
            port=postgres_server.port,
            user=postgres_server.user,
            db=postgres_server.dbname,
            schema=schema,
        ),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "segsql.cli",
            "run",
            "--project-dir",
            str(tmp_path),
            "--as-of",
            "2026-01-01",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, schema


@pytest.mark.parametrize("where", NUL_CONDITIONS, ids=NUL_IDS)
def test_nul_on_postgres_is_a_definition_error(postgres_server, tmp_path, where):
    """Postgres text cannot hold NUL, and libpq cuts a statement at one (the server then
    sees an unterminated string): the compiler refuses it for the Postgres dialect (not
    for the one the project was read with), naming the place; no NUL reaches the server."""
    result, _ = run_with_nul(postgres_server, tmp_path, where)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "Traceback" not in out
    assert "segments/main.yml:" in out and "NUL" in out, out


def test_nul_on_postgres_refuses_the_run_before_writing(postgres_server, tmp_path):
    result, schema = run_with_nul(postgres_server, tmp_path, NUL_CONDITIONS[0])
    assert result.returncode == 2, result.stdout + result.stderr
    assert "segments/main.yml:" in result.stderr and "NUL" in result.stderr, result.stderr
    con = postgres_server.connect()
    try:
        assert not con.execute(
            f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}'"
        ).fetchall()
    finally:
        con.close()


def test_nul_is_fine_where_the_engine_takes_it():
    """DuckDB holds NUL in text (the engine test above matches such rows exactly); the
    same definitions compiled for Postgres are refused, whatever they were read with."""
    project = project_of([{"name": "s", "where": {"property": "plan", "eq": "a\x00b"}}])
    view_query(project, project.segments["s"], get_dialect("duckdb"))
    with pytest.raises(DefinitionError, match=r"main.yml:\d+: .*NUL"):
        view_query(project, project.segments["s"], get_dialect("postgres"))


# ------------------------------------------------------------------ (c) secrets

SECRET = "S3cr3t-pa55'\"%{x}-" + uuid.uuid4().hex
SECRET_PROFILE = """
segsql:
  target: pg
  outputs:
    pg:
      type: postgres
      host: "{host}"
      port: {port}
      user: {user}
      password: "{{{{ env_var('SEGSQL_TEST_PASSWORD') }}}}"
      dbname: {db}
      schema: {schema}
"""


def test_secrets_never_show(postgres_server, tmp_path):
    from .engines import _free_port

    pg = postgres_server
    schema = f"inj_{uuid.uuid4().hex[:8]}"
    segments = SOURCES.replace("main.", f"{schema}_src.") + yaml.safe_dump(
        {
            "segments": [
                {"name": "trial", "where": {"property": "plan", "eq": "trial"}},
                {"name": "broken", "where": {"property": "unreadable", "eq": "x"}},
            ]
        }
    )
    profiles = SECRET_PROFILE.format(
        host=pg.host, port=pg.port, user=pg.user, db=pg.dbname, schema=schema
    )
    write_project(tmp_path, segments, profiles)
    refused = tmp_path / "refused"
    write_project(
        refused,
        segments,
        SECRET_PROFILE.format(
            host="127.0.0.1", port=_free_port(), user=pg.user, db=pg.dbname, schema=schema
        ),
    )
    con = pg.connect()
    con.execute(f"CREATE SCHEMA {schema}_src")
    con.execute(f"CREATE TABLE {schema}_src.user_rows (user_id BIGINT, plan TEXT, traits JSONB)")
    # the column exists (the pre-run check passes) but reading it fails: a run-time error
    con.execute(
        f"CREATE VIEW {schema}_src.users AS SELECT *, CAST(1 / (user_id - 1) AS TEXT) "
        f"AS unreadable FROM {schema}_src.user_rows"
    )
    con.execute(
        f"CREATE TABLE {schema}_src.events (user_id BIGINT, event_name TEXT, "
        "ts TIMESTAMP, properties JSONB)"
    )
    con.execute(f"INSERT INTO {schema}_src.user_rows VALUES (1, 'trial', '{{}}')")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},
        "SEGSQL_TEST_PASSWORD": SECRET,
    }
    commands = [
        (tmp_path, ["run", "--as-of", "2026-01-01"]),
        (tmp_path, ["run", "--as-of", "2026-01-02", "--debug"]),
        (tmp_path, ["validate"]),
        (tmp_path, ["validate", "--debug"]),
        (tmp_path, ["ls"]),
        (tmp_path, ["ls", "--debug"]),
        (tmp_path, ["compile"]),
        (tmp_path, ["compile", "--debug", "--plan"]),
        (tmp_path, ["test"]),
        (refused, ["run"]),
        (refused, ["run", "--debug"]),
        (refused, ["validate"]),
        (refused, ["ls"]),
    ]
    try:
        outputs = []
        for root, args in commands:
            result = subprocess.run(
                [sys.executable, "-m", "segsql.cli", *args, "--project-dir", str(root)],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
            )
            outputs.append((args, result))
            assert SECRET not in result.stdout + result.stderr, args
            assert SECRET[:12] not in result.stdout + result.stderr, args
        # the commands really ran: a refused connection, a failing segment, SQL in --debug
        codes = {
            " ".join(a) + (" (refused)" if i >= 9 else ""): r.returncode
            for i, (a, r) in enumerate(outputs)
        }
        assert codes["run --as-of 2026-01-01"] == 1 and codes["compile"] == 0, codes
        assert codes["run (refused)"] == 1 and codes["validate (refused)"] == 1, codes
        debug = outputs[1][1]
        assert "segsql.sql" in debug.stderr or "SELECT" in debug.stderr
        files = (
            [p for root in (tmp_path, refused) for p in (root / "target").rglob("*") if p.is_file()]
            if (tmp_path / "target").exists()
            else []
        )
        assert files  # compile wrote its SQL
        for path in files:
            assert SECRET.encode() not in path.read_bytes(), path
        runs = con.execute(
            f"SELECT error FROM {schema}.segsql_runs WHERE error IS NOT NULL"
        ).fetchall()
        assert runs and all(SECRET not in r[0] for r in runs)
    finally:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"DROP SCHEMA IF EXISTS {schema}_src CASCADE")
        con.close()
