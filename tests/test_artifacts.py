"""target/manifest.json and target/run_results.json from real commands, validated against
docs/schemas/*.schema.json (jsonschema), and their content checked against the warehouse."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import jsonschema
import pytest

from .test_cli import invoke
from .test_cli import project as project  # noqa: F401 - the fixture

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"
BROKEN = """
  - name: broken
    where: {sql: "CAST(plan AS INTEGER) > 0"}
"""


def validate(kind: str, path: Path) -> dict:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(path.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    meta = document["metadata"]
    datetime.fromisoformat(meta["generated_at"].replace("Z", "+00:00"))
    return document


def test_compile_writes_a_valid_manifest(project):
    result = invoke(project, "compile", "--quiet")
    assert result.exit_code == 0, result.output
    m = validate("manifest", project / "target" / "manifest.json")
    assert m["metadata"]["adapter_type"] == "duckdb"
    assert set(m["segments"]) == {
        "segment.segsql.buyers",
        "segment.segsql.repeat_buyers",
        "segment.segsql.trial",
    }
    buyers = m["segments"]["segment.segsql.buyers"]
    assert buyers["owner"] == "growth" and buyers["tags"] == ["commerce"]
    assert buyers["file"] == "segments/main.yml" and buyers["line"] >= 1
    assert buyers["compiled_path"] == "target/compiled/buyers.sql"
    assert (project / buyers["compiled_path"]).is_file()
    assert m["segments"]["segment.segsql.trial"]["refresh"] == "1h"
    assert m["parent_map"]["segment.segsql.repeat_buyers"] == ["segment.segsql.buyers"]
    assert m["child_map"]["segment.segsql.buyers"] == ["segment.segsql.repeat_buyers"]
    assert m["parent_map"]["segment.segsql.buyers"] == []
    assert "source.segsql.events" in buyers["depends_on"]["sources"]
    assert set(m["sources"]) == {"source.segsql.users", "source.segsql.events"}


def test_run_results_match_the_warehouse(project):
    first = invoke(project, "run", "--as-of", "2026-12-01T00:00:00+00:00")
    assert first.exit_code == 0, first.output
    r1 = validate("run_results", project / "target" / "run_results.json")
    m1 = validate("manifest", project / "target" / "manifest.json")
    assert r1["metadata"]["invocation_id"] == m1["metadata"]["invocation_id"]
    assert r1["args"]["which"] == "run"
    assert r1["args"]["as_of"] == "2026-12-01T00:00:00+00:00"
    by_id = {r["unique_id"]: r for r in r1["results"]}
    assert {r["status"] for r in r1["results"]} == {"success"}
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT segment, members, entered, exited FROM segsql.segsql_runs WHERE status = 'success'"
    ).fetchall()
    con.close()
    for segment, members, entered, exited in rows:
        r = by_id[f"segment.segsql.{segment}"]
        assert (r["members"], r["entered"], r["exited"]) == (members, entered, exited)
        assert r["as_of"] == "2026-12-01T00:00:00Z" and r["mode"] == "full"
    assert by_id["segment.segsql.trial"]["members"] == 3
    # half an hour later only `trial` (refresh: 1h) is not due: skipped, with the reason
    second = invoke(project, "run", "--as-of", "2026-12-01T00:30:00Z")
    assert second.exit_code == 0, second.output
    r2 = validate("run_results", project / "target" / "run_results.json")
    # each result's mode is its segsql_runs row's (incremental runs included)
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    modes = dict(
        con.execute(
            "SELECT segment, mode FROM segsql.segsql_runs WHERE as_of = TIMESTAMPTZ "
            "'2026-12-01 00:30:00+00'"
        ).fetchall()
    )
    con.close()
    assert (
        modes
        and {r["unique_id"].split(".")[-1]: r["mode"] for r in r2["results"] if r["mode"]} == modes
    )
    trial = next(r for r in r2["results"] if r["unique_id"] == "segment.segsql.trial")
    assert trial["status"] == "skipped" and trial["message"] == "not due (refresh)"
    assert r2["metadata"]["invocation_id"] != r1["metadata"]["invocation_id"]


def test_a_failing_segment_is_an_error_result_with_its_message(project):
    path = project / "segments" / "main.yml"
    path.write_text(path.read_text().replace("tests:", BROKEN.lstrip("\n") + "tests:", 1))
    assert "broken" in path.read_text()
    result = invoke(project, "run", "--as-of", "2026-12-01")
    assert result.exit_code == 1, result.output
    doc = validate("run_results", project / "target" / "run_results.json")
    broken = next(r for r in doc["results"] if r["unique_id"] == "segment.segsql.broken")
    assert broken["status"] == "error" and "trial" in broken["message"].lower()
    assert broken["members"] is None
    ok = [r for r in doc["results"] if r["status"] == "success"]
    assert len(ok) == 3


def test_test_command_writes_results_per_fixture(project):
    result = invoke(project, "test")
    assert result.exit_code == 0, result.output
    doc = validate("run_results", project / "target" / "run_results.json")
    assert [(r["unique_id"], r["status"]) for r in doc["results"]] == [
        ("test.segsql.one_buyer", "success")
    ]
    validate("manifest", project / "target" / "manifest.json")


@pytest.mark.parametrize("kind", ["manifest", "run_results"])
def test_schemas_refuse_a_wrong_document(kind):
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"metadata": {}}, schema)


def test_backfill_writes_results_with_every_step_added_up(project):
    args = ("--from", "2026-11-29", "--to", "2026-12-01", "--every", "1d")
    result = invoke(project, "backfill", "--select", "trial", *args)
    assert result.exit_code == 0, result.output
    doc = validate("run_results", project / "target" / "run_results.json")
    assert doc["args"]["which"] == "backfill"
    (trial,) = doc["results"]
    assert trial["unique_id"] == "segment.segsql.trial" and trial["status"] == "success"
    assert trial["as_of"].startswith("2026-12-01")
    con = duckdb.connect(str(project / "warehouse.duckdb"), read_only=True)
    entered, exited = con.execute(
        "SELECT count(*) FILTER (WHERE change = 'entered'), count(*) FILTER (WHERE change = "
        "'exited') FROM segsql.segsql_membership_changes WHERE segment = 'trial'"
    ).fetchone()
    con.close()
    assert (trial["entered"], trial["exited"]) == (entered, exited)
    validate("manifest", project / "target" / "manifest.json")
