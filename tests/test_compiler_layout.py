"""The compiler's layout (render modules, plan_for, no plan mutation), the generated
column names of an evaluation, JSON text comparisons with mixed lists, and the words of
`compile --plan`."""

from __future__ import annotations

import json
import re
from datetime import datetime

import duckdb
import pytest
from click.testing import CliRunner

from segsql.cli import cli
from segsql.compiler import EVALUATION_ID, Renderer, evaluation_query, plan_for, view_query
from segsql.definitions.project import load_project
from segsql.dialects import get_dialect

from .conftest import write_project

T = datetime(2026, 1, 1)


# ------------------------------------------------------------------ layout


def test_plan_for_fuses_on_row_stores_only(conditions_project):
    outputs = {s.name: s.where for s in conditions_project.enabled.values() if s.entity == "user"}
    assert plan_for(conditions_project, "user", outputs, get_dialect("postgres")).fuse
    assert not plan_for(conditions_project, "user", outputs, get_dialect("duckdb")).fuse


def test_rendering_leaves_the_plan_as_it_was(conditions_project):
    """view_query renders its condition in WHERE without emptying plan.outputs, and a
    parent's sub-plan keeps its `ok` output."""
    d = get_dialect("duckdb")
    users = [s for s in conditions_project.enabled.values() if s.entity == "user"]
    plan = plan_for(conditions_project, "user", {s.name: s.where for s in users}, d)
    outputs = dict(plan.outputs)
    subs = {cond: dict(sub.plan.outputs) for cond, sub in plan.parents.items()}
    assert subs and any(subs.values())
    Renderer(d, T).select(plan, key_as_text=True)
    Renderer(d, T).select(plan, outputs={})
    assert plan.outputs == outputs
    assert {cond: sub.plan.outputs for cond, sub in plan.parents.items()} == subs


def test_evaluation_id_column_cannot_be_a_segment_name(conditions_project):
    d = get_dialect("duckdb")
    seg = next(iter(conditions_project.enabled.values()))
    evaluation = evaluation_query(conditions_project, seg.entity, [seg], d, T)
    assert evaluation.expressions[0].alias == EVALUATION_ID
    assert EVALUATION_ID.startswith("segsql_")  # segment names cannot start with it
    view = view_query(conditions_project, seg, d, T)
    assert [e.alias for e in view.expressions] == ["entity_id", "holdout"]


# ------------------------------------------------------------------ a segment named entity_id

NAMED_LIKE_COLUMNS = """
sources:
  users: {table: main.users, entity: user, key: user_id}
segments:
  - name: entity_id
    where: {property: plan, eq: pro}
  - name: holdout
    holdout: 50
    where: {property: plan, eq: free}
"""


def test_segments_named_like_generated_columns_run_end_to_end(tmp_path):
    write_project(tmp_path, NAMED_LIKE_COLUMNS)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE TABLE users (user_id BIGINT, plan VARCHAR)")
    con.execute(
        "INSERT INTO users SELECT range, CASE WHEN range % 2 = 0 THEN 'pro' ELSE 'free' END "
        "FROM range(10)"
    )
    con.close()
    result = CliRunner().invoke(
        cli, ["run", "--as-of", "2026-01-01", "--project-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT segment, entity_id, holdout FROM segsql.segsql_memberships"
        ).fetchall()
        view = con.execute('SELECT entity_id FROM segsql."entity_id"').fetchall()
        runs = con.execute("SELECT segment, status, members FROM segsql.segsql_runs").fetchall()
    finally:
        con.close()
    assert {e for s, e, _ in rows if s == "entity_id"} == {"0", "2", "4", "6", "8"}
    assert {e for s, e, _ in rows if s == "holdout"} == {"1", "3", "5", "7", "9"}
    assert not any(h for s, _, h in rows if s == "entity_id")  # no holdout: never held out
    assert {r[0] for r in view} == {0, 2, 4, 6, 8}
    assert sorted(runs) == [("entity_id", "success", 5), ("holdout", "success", 5)]


# ------------------------------------------------------------------ JSON text and mixed lists

JSON_SOURCES = """
sources:
  users: {table: SCHEMA.users, entity: user, key: user_id, json: [traits]}
segments:
  - name: mixed
    where: {property: traits.code, in: [7, "007"]}
  - name: mixed_not_in
    where: {property: traits.code, not_in: [7, "007"]}
  - name: mixed_eq_true
    where: {property: traits.flag, in: [true, "yes"]}
"""
JSON_ROWS = [
    (1, {"code": 7, "flag": True}),
    (2, {"code": "7", "flag": "true"}),
    (3, {"code": "07", "flag": "yes"}),
    (4, {"code": "007", "flag": False}),
    (5, {}),
]


def _json_members(con, schema: str, dialect: str, tmp_path) -> dict[str, set[str]]:
    write_project(tmp_path, JSON_SOURCES.replace("SCHEMA", schema))
    project = load_project(tmp_path)
    d = get_dialect(dialect)
    out = {}
    for name, seg in project.segments.items():
        sql = d.sql(evaluation_query(project, "user", [seg], d, T))
        out[name] = {str(r[0]) for r in con.execute(sql).fetchall() if r[1]}
    return out


EXPECTED = {
    "mixed": {"1", "2", "4"},  # 7 is the text "7": JSON 7 and "7", and "007"; not "07"
    "mixed_not_in": {"3"},  # a missing key is NULL: in neither
    "mixed_eq_true": {"1", "2", "3"},  # true is the text "true"
}


def test_mixed_list_compares_numbers_by_their_json_text_on_duckdb(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE TABLE users (user_id BIGINT, traits JSON)")
    con.executemany("INSERT INTO users VALUES (?, ?)", [(i, json.dumps(t)) for i, t in JSON_ROWS])
    try:
        assert _json_members(con, "main", "duckdb", tmp_path) == EXPECTED
    finally:
        con.close()


@pytest.mark.postgres
def test_mixed_list_compares_numbers_by_their_json_text_on_postgres(postgres_server, tmp_path):
    import uuid

    schema = f"layout_{uuid.uuid4().hex[:8]}"
    con = postgres_server.connect()
    try:
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE TABLE {schema}.users (user_id BIGINT, traits JSONB)")
        with con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {schema}.users VALUES (%s, %s)",
                [(i, json.dumps(t)) for i, t in JSON_ROWS],
            )
        assert _json_members(con, schema, "postgres", tmp_path) == EXPECTED
    finally:
        con.execute(f"DROP SCHEMA {schema} CASCADE")
        con.close()


# ------------------------------------------------------------------ compile --plan


def _explained(project, entity: str, fuse: bool = False) -> str:
    from segsql.plan import explain, plan_entity

    outputs = {s.name: s.where for s in project.enabled.values() if s.entity == entity}
    return explain(plan_entity(project, entity, outputs, fuse))


def _sequence_lines(text: str, segment: str) -> tuple[str, str]:
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if f"(used by {segment})" in line)
    assert lines[i].lstrip().startswith("sequence ")
    return lines[i], lines[i + 1]


def test_absent_last_step_starts_from_the_latest_present_step(conditions_project):
    """One present step before an absent one: the SQL takes the latest (MAX), the
    explanation says so; otherwise the earliest, or every first step with
    completed_within."""
    text = _explained(conditions_project, "user")
    head, how = _sequence_lines(text, "seq_abandon")
    assert "add_to_cart, then no checkout_completed, the first in the last 24h" in head
    assert how.strip() == (
        "from each user's latest add_to_cart in the last 24h, "
        "and no checkout_completed after that up to T"
    )
    assert "earliest" not in how
    _, how = _sequence_lines(text, "seq_absent_cw")
    assert how.strip() == (
        "from every signup, then the latest setup_started after it (within 1h of the "
        "first), and no setup_completed after that up to T"
    )
    _, how = _sequence_lines(text, "seq_sources")
    assert (
        how.strip()
        == "from each user's earliest email_clicked, then the earliest order_completed after it"
    )


@pytest.mark.parametrize("fuse", [False, True])
@pytest.mark.parametrize("entity", ["user", "account"])
def test_plan_parts_are_numbered_without_gaps(conditions_project, entity, fuse):

    text = _explained(conditions_project, entity, fuse)
    numbers: dict[str, list[int]] = {}
    for kind, n in re.findall(r"^\s*(scan|sequence|parent|members) (\d+):", text, re.M):
        numbers.setdefault(kind, []).append(int(n))
    assert numbers
    for kind, seen in numbers.items():
        assert seen == list(range(1, len(seen) + 1)), (kind, seen)
    assert "output(s)" not in text and ": -" not in text and "(0 " not in text
    assert not re.search(r"\b[sqpm]\d+\b", text)  # no SQL aliases


def test_plan_names_what_each_part_computes_and_who_uses_it(conditions_project):
    text = _explained(conditions_project, "user")
    assert text.startswith("user from main.users: 44 segment(s): seq_abandon, ")
    assert "    count of add_to_cart in the last 7d (used by ev_count, ev_zero, ev_ref)" in text
    # a parent's own scan continues the count, used by the segment of the parent condition
    assert re.search(
        r"parent \d: the user's account \(account_id = main.accounts.account_id\) "
        r"satisfies count of invoice_paid in the last 30d gte 1 \(used by paying_account_users\)",
        text,
    )
    assert "exists (used by has_account)" in text
    accounts = _explained(conditions_project, "account")
    assert (
        "members 2: per account, the number of its users (main.users.account_id) "
        "(used by empty_accounts)" in accounts
    )
