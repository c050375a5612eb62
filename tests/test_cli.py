"""The commands as users type them: compile, validate, ls, test, selectors, --help."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest
import sqlglot
from click.testing import CliRunner

from segsql.cli import cli

from .conftest import write_project

SEGMENTS = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts, json: [properties]}
segments:
  - name: buyers
    tags: [commerce]
    owner: growth
    where: {event: checkout_completed, within: 30d}
  - name: repeat_buyers
    tags: [commerce, vip]
    where: {all: [{in_segment: buyers}, {event: checkout_completed, count: {gte: 2}}]}
  - name: trial
    refresh: 1h
    where: {property: plan, eq: trial}
tests:
  - name: one_buyer
    segment: buyers
    as_of: 2026-03-01
    given:
      users: [{user_id: 1}, {user_id: 2}]
      events: [{user_id: 1, event_name: checkout_completed, ts: 2026-02-20}]
    expect: {members: [1]}
"""


@pytest.fixture
def project(tmp_path):
    write_project(tmp_path, SEGMENTS)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id, 'trial' AS plan FROM range(3)")
    con.execute(
        "CREATE TABLE events (user_id BIGINT, event_name VARCHAR, ts TIMESTAMP, properties JSON)"
    )
    con.execute("INSERT INTO events VALUES (1, 'checkout_completed', now()::TIMESTAMP, '{}')")
    con.close()
    return tmp_path


def invoke(project, *args):
    return CliRunner().invoke(cli, [*args, "--project-dir", str(project)])


@pytest.mark.parametrize(
    "dialect",
    [
        "duckdb",
        "postgres",
        "snowflake",
        "bigquery",
        "spark",
        "clickhouse",
        "redshift",
        "trino",
        "databricks",
    ],
)
def test_compile_writes_files_for_any_dialect_without_connection(project, dialect):
    (project / "profiles.yml").unlink()  # compiling never needs a profile
    result = invoke(project, "compile", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    for name in ("buyers", "repeat_buyers", "trial"):
        text = (project / "target" / "compiled" / f"{name}.sql").read_text()
        sqlglot.parse_one(text.split("\n", 1)[1], read=dialect)
        assert f"-- {name}:" in result.output


def test_compile_unknown_dialect(project):
    result = invoke(project, "compile", "--dialect", "postgress")
    assert result.exit_code == 2
    assert "did you mean 'postgres'" in result.output


def test_compile_plan_is_explained(project):
    result = invoke(project, "compile", "--plan")
    assert result.exit_code == 0, result.output
    assert "scan 1: checkout_completed" in result.output
    # buyers' feature is computed once although repeat_buyers references it
    assert result.output.count("count of checkout_completed in the last 30d") == 1
    # what a run after another reads to find the users that can have changed
    assert "narrowing (DuckDB, Postgres): 3 segment(s) evaluate only the users" in result.output
    assert "rows of checkout_completed in events since the last run, and at T-30d" in (
        result.output
    )
    assert "the user's row: a changed property; an added or deleted row\n" in result.output


@pytest.mark.parametrize(
    "selector,expected",
    [
        (["buyers"], {"buyers"}),
        (["tag:vip"], {"repeat_buyers"}),
        (["+repeat_buyers"], {"repeat_buyers", "buyers"}),
        (["buyers+"], {"repeat_buyers", "buyers"}),
        (["buyers trial"], {"buyers", "trial"}),
        (["buyers", "trial"], {"buyers", "trial"}),
        (["tag:commerce,tag:vip"], {"repeat_buyers"}),
    ],
)
def test_selectors(project, selector, expected):
    args = [a for s in selector for a in ("--select", s)]
    result = invoke(project, "compile", "-q", *args)
    assert result.exit_code == 0, result.output
    assert {line.split("/")[-1][:-4] for line in result.output.split()} == expected


@pytest.mark.parametrize("command", ["compile", "ls", "test", "run"])
def test_select_takes_several_values_like_dbt(project, command):
    """`--select a b` (dbt's nargs) is the union, as `--select "a b"` and repeated options."""
    extra = {"compile": ["-q"], "run": ["--all", "--as-of", "2026-03-01"]}.get(command, [])
    outputs = []
    for select in (
        ["--select", "tag:vip", "trial"],
        ["-s", "tag:vip", "trial"],
        ["--select=tag:vip", "trial"],
        ["--select", "tag:vip trial"],
        ["--select", "tag:vip", "--select", "trial"],
    ):
        result = invoke(project, command, *select, *extra)
        assert result.exit_code == 0, (select, result.output)
        outputs.append(result.output)
    if command == "compile":
        assert outputs[0].split() == [
            "target/compiled/repeat_buyers.sql",
            "target/compiled/trial.sql",
        ]
    elif command == "ls":
        assert [line.split()[0] for line in outputs[0].splitlines()[1:]] == [
            "repeat_buyers",
            "trial",
        ]
    elif command == "test":  # the only fixture is of buyers, which is not selected
        assert "0 passed, 0 failed" in outputs[0]
    else:
        assert "segsql run: 2 segment(s)" in outputs[0]
        assert " OK    repeat_buyers " in outputs[0] and " OK    trial " in outputs[0]
    if command != "run":  # run's lines carry clock times
        assert len(set(outputs)) == 1
    # the values end at the next option, which still counts
    result = invoke(project, command, "--select", "buyers", "trial", "--debug", *extra)
    assert result.exit_code == 0, result.output


def test_select_needs_a_value(project):
    result = invoke(project, "ls", "--select", "--debug")
    assert result.exit_code == 2
    assert "'--select' requires a selector, not the option '--debug'" in result.output
    assert invoke(project, "ls", "--select", "buyers", "tral").exit_code == 2


def test_select_help_reads_well():
    out = CliRunner().invoke(cli, ["run", "--help"], terminal_width=100).output
    assert "-s, --select SELECTOR..." in out
    assert "--select a b" in " ".join(out.split())


def test_unknown_selector(project):
    result = invoke(project, "ls", "--select", "buyer")
    assert result.exit_code == 2
    assert "did you mean 'buyers'" in result.output


@pytest.mark.parametrize(
    "selector,message",
    [
        ("buyer", "selector 'buyer' matches no segment (did you mean 'buyers'?)"),
        ("+repeat_buyer", "selector '+repeat_buyer' matches no segment (did you mean"),
        ("tag:vipp", "selector 'tag:vipp' matches no segment: no tag 'vipp' (did you mean 'vip'?)"),
        ("commerce", "selector 'commerce' matches no segment (did you mean 'tag:commerce'?)"),
        # each part matches something, the intersection nothing
        (
            "tag:commerce,trial",
            "selector 'tag:commerce,trial' matches no segment: 'tag:commerce' and 'trial' each "
            "match a segment, but no segment matches both",
        ),
        ("trial tag:vip,tag:nope", "selector 'tag:nope' matches no segment: no tag 'nope'"),
        ("buyers,", "selector 'buyers,' has an empty part"),
        ("", "--select was given no selector"),
    ],
)
@pytest.mark.parametrize("command", ["compile", "ls", "test", "run"])
def test_selector_matching_nothing_is_a_usage_error(project, command, selector, message):
    result = invoke(project, command, "--select", selector)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    if command == "run":  # refused before anything is written
        con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        con.close()
        assert "segsql" not in schemas
    assert not (project / "target" / "compiled").exists()


def test_selecting_disabled_segments_says_so(project):
    text = (project / "segments" / "main.yml").read_text()
    text = text.replace(
        "    tags: [commerce, vip]\n", "    tags: [commerce, vip]\n    enabled: false\n"
    )
    (project / "segments" / "main.yml").write_text(text)
    result = invoke(project, "compile", "--select", "tag:vip")
    assert result.exit_code == 2
    assert "every segment tagged 'vip' is disabled" in result.output
    result = invoke(project, "run", "--select", "repeat_buyers")
    assert result.exit_code == 2
    assert "selector 'repeat_buyers' matches no segment (it is disabled)" in result.output
    result = invoke(project, "ls", "--select", "tag:vip")  # ls lists disabled segments
    assert result.exit_code == 0 and "repeat_buyers (disabled)" in result.output


def test_validate_finds_near_miss_event_and_column(project):
    assert invoke(project, "validate").exit_code == 0
    text = (project / "segments" / "main.yml").read_text()
    (project / "segments" / "main.yml").write_text(
        text.replace(
            "{event: checkout_completed, within: 30d}", "{event: checkout_complete, within: 30d}"
        ).replace("{property: plan, eq: trial}", "{property: plann, eq: trial}")
    )
    result = invoke(project, "validate")
    assert result.exit_code == 2  # a definition that does not fit the warehouse
    assert "Definitions OK" in result.output and "2 problem(s) found" in result.output
    assert (
        "event 'checkout_complete' never occurs in main.events; did you mean 'checkout_completed'?"
    ) in result.output.replace(" (did", "; did").replace("?)", "?")
    assert "column 'plann'" in result.output and "did you mean 'plan'" in result.output


def test_validate_missing_table(project):
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    con.execute("DROP TABLE events")
    con.close()
    result = invoke(project, "validate")
    assert result.exit_code == 2
    assert "table main.events does not exist" in result.output
    assert "Warehouse OK" not in result.output


def test_ls_shows_last_run_and_size(project):
    assert invoke(project, "run", "--as-of", "2026-11-25").exit_code == 0
    result = invoke(project, "ls")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert "growth" in lines["buyers"] and "commerce" in lines["buyers"]
    assert "1h" in lines["trial"] and lines["trial"].split()[-1] == "3"


def test_fixture_pass_and_fail_output(project):
    result = invoke(project, "test")
    assert result.exit_code == 0, result.output
    assert "PASS  one_buyer" in result.output and "1 passed, 0 failed" in result.output
    text = (project / "segments" / "main.yml").read_text()
    (project / "segments" / "main.yml").write_text(text.replace("members: [1]", "members: [2, 3]"))
    result = invoke(project, "test")
    assert result.exit_code == 1
    assert "FAIL  one_buyer (buyers) at segments/main.yml:" in result.output
    assert "missing:    [2, 3]" in result.output
    assert "unexpected: [1]" in result.output
    assert (
        invoke(project, "test", "--select", "trial").output.strip().endswith("0 passed, 0 failed")
    )


def test_help_does_not_import_engines():
    code = (
        "import sys; from segsql.cli import cli; "
        "assert 'duckdb' not in sys.modules and 'sqlglot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run(
        [sys.executable, "-m", "segsql.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("compile", "run", "validate", "ls", "test", "demo"):
        assert command in out


def test_secrets_never_printed(project, monkeypatch):
    monkeypatch.setenv("SEGSQL_TEST_SECRET", "hunter2-very-secret")
    (project / "profiles.yml").write_text(
        "segsql:\n  target: prod\n  outputs:\n    prod:\n      type: postgres\n"
        "      host: 127.0.0.1\n      port: 1\n      user: u\n"
        "      password: \"{{ env_var('SEGSQL_TEST_SECRET') }}\"\n      dbname: d\n"
    )
    result = invoke(project, "run", "--debug")
    assert "hunter2-very-secret" not in result.output
    result = invoke(project, "run")
    assert result.exit_code in (1, 2)
    assert "hunter2-very-secret" not in result.output


def test_missing_driver_names_the_pip_extra(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if segsql[postgres] were missing
    sys.modules.pop("segsql.adapters.postgres", None)
    (project / "profiles.yml").write_text(
        "segsql:\n  target: prod\n  outputs:\n    prod: {type: postgres, host: 127.0.0.1}\n"
    )
    result = invoke(project, "run")
    assert result.exit_code == 2
    assert 'pip install "segsql[postgres]"' in result.output


def test_compile_only_target_refuses_to_run(project):
    (project / "profiles.yml").write_text(
        "segsql:\n  target: wh\n  outputs:\n    wh: {type: snowflake, account: x}\n"
    )
    result = invoke(project, "run")
    assert result.exit_code == 2 and "compile" in result.output
    assert invoke(project, "compile", "-q").exit_code == 0  # uses the target's dialect
