"""Rules of the target dialect, applied when compiling for it (not when reading YAML):

- names are normalised by the engine's own case rule, then quoted: Snowflake stores an
  unquoted `users` as USERS, Postgres as users, ClickHouse keeps the case;
- text that the engine cannot hold is refused: NUL on Postgres and Redshift, whatever
  dialect the definitions were read with.

Golden SQL for a project with mixed-case names is kept in tests/golden/case/ (regenerate
with SEGSQL_UPDATE_GOLDEN=1, like tests/test_golden.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot
import yaml
from click.testing import CliRunner
from sqlglot import exp

from segsql.cli import cli
from segsql.compiler import view_query
from segsql.definitions.project import load_project, project_from_docs
from segsql.definitions.yaml import load_text
from segsql.dialects import get_dialect

from .conftest import CONDITIONS, write_project

GOLDEN = Path(__file__).parent / "golden" / "case"
CONDITIONS_PROJECT = load_project(CONDITIONS)

SOURCES = """
sources:
  users: {table: Analytics.Users, entity: user, key: user_id, json: [traits]}
  events: {table: Analytics.Events, events_of: user, key: user_id, event: event_name,
           timestamp: ts, json: [properties]}
"""


def project_of(segments: list[dict], sources: str = SOURCES):
    text = sources + yaml.safe_dump({"segments": segments}, allow_unicode=True, width=10**9)
    return project_from_docs(".", [("main.yml", load_text(text, "main.yml"))])


# ------------------------------------------------------------------ identifier case


@pytest.mark.parametrize(
    "dialect, column, table",
    [
        ("duckdb", '"user_id"', '"analytics"."users"'),
        ("postgres", '"user_id"', '"analytics"."users"'),
        ("redshift", '"user_id"', '"analytics"."users"'),
        ("trino", '"user_id"', '"analytics"."users"'),
        ("spark", "`user_id`", "`analytics`.`users`"),
        ("databricks", "`user_id`", "`analytics`.`users`"),
        ("snowflake", '"USER_ID"', '"ANALYTICS"."USERS"'),
        ("clickhouse", '"User_Id"', '"Analytics"."Users"'),  # case-sensitive: as written
        ("bigquery", "`user_id`", "`Analytics`.`Users`"),  # table names are case-sensitive
    ],
)
def test_names_follow_the_dialect_case_rule(dialect, column, table):
    d = get_dialect(dialect)
    assert d.sql(d.ident("User_Id")) == column
    assert d.sql(d.table("Analytics", "Users")) == table


def test_quotes_inside_names_survive_normalisation():
    d = get_dialect("snowflake")
    assert d.sql(d.table('we"ird')) == '"WE""IRD"'
    assert d.normalize('we"ird') == 'WE"IRD'


@pytest.mark.parametrize("dialect", ["snowflake", "postgres", "clickhouse", "bigquery"])
def test_case_golden_sql(dialect):
    project = project_of([{"name": "pro_users", "where": {"property": "plan", "eq": "pro"}}])
    d = get_dialect(dialect)
    sql = d.sql(view_query(project, project.segments["pro_users"], d), pretty=True) + "\n"
    path = GOLDEN / f"{dialect}.sql"
    if os.environ.get("SEGSQL_UPDATE_GOLDEN") or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"missing golden file {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert sql == path.read_text(), f"compiled SQL differs from {path}"
    sqlglot.parse_one(sql, read=d.sqlglot)


def test_snowflake_tables_are_upper_case_postgres_lower_case():
    project = project_of([{"name": "pro_users", "where": {"property": "plan", "eq": "pro"}}])
    seg = project.segments["pro_users"]
    snowflake = get_dialect("snowflake")
    postgres = get_dialect("postgres")
    assert 'FROM "ANALYTICS"."USERS"' in snowflake.sql(view_query(project, seg, snowflake))
    assert 'FROM "analytics"."users"' in postgres.sql(view_query(project, seg, postgres))


def quoted_names(sql: str, dialect: str) -> set[str]:
    """The quoted identifiers of `sql` (columns, aliases, tables)."""
    tree = sqlglot.parse_one(sql, read=dialect)
    return {i.name for i in tree.find_all(exp.Identifier) if i.quoted}


def test_snowflake_quotes_no_lower_case_name():
    project = project_of(
        [{"name": "pro_users", "where": {"event": "signup", "within": "7d"}, "holdout": 10}]
    )
    d = get_dialect("snowflake")
    sql = d.sql(view_query(project, project.segments["pro_users"], d))
    names = quoted_names(sql, "snowflake")
    assert {"ENTITY_ID", "HOLDOUT", "USER_ID", "TS", "EVENT_NAME"} <= names
    assert not [n for n in names if n != n.upper()]


@pytest.mark.parametrize("segment", sorted(CONDITIONS_PROJECT.enabled))
def test_every_name_snowflake_sql_quotes_is_upper_case(segment):
    """Every column and alias of every condition kind (sources, segment names, the
    generated names of scans, sequences, parents and members)."""
    d = get_dialect("snowflake")
    sql = d.sql(view_query(CONDITIONS_PROJECT, CONDITIONS_PROJECT.segments[segment], d))
    assert not [n for n in quoted_names(sql, "snowflake") if n != n.upper()]


def test_executing_engines_keep_lower_case_names():
    """DuckDB, Postgres, ClickHouse and Spark read the runner's lower-case names back
    (segsql_entity_id, the segment columns, entity_id, holdout): unchanged there."""
    from datetime import datetime

    from segsql.compiler import EVALUATION_ID, evaluation_query

    segments = [s for s in CONDITIONS_PROJECT.enabled.values() if s.entity == "user"]
    for dialect in ("duckdb", "postgres", "clickhouse", "spark"):
        d = get_dialect(dialect)
        query = evaluation_query(CONDITIONS_PROJECT, "user", segments, d, datetime(2026, 1, 1))
        assert [e.alias for e in query.expressions] == [EVALUATION_ID] + [s.name for s in segments]
        view = view_query(CONDITIONS_PROJECT, segments[0], d)
        assert [e.alias for e in view.expressions] == ["entity_id", "holdout"]


# ------------------------------------------------------------------ NUL in text

NUL_CONDITIONS = {
    "value": {"property": "plan", "eq": "a\x00b"},
    "in": {"property": "plan", "in": ["a", "b\x00"]},
    "json_key": {"property": "traits.k\x00", "eq": "a"},
    "event_name": {"event": ["x", "a\x00b"]},
    "event_filter": {"event": "e", "where": {"property": "properties.x", "contains": "\x00"}},
    "measure_of": {"event": "e", "count_distinct": {"of": "properties.k\x00", "gte": 2}},
    "sql": {"sql": "plan = 'a\x00'"},
    "step_event": {"sequence": {"steps": [{"event": "a"}, {"event": "b\x00"}]}},
    "step_filter": {
        "sequence": {
            "steps": [
                {"event": "a", "where": {"property": "properties.p", "eq": "\x00"}},
                {"event": "b"},
            ]
        }
    },
    "nested": {
        "all": [{"property": "plan", "eq": "x"}, {"not": {"property": "plan", "eq": "\x00"}}]
    },
}


def nul_project(tmp_path: Path, where: dict) -> tuple[Path, int]:
    """A DuckDB-profile project whose segment `with_nul` holds a NUL in `where`, written
    on one line; (project dir, that line)."""
    text = (
        SOURCES
        + "segments:\n"
        + "  - {name: plain, where: {property: plan, eq: a}}\n"
        + "  - name: with_nul\n"
        + "    where: "
        + yaml.safe_dump(where, default_flow_style=True, width=10**9).strip()
        + "\n"
    )
    write_project(tmp_path, text)
    return tmp_path, text.count("\n")


@pytest.mark.parametrize("kind", sorted(NUL_CONDITIONS))
def test_nul_is_refused_when_compiling_for_postgres(tmp_path, kind):
    project, line = nul_project(tmp_path, NUL_CONDITIONS[kind])
    ok = CliRunner().invoke(cli, ["compile", "-q", "--project-dir", str(project)])
    assert ok.exit_code == 0, ok.output
    assert (project / "target" / "compiled" / "with_nul.sql").exists()
    for dialect in ("postgres", "redshift"):
        result = CliRunner().invoke(
            cli, ["compile", "-q", "--dialect", dialect, "--project-dir", str(project)]
        )
        assert result.exit_code == 2, result.output
        assert f"segments/main.yml:{line}:" in result.output, result.output
        assert "segment 'with_nul'" in result.output and f"NUL character (\\x00) on {dialect}" in (
            result.output
        )


def test_nul_in_a_referenced_segment_is_refused_with_its_place(tmp_path):
    text = (
        SOURCES
        + "segments:\n"
        + '  - {name: base, where: {property: plan, eq: "a\\0"}}\n'
        + "  - {name: uses_base, where: {in_segment: base}}\n"
    )
    write_project(tmp_path, text)
    result = CliRunner().invoke(
        cli,
        [
            "compile",
            "-q",
            "-s",
            "uses_base",
            "--dialect",
            "postgres",
            "--project-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2, result.output
    line = SOURCES.count("\n") + 2
    assert f"segments/main.yml:{line}:" in result.output, result.output
    assert "segment 'base' (referenced by segment 'uses_base')" in result.output


def test_evaluation_query_is_checked_too():
    from segsql.compiler import evaluation_query
    from segsql.errors import DefinitionError

    project = project_of(
        [
            {"name": "plain", "where": {"property": "plan", "eq": "a"}},
            {"name": "with_nul", "where": NUL_CONDITIONS["value"]},
        ]
    )
    segments = list(project.segments.values())
    from datetime import datetime

    as_of = datetime(2026, 1, 1)
    evaluation_query(project, "user", segments, get_dialect("duckdb"), as_of)
    with pytest.raises(DefinitionError, match="with_nul"):
        evaluation_query(project, "user", segments, get_dialect("postgres"), as_of)
