"""`segsql explain SEGMENT ID`: every node's value and measure, and the verdict, equal to
the reference evaluator on generated cases; end to end through the CLI on DuckDB and
Postgres, writing nothing; exit 1 for an id the entity table does not have at T."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from hypothesis import given

from segsql.errors import RunFailed
from segsql.runner.explain import explain
from segsql.runner.fixtures import load_tables

from .memory import invoke, project_for, snapshot
from .reference.evaluator import _Evaluator
from .reference.evaluator import members as reference_members
from .reference.strategies import cases, reproducible
from .test_differential import to_project
from .test_engines import T0
from .test_history import run_days
from .test_reasons import same_measure

EXAMPLES = {"duckdb": 60, "postgres": 25}


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def dict_nodes(cond: dict, segments: dict) -> list[dict]:
    """The nodes of a YAML condition in the order of explain's tree (pre-order,
    in_segment expanded)."""
    out = [cond]
    if "all" in cond or "any" in cond:
        for child in cond.get("all", cond.get("any")):
            out += dict_nodes(child, segments)
    elif "not" in cond:
        out += dict_nodes(cond["not"], segments)
    elif "in_segment" in cond:
        out += dict_nodes(segments[cond["in_segment"]]["where"], segments)
    return out


def flat(node: dict) -> list[dict]:
    return [node, *(n for c in node["children"] for n in flat(c))]


def test_explain_equals_the_reference(adapter, engine):
    n = int(os.environ.get("SEGSQL_EXPLAIN_EXAMPLES", EXAMPLES[engine]))
    checked = []

    @reproducible(n)
    @given(case=cases())
    def check(case):
        project = to_project(case.project, adapter.dialect.name)
        load_tables(adapter, project, case.tables, types=case.column_types)
        seg = project.segments[case.segment]
        ref = _Evaluator(case.project, case.tables, case.as_of)
        defs = {s["name"]: s for s in case.project["segments"]}
        members = {
            str(m) for m in reference_members(case.project, case.segment, case.tables, case.as_of)
        }
        visible = {str(k): (k, row) for k, row in ref.entities(seg.entity).items()}
        source = next(s for s in case.project["sources"].values() if s.get("entity") == seg.entity)
        for row in case.tables[next(k for k, s in case.project["sources"].items() if s is source)]:
            eid = row.get(source["key"])
            if eid is None:
                continue
            if str(eid) not in visible:
                with pytest.raises(RunFailed):
                    explain(adapter, project, seg, str(eid), case.as_of)
                continue
            e = explain(adapter, project, seg, str(eid), case.as_of).to_json()
            assert e["member"] == (str(eid) in members), (eid, e)
            key, entity_row = visible[str(eid)]
            nodes = flat(e["tree"])
            expected = dict_nodes(defs[case.segment]["where"], defs)
            assert len(nodes) == len(expected)
            for node, cond in zip(nodes, expected, strict=True):
                assert node["value"] == ref.cond(cond, seg.entity, key, entity_row), (node, cond)
                if "event" in cond:
                    found, value = ref.measure_value(cond, seg.entity, key, entity_row)
                    assert same_measure(
                        node["measure"]
                        if not isinstance(node["measure"], (int, float))
                        else str(node["measure"]),
                        value if found else None,
                    ), (node, cond, value)
            checked.append(e["member"])

    check()
    assert any(checked) and not all(checked)
    print(f"{engine}: {len(checked)} explanations, {sum(checked)} members")


def test_explain_command(adapter, tmp_path):
    run_days(adapter, (6,))
    root = project_for(adapter, tmp_path / "project")
    T = (T0 + timedelta(days=6)).isoformat()
    before = snapshot(adapter)
    doc = invoke(root, "explain", "ev_count", "0", "--as-of", T, "--format", "json")
    assert doc.exit_code == 0, doc.output
    e = json.loads(doc.output)
    assert set(e) == {"segment", "entity_id", "as_of", "member", "holdout", "tree", "guards"}
    assert e["guards"] == []  # no suppressions or priority group in this project
    assert e["tree"]["path"] == "where" and e["tree"]["kind"] == "event"
    assert isinstance(e["tree"]["measure"], int)
    text = invoke(root, "explain", "ev_count", "0", "--as-of", T)
    assert text.exit_code == 0
    assert "add_to_cart in the last 7d: count" in text.output and "needs >= 2" in text.output
    assert "verdict:" in text.output
    nested = invoke(root, "explain", "prop_not", "3", "--as-of", T)
    assert "not ->" in nested.output and "plan is 'trial'" in nested.output
    missing = invoke(root, "explain", "ev_count", "no-such-user", "--as-of", T)
    assert missing.exit_code == 1 and "not in" in missing.output
    wrong = invoke(root, "explain", "ev_cont", "0")
    assert wrong.exit_code == 2 and "did you mean 'ev_count'" in wrong.output
    assert snapshot(adapter) == before


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
