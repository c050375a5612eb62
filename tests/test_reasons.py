"""`reason` on every change row (SPEC section 12): for generated condition trees and
data (tests/reference/strategies.py), each part's value and measure in the reasons a run
writes equal those of the reference evaluator, on every executing engine; an entity
that no longer exists exits with `entity_missing`."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
import yaml
from hypothesis import given
from sqlglot import exp

from segsql.compiler import evaluation_query
from segsql.compiler.reasons import reason_parts, single, stored, value_column
from segsql.definitions.project import project_from_docs
from segsql.definitions.yaml import load_text
from segsql.dialects import get_dialect
from segsql.runner.fixtures import load_tables, members_at
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, RUNS, c

from .conftest import CONDITIONS
from .reference.evaluator import _Evaluator
from .reference.strategies import cases, reproducible
from .test_differential import to_project
from .test_engines import PROJECT, T0, reload, run_data

EXAMPLES = {"duckdb": 60, "postgres": 40, "clickhouse": 30, "spark": 8}


def parts(where: dict) -> list[tuple[str, dict]]:
    for kind in ("all", "any"):
        if kind in where:
            return [(f"where.{kind}[{i}]", c) for i, c in enumerate(where[kind])]
    if "not" in where:
        return [("where.not", where["not"])]
    return [("where", where)]


def same_measure(ours, theirs) -> bool:
    if theirs is None or ours is None:
        return ours is None and theirs is None
    if isinstance(theirs, datetime):
        return datetime.fromisoformat(ours) == theirs
    return math.isclose(float(ours), float(Fraction(theirs)), rel_tol=1e-9, abs_tol=1e-9)


def change_rows(adapter, segment=None):
    query = exp.select(c("segment"), c("entity_id"), c("change"), c("reason")).from_(
        adapter.table(CHANGES)
    )
    if segment:
        query = query.where(c("segment").eq(exp.Literal.string(segment)))
    return adapter.fetch(query)


def guard_reason(ref, defs, seg: str, eid: str, doc: list) -> bool:
    """A reason naming a suppression or a priority rival (an exit they caused, SPEC 14):
    checked against the reference when `ref` is given (the segment's `where` holds and
    the suppression does; or the entity is eligible for the segment and for a rival of
    its group that outranks it); False for a reason of condition parts."""
    if len(doc) != 1 or not ({"suppression", "priority_group"} & doc[0].keys()):
        return False
    if ref is None:  # a row of an earlier run: the reference is at case.as_of
        return True
    members = {str(m) for m in ref.segment_members(seg)}
    assert eid not in members, (seg, eid, doc)
    if "suppression" in doc[0]:
        assert eid in {str(m) for m in ref.raw_members(seg)}, (seg, eid, doc)
        assert eid not in {str(m) for m in ref.eligible_members(seg)}, (seg, eid, doc)
    else:
        rival = doc[0]["member_of"]
        assert (
            doc[0]["priority_group"] == defs[seg]["priority_group"] == defs[rival]["priority_group"]
        )
        assert defs[rival]["priority"] < defs[seg]["priority"]
        assert eid in {str(m) for m in ref.eligible_members(seg)}, (seg, eid, doc)
        assert eid in {str(m) for m in ref.eligible_members(rival)}, (seg, eid, doc)
    return True


def test_reasons_equal_the_reference(adapter, engine):
    n = int(os.environ.get("SEGSQL_REASON_EXAMPLES", EXAMPLES[engine]))
    checked = []

    @reproducible(n)
    @given(case=cases())
    def check(case):
        project = to_project(case.project, adapter.dialect.name)
        adapter.drop_schema(adapter.schema)  # a fresh state per case
        load_tables(adapter, project, case.tables, types=case.column_types)
        segments = [s for s in project.segments.values() if s.enabled]
        for T in (case.as_of - timedelta(days=20), case.as_of):
            results = run_segments(adapter, project, segments, T)
            assert {r.status for r in results} == {"success"}, results
        ref = _Evaluator(case.project, case.tables, case.as_of)
        defs = {s["name"]: s for s in case.project["segments"]}
        rows = [r for r in change_rows(adapter)]
        latest = {}  # the rows of the run at case.as_of: reasons at that T
        for seg, eid, change, reason in rows:
            latest.setdefault((seg, eid), []).append((change, reason))
        for seg, eid, change, reason in rows:
            doc = json.loads(reason)
            assert isinstance(doc, list), reason
            definition = defs[seg]
            entity = definition.get("entity", "user")
            entities = {str(k): (k, row) for k, row in ref.entities(entity).items()}
            if eid not in entities:
                assert change == "exited" and doc == [{"entity_missing": True}], (seg, eid, doc)
                continue
            if guard_reason(None, defs, seg, eid, doc):  # checked below at case.as_of
                continue
            expected_paths = [p for p, _ in parts(definition["where"])]
            assert [d["path"] for d in doc] == expected_paths
        # the values: checked for the last run's rows, whose T is case.as_of
        [(last_run,)] = adapter.fetch(
            exp.select(c("run_id"))
            .distinct()
            .from_(adapter.table(RUNS))
            .where(c("as_of").eq(adapter.dialect.instant(case.as_of)))
        )
        for seg, eid, change, reason in adapter.fetch(
            exp.select(c("segment"), c("entity_id"), c("change"), c("reason"))
            .from_(adapter.table(CHANGES))
            .where(c("run_id").eq(exp.Literal.string(last_run)))
        ):
            definition = defs[seg]
            entity = definition.get("entity", "user")
            entities = {str(k): (k, row) for k, row in ref.entities(entity).items()}
            if eid not in entities:
                continue
            key, row = entities[eid]
            if guard_reason(ref, defs, seg, eid, json.loads(reason)):
                continue
            for d, (path, part) in zip(json.loads(reason), parts(definition["where"]), strict=True):
                assert d["value"] == ref.cond(part, entity, key, row), (seg, eid, path, d, part)
                if "event" in part:
                    found, value = ref.measure_value(part, entity, key, row)
                    assert same_measure(d["measure"], value if found else None), (
                        seg,
                        eid,
                        path,
                        d,
                        part,
                        value,
                    )
                else:
                    assert "measure" not in d
            checked.append(change)

    check()
    assert checked, "no change rows were checked"
    print(f"{engine}: {len(checked)} change rows checked")


def test_reason_of_an_entity_that_left_the_table(adapter):
    """A user deleted from the entity table exits with `entity_missing`; the others'
    reasons explain their exit (the failing count)."""
    segments = [PROJECT.segments["ev_count"], PROJECT.segments["prop_not"]]
    reload(adapter, run_data(6))
    run_segments(adapter, PROJECT, segments, T0 + timedelta(days=6))
    data = run_data(6)
    gone = {str(u["user_id"]) for u in data["users"] if u["user_id"] in (1, 2)}
    data["users"] = [u for u in data["users"] if str(u["user_id"]) not in gone]
    reload(adapter, data)
    run_segments(adapter, PROJECT, segments, T0 + timedelta(days=12))
    exits = [
        (seg, eid, json.loads(reason))
        for seg, eid, change, reason in change_rows(adapter)
        if change == "exited"
    ]
    assert {eid for seg, eid, _ in exits if seg == "prop_not"} == gone
    for _seg, eid, doc in exits:
        if eid in gone:
            assert doc == [{"entity_missing": True}]
        else:  # ev_count: the count in the last 7 days fell below 2
            assert doc[0]["path"] == "where" and doc[0]["value"] is False
            assert doc[0]["measure"] < 2
    assert any(eid not in gone for _, eid, _ in exits)


# Parts whose truth value the change-row statement recomputes from stored measures (event
# conditions under all / any / not), parts it reads from their own column (properties,
# `sql`, `in_segment`, a mix), and the since_nth_last whose NULL measure is ambiguous
# (`is_null: true`: its own column)
MIXED_PARTS = [
    {"property": "plan", "eq": "trial"},
    {"property": "traits.role", "eq": "admin"},
    {"sql": "user_id % 2 = 0"},
    {"event": "email_opened", "since_nth_last": {"event": "email_delivered", "n": 2}},
    {
        "event": "email_opened",
        "since_nth_last": {"event": "email_delivered", "n": 2},
        "last": {"is_null": True},
    },
    {"not": {"event": "add_to_cart", "within": "7d"}},
    {
        "any": [
            {"event": "add_to_cart", "within": "1d"},
            {"not": {"event": "email_opened", "within": "30d", "count": {"gte": 1}}},
        ]
    },
    {
        "any": [
            {"event": "add_to_cart", "within": "2d", "count": {"gte": 2}},
            {"all": [{"property": "plan", "eq": "pro"}, {"sql": "user_id > 5"}]},
        ]
    },
    {"in_segment": "part_0"},
    {"event": "add_to_cart", "within": "30d", "last": {"within": "3d"}},
]


def mixed_project(dialect: str):
    """`mixed` (any of MIXED_PARTS), `every` (all of them), `not_one` (not of one), and
    `part_<i>`: each part as a segment of its own (the oracle of its truth value)."""
    sources = yaml.safe_load((CONDITIONS / "segments" / "sources.yml").read_text())
    segments = [{"name": f"part_{i}", "where": p} for i, p in enumerate(MIXED_PARTS)]
    segments += [
        {"name": "mixed", "where": {"any": MIXED_PARTS}},
        {"name": "every", "where": {"all": MIXED_PARTS[:4] + MIXED_PARTS[5:]}},
        {"name": "not_one", "where": {"not": MIXED_PARTS[6]}},
    ]
    text = yaml.safe_dump({**sources, "segments": segments}, sort_keys=False)
    return project_from_docs(".", [("mixed.yml", load_text(text, "mixed.yml"))], dialect)


def mixed_data() -> dict[str, list[dict]]:
    users = [
        {
            "user_id": i,
            "plan": ["trial", "pro", "free"][i % 3],
            "account_id": i % 2,
            "signup_at": T0 - timedelta(days=90),
            "traits": {"role": "admin" if i % 4 == 0 else "viewer"},
        }
        for i in range(16)
    ]
    email = [
        {"user_id": i, "event_name": name, "ts": T0 - timedelta(days=d)}
        for i in range(16)
        for name, d in (
            [("email_delivered", 6), ("email_delivered", 4)][: i % 3]
            + ([("email_opened", 3)] if i % 5 < 2 else [])
        )
    ]
    events = [
        {"user_id": i, "event_name": "add_to_cart", "ts": T0 - timedelta(days=d, hours=i)}
        for i in range(16)
        for d in range(i % 4)
    ]
    return {
        "users": users,
        "accounts": [{"account_id": 0}, {"account_id": 1}],
        "events": events,
        "email_events": email,
    }


def test_recomputed_parts_equal_their_own_segments(adapter):
    """Each part's value in a reason (recomputed in the change-row statement, or read
    from its own column) is the truth value of that part evaluated as a segment."""
    project = mixed_project(adapter.dialect.name)
    load_tables(adapter, project, mixed_data())
    segments = [s for s in project.segments.values() if s.enabled]
    results = run_segments(adapter, project, segments, T0)
    assert {r.status for r in results} == {"success"}, results
    holds = [members_at(adapter, project, f"part_{i}", T0) for i in range(len(MIXED_PARTS))]
    users = {str(i) for i in range(16)}
    assert all(0 < len(h) < 16 for h in holds), holds  # each part tells the users apart
    rows = {(seg, eid): json.loads(r) for seg, eid, _, r in change_rows(adapter)}
    assert {eid for seg, eid in rows if seg == "mixed"} == set().union(*holds)
    for (seg, eid), doc in rows.items():
        part = MIXED_PARTS[int(seg.removeprefix("part_"))] if seg.startswith("part_") else {}
        if "any" in part or "all" in part:
            continue  # its reason has the children
        if seg == "mixed":
            expected = [eid in h for h in holds]
        elif seg == "every":
            expected = [eid in h for i, h in enumerate(holds) if i != 4]
        elif seg == "not_one":
            expected = [eid in holds[6]]
        else:  # part_<i>: where is that part, and it entered (a `not`: its child is false)
            expected = ["not" not in part]
        assert [d["value"] for d in doc] == expected, (seg, eid, doc)
    assert {eid for seg, eid in rows if seg == "not_one"} == users - holds[6]


def test_a_shared_part_has_one_column():
    """`mixed` and `every` share the parts of MIXED_PARTS: the evaluation keeps one truth
    value column per part that is not recomputed, not one per segment and part."""
    d = get_dialect("duckdb")
    project = mixed_project(d.name)
    segments = [s for s in project.segments.values() if s.enabled]
    query = evaluation_query(project, "user", segments, d, T0, reasons=True)
    kept = [n for n in query.named_selects if n.startswith("segsql_rv_")]
    pairs = [
        (s.name, c)
        for s in segments
        if not single(s.where)
        for _, c in reason_parts(s.where)
        if not stored(c)
    ]
    assert sorted(kept) == sorted({value_column(c) for _, c in pairs})
    assert len(kept) < len(pairs)  # the parts of `every` are those of `mixed`


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
