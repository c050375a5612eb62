"""`segsql lookup ID`: the segments an entity was in at T, from the history; end to end
through the CLI on DuckDB and Postgres, writing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from .memory import invoke, project_for, snapshot
from .test_engines import T0
from .test_history import expected_history, run_days


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


def test_lookup_lists_the_segments_of_an_entity_at_T(adapter, tmp_path):
    run_days(adapter)
    root = project_for(adapter, tmp_path / "project")
    history = expected_history(adapter)
    found = 0
    for T in (T0 + timedelta(days=2), T0 + timedelta(days=7), T0 + timedelta(days=10)):
        for entity_id in ("0", "3", "5"):
            expected = sorted(
                (seg, holdout, since.isoformat())
                for seg, et, eid, holdout, since, until in history
                if et == "user" and eid == entity_id and since <= T and (until is None or until > T)
            )
            before = snapshot(adapter)
            result = invoke(root, "lookup", entity_id, "--as-of", T.isoformat(), "--format", "json")
            assert result.exit_code == 0, result.output
            assert snapshot(adapter) == before
            doc = json.loads(result.output)
            got = sorted((s["segment"], s["holdout"], s["since"]) for s in doc["segments"])
            assert got == expected, (T, entity_id)
            found += len(expected)
            text = invoke(root, "lookup", entity_id, "--as-of", T.isoformat()).output
            assert [line.split()[0] for line in text.splitlines()[1:]] == [e[0] for e in expected]
    assert found > 5  # the ids looked up were members of several segments


def test_lookup_of_an_unknown_id_prints_nothing(adapter, tmp_path):
    run_days(adapter, (3,))
    root = project_for(adapter, tmp_path / "project")
    result = invoke(root, "lookup", "no-such-user")
    assert result.exit_code == 0 and result.output == ""
    wrong = invoke(root, "lookup", "1", "--entity", "usr")
    assert wrong.exit_code == 2 and "did you mean 'user'" in wrong.output
