"""SPEC points checked through the command line: YAML merge keys in segment files, a
templated `target:` in profiles.yml, `--as-of` in the future, the run summary."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest
from click.testing import CliRunner

from segsql.cli import cli
from segsql.clock import utcnow

from .conftest import write_project

SOURCES = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts}
"""


def invoke(project, *args, **kwargs):
    return CliRunner().invoke(cli, [*args, "--project-dir", str(project)], **kwargs)


def warehouse(root, file="warehouse.duckdb"):
    con = duckdb.connect(str(root / file))
    con.execute("CREATE TABLE users AS SELECT range AS user_id, 'trial' AS plan FROM range(3)")
    con.execute("CREATE TABLE events (user_id BIGINT, event_name VARCHAR, ts TIMESTAMP)")
    con.execute("INSERT INTO events VALUES (1, 'checkout_completed', TIMESTAMP '2026-02-27')")
    con.close()
    return root


def schemas(root, file="warehouse.duckdb") -> set[str]:
    con = duckdb.connect(str(root / file), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    finally:
        con.close()


# ------------------------------------------------------------------ YAML merge keys

MERGED = (
    SOURCES
    + """
segments:
  - &buyers
    name: buyers
    owner: growth
    tags: [commerce]
    refresh: 1h
    where: &bought {event: checkout_completed, within: 30d}
  - <<: *buyers
    name: recent_buyers
    tags: [recent]
    where:
      <<: *bought
      within: 7d
  - <<: [{owner: first, description: from the first mapping}, *buyers]
    name: first_wins
"""
)


def test_merge_keys_explicit_keys_win(tmp_path):
    root = warehouse(write_project(tmp_path, MERGED))
    result = invoke(root, "ls")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert rows["buyers"][1:5] == ["user", "commerce", "growth", "1h"]
    assert rows["recent_buyers"][1:5] == ["user", "recent", "growth", "1h"]
    assert rows["first_wins"][1:5] == ["user", "commerce", "first", "1h"]
    plan = invoke(root, "compile", "--plan").output
    assert "checkout_completed in the last 7d" in plan
    assert "checkout_completed in the last 30d" in plan
    result = invoke(root, "run", "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "3 refreshed" in result.output


def test_merge_keys_keep_line_numbers(tmp_path):
    # an explicit key after a merge is reported on its own line ...
    text = MERGED.replace("    tags: [recent]\n", "    tags: [recent]\n    refresh: soon\n")
    line = text.splitlines().index("    refresh: soon") + 1
    root = write_project(tmp_path, text)
    result = invoke(root, "validate", "--offline")
    assert result.exit_code == 2
    assert f"segments/main.yml:{line}:" in result.output and "'soon'" in result.output
    # ... an unknown one too, with "did you mean"
    text = MERGED.replace("    name: first_wins\n", "    name: first_wins\n    tagz: [x]\n")
    line = text.splitlines().index("    tagz: [x]") + 1
    write_project(tmp_path, text)
    result = invoke(root, "validate", "--offline")
    assert result.exit_code == 2
    assert f"segments/main.yml:{line}:" in result.output
    assert "did you mean 'tags'" in result.output
    # a merged key is reported where it is written: in the mapping merged in
    text = MERGED.replace("  - <<: [{owner: first,", "  - <<: [{ownr: first,")
    line = (
        text.splitlines().index(
            "  - <<: [{ownr: first, description: from the first mapping}, *buyers]"
        )
        + 1
    )
    write_project(tmp_path, text)
    result = invoke(root, "validate", "--offline")
    assert result.exit_code == 2
    assert f"segments/main.yml:{line}:" in result.output and "'ownr'" in result.output


def test_merged_keys_point_at_their_own_lines():
    from segsql.definitions.yaml import load_text

    lines = MERGED.splitlines()
    doc = load_text(MERGED, "main.yml")
    recent, first = doc["segments"][1], doc["segments"][2]
    assert recent.loc_of("owner").line == lines.index("    owner: growth") + 1
    assert recent.loc_of("name").line == lines.index("    name: recent_buyers") + 1
    assert recent["where"].loc_of("within").line == lines.index("      within: 7d") + 1
    assert (
        recent["where"].loc_of("event").line
        == lines.index("    where: &bought {event: checkout_completed, within: 30d}") + 1
    )
    assert (
        first["owner"] == "first"
        and first.loc_of("refresh").line == lines.index("    refresh: 1h") + 1
    )


@pytest.mark.parametrize(
    "body,message",
    [
        ("  - name: a\n    name: b\n    where: {property: plan, eq: x}\n", "duplicate key 'name'"),
        (
            "  - &d {name: a, where: {property: plan, eq: x}}\n  - {<<: *d, <<: *d, name: b}\n",
            "duplicate key '<<'",
        ),
        ("  - {<<: 3, name: a, where: {property: plan, eq: x}}\n", "'<<' (a YAML merge key)"),
    ],
)
def test_merge_keys_still_refuse_duplicates(tmp_path, body, message):
    root = write_project(tmp_path, SOURCES + "segments:\n" + body)
    result = invoke(root, "validate", "--offline")
    assert result.exit_code == 2
    assert message in result.output
    assert "segments/main.yml:" in result.output


# ------------------------------------------------------------------ profiles.yml `target:`

TEMPLATED_TARGET = """
segsql:
  target: "{{ env_var('SEGSQL_TARGET', 'dev') }}"
  outputs:
    dev: {type: duckdb, path: warehouse.duckdb, schema: segsql, threads: 1}
    staging: {type: duckdb, path: staging.duckdb, schema: segsql, threads: 1}
"""

SEGMENT = SOURCES + "segments:\n  - {name: trial, where: {property: plan, eq: trial}}\n"


@pytest.fixture
def two_targets(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGSQL_TARGET", raising=False)
    root = write_project(tmp_path, SEGMENT, TEMPLATED_TARGET)
    warehouse(root)
    warehouse(root, "staging.duckdb")
    return root


def test_profile_target_is_rendered(two_targets, monkeypatch):
    result = invoke(two_targets, "validate")
    assert result.exit_code == 0, result.output
    assert "(target 'dev')" in result.output
    monkeypatch.setenv("SEGSQL_TARGET", "staging")
    result = invoke(two_targets, "run", "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "target 'staging' (duckdb)" in result.output
    assert "segsql" in schemas(two_targets, "staging.duckdb")
    assert "segsql" not in schemas(two_targets)  # dev's warehouse.duckdb: untouched
    # --target wins, and the template is then not needed
    monkeypatch.setenv("SEGSQL_TARGET", "nope")
    result = invoke(two_targets, "validate", "--target", "dev")
    assert result.exit_code == 0 and "(target 'dev')" in result.output


def test_profile_target_rendering_errors(two_targets, monkeypatch):
    monkeypatch.setenv("SEGSQL_TARGET", "stagin")
    result = invoke(two_targets, "validate")
    assert result.exit_code == 2
    assert "has no target 'stagin'" in result.output
    assert "did you mean 'staging'" in result.output and "dev, staging" in result.output
    text = TEMPLATED_TARGET.replace("'SEGSQL_TARGET', 'dev'", "'SEGSQL_TARGET_UNSET'")
    (two_targets / "profiles.yml").write_text(text)
    result = invoke(two_targets, "validate")
    assert result.exit_code == 2
    assert "'segsql.target' needs environment variable 'SEGSQL_TARGET_UNSET'" in result.output
    assert invoke(two_targets, "validate", "-t", "staging").exit_code == 0


# ------------------------------------------------------------------ --as-of in the future


@pytest.fixture
def one_segment(tmp_path):
    return warehouse(write_project(tmp_path, SEGMENT))


@pytest.mark.parametrize(
    "ahead",
    [
        lambda now: f"{now + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}",
        lambda now: f"{now + timedelta(minutes=6):%Y-%m-%dT%H:%M:%S}Z",
        lambda now: f"{now + timedelta(hours=3):%Y-%m-%dT%H:%M:%S}+02:00",  # 1h ahead in UTC
        lambda now: f"{now + timedelta(days=2):%Y-%m-%d}",
    ],
)
def test_as_of_in_the_future_is_refused(one_segment, ahead):
    result = invoke(one_segment, "run", "--as-of", ahead(utcnow()))
    assert result.exit_code == 2, result.output
    assert "is in the future" in result.output
    assert "would block every later run until that time" in result.output
    assert "nothing was written" in result.output and "Traceback" not in result.output
    assert "segsql" not in schemas(one_segment)


def test_as_of_a_little_ahead_is_accepted(one_segment):
    now = utcnow()
    for as_of in (  # (runs go forward in time)
        # 1h ahead on the clock of a zone 2h east of UTC: 1h ago
        f"{now + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}+02:00",
        f"{now + timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}",
    ):
        result = invoke(one_segment, "run", "--as-of", as_of, "--all")
        assert result.exit_code == 0, (as_of, result.output)


# ------------------------------------------------------------------ the run summary

FAILING = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name,
           timestamp: ts}
  bad_events: {table: main.bad_events, events_of: user, key: user_id, event: event_name,
               timestamp: ts}
segments:
  - {name: broken, where: {event: checkout_completed, source: bad_events}}
  - {name: buyers, where: {event: checkout_completed, source: events}}
  - {name: trial, where: {property: plan, eq: trial}}
  - {name: hourly, refresh: 1h, where: {property: plan, eq: pro}}
"""


def test_run_summary_counts_not_run_segments(tmp_path):
    root = warehouse(write_project(tmp_path, FAILING))
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE VIEW bad_events AS SELECT * FROM events")
    con.close()
    result = invoke(root, "run", "--as-of", "2026-03-01T00:00:00")
    assert result.exit_code == 0, result.output
    assert "Done in" in result.output and ": 4 refreshed, 0 failed, 0 not due\n" in result.output
    con = duckdb.connect(str(root / "warehouse.duckdb"))  # now it fails when read
    con.execute(  # (its timestamps too: an incremental run reads only the rows since)
        "CREATE OR REPLACE VIEW bad_events AS SELECT user_id, "
        "CAST(error('unreadable') AS VARCHAR) AS event_name, "
        "CAST(error('unreadable') AS TIMESTAMP) AS ts FROM events"
    )
    con.close()
    result = invoke(root, "run", "--as-of", "2026-03-01T00:10:00", "--fail-fast")
    assert result.exit_code == 1, result.output
    assert " ERROR broken " in result.output
    assert ": 0 refreshed, 1 failed, 1 not due, 2 not run (--fail-fast)\n" in result.output
    assert "1 segment(s) failed: broken; 2 not run (--fail-fast)" in result.output
    # without --fail-fast the others go on, and the summary has no "not run"
    result = invoke(root, "run", "--as-of", "2026-03-01T00:20:00")
    assert result.exit_code == 1, result.output
    assert ": 2 refreshed, 1 failed, 1 not due\n" in result.output
    assert "not run" not in result.output
