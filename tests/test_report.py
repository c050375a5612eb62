"""`segsql report` (SPEC section 14): the statistics against Newcombe 1998's worked
examples and an independent computation, and the warehouse counts against a Python
reference on generated data, on DuckDB and Postgres (the counting is SQL)."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlglot import exp

from segsql.cli import cli
from segsql.definitions.project import load_project
from segsql.runner.fixtures import load_tables
from segsql.runner.report import MIN_ARM, build_report, report_json, report_text
from segsql.runner.run import run_segments
from segsql.runner.stats import newcombe, wilson
from segsql.state.tables import CHANGES

from .conftest import HERE

PROJECT = load_project(HERE / "projects" / "report")
T0 = datetime(2026, 3, 1, 12)
DAY = timedelta(days=1)

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10
NEWCOMBE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize("counts,expected", NEWCOMBE)
def test_newcombe_worked_examples(counts, expected):
    d = newcombe(*counts)
    assert round(d.low, 4) == expected[0] and round(d.high, 4) == expected[1]
    assert math.isclose(d.estimate, counts[0] / counts[1] - counts[2] / counts[3])


def _wilson_by_bisection(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson limits as the roots of (x/n - p)^2 = z^2 p (1 - p) / n, found by
    bisection (no closed form shared with the code under test)."""
    p_hat = x / n

    def f(p: float) -> float:
        return (p_hat - p) ** 2 - z * z * p * (1 - p) / n

    def root(lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            if (f(lo) > 0) == (f(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if x == 0 else root(0.0, p_hat)
    high = 1.0 if x == n else root(p_hat, 1.0)
    return low, high


def test_statistics_against_an_independent_computation():
    rng = random.Random(13)
    for _ in range(500):
        n1, n2 = rng.randint(1, 400), rng.randint(1, 400)
        x1, x2 = rng.randint(0, n1), rng.randint(0, n2)
        (l1, u1), (l2, u2) = _wilson_by_bisection(x1, n1), _wilson_by_bisection(x2, n2)
        assert wilson(x1, n1) == pytest.approx((l1, u1), abs=1e-9)
        p1, p2 = x1 / n1, x2 / n2
        d = newcombe(x1, n1, x2, n2)
        assert d.low == pytest.approx(p1 - p2 - math.hypot(p1 - l1, u2 - p2), abs=1e-9)
        assert d.high == pytest.approx(p1 - p2 + math.hypot(u1 - p1, p2 - l2), abs=1e-9)
        assert d.low <= d.estimate <= d.high


# ------------------------------------------------------------------ in the warehouse


@pytest.fixture(params=["duckdb", "postgres", "clickhouse"])
def engine(request):
    return request.param


def generated(seed: int, n: int = 160) -> tuple[dict, dict[int, datetime]]:
    """Users that enter on day 0..3 (the `day` column, lowered run by run), and goal
    events around their entry: exactly at it, at the end of the window, a second after,
    before entering, of another name, another platform."""
    rng = random.Random(seed)
    users = [{"user_id": i, "day": rng.randint(0, 3)} for i in range(n)]
    entry = {u["user_id"]: T0 + u["day"] * DAY for u in users}
    events = []
    offsets = [
        timedelta(0),
        2 * DAY,
        2 * DAY + timedelta(seconds=1),
        -timedelta(hours=1),
        timedelta(hours=5),
        DAY,
        DAY + timedelta(seconds=1),
    ]
    for u in users:
        for _ in range(rng.randint(0, 2)):
            events.append(
                {
                    "user_id": u["user_id"],
                    "event_name": rng.choice(["subscribed", "upgraded", "page_view"]),
                    "ts": entry[u["user_id"]] + rng.choice(offsets),
                    "properties": {"platform": rng.choice(["web", "ios"])},
                }
            )
    return {"users": users, "events": events}, entry


def run_days(adapter, data: dict, days: int = 4) -> None:
    """Run every segment once a day; at day k the users with day <= k are members."""
    for k in range(days):
        rows = [{**u, "day": u["day"] - k} for u in data["users"]]
        for name in PROJECT.segments:
            adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
        load_tables(adapter, PROJECT, {"users": rows, "events": data["events"]})
        results = run_segments(adapter, PROJECT, list(PROJECT.segments.values()), T0 + k * DAY)
        assert {r.status for r in results} == {"success"}


def naive_utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is None else ts.astimezone(timezone.utc).replace(tzinfo=None)


def reference_counts(adapter, segment: str, start, end, data, names, platform, within):
    """The same counts in Python, from the change rows the runs wrote and the events."""
    rows = adapter.fetch(
        exp.select("entity_id", "changed_at", "holdout")
        .from_(adapter.table(CHANGES))
        .where(
            exp.and_(
                exp.column("segment").eq(exp.Literal.string(segment)),
                exp.column("change").eq(exp.Literal.string("entered")),
            )
        )
    )
    first: dict[str, tuple[datetime, bool]] = {}
    for entity_id, changed_at, holdout in rows:
        at = naive_utc(changed_at)
        if start <= at <= end and (entity_id not in first or at < first[entity_id][0]):
            first[str(entity_id)] = (at, bool(holdout))
    counts = {False: [0, 0], True: [0, 0]}
    for entity_id, (at, holdout) in first.items():
        counts[holdout][0] += 1
        reached = any(
            str(e["user_id"]) == entity_id
            and e["event_name"] in names
            and (platform is None or e["properties"]["platform"] == platform)
            and at <= e["ts"] <= at + within
            for e in data["events"]
        )
        counts[holdout][1] += reached
    return {k: tuple(v) for k, v in counts.items()}


def test_counts_match_a_python_reference(adapter):
    data, _ = generated(seed=1)
    run_days(adapter, data)
    for segment, names, platform, within in [
        ("onboarding", {"subscribed", "upgraded"}, None, 2 * DAY),
        ("onboarding_web", {"subscribed"}, "web", DAY),
    ]:
        for start, end in [(T0, T0 + 3 * DAY), (T0 + DAY, T0 + 2 * DAY), (T0 + DAY, T0 + DAY)]:
            r = build_report(adapter, PROJECT, PROJECT.segments[segment], start, end)
            got = {
                False: (r.treated.entrants, r.treated.reached),
                True: (r.control.entrants, r.control.reached),
            }
            expected = reference_counts(adapter, segment, start, end, data, names, platform, within)
            assert got == expected, (segment, start, end)
    full = build_report(adapter, PROJECT, PROJECT.segments["onboarding"], T0, T0 + 3 * DAY)
    assert full.treated.entrants + full.control.entrants == 160
    assert full.control.entrants > 40  # holdout 50: both arms are large enough
    assert not full.too_small


def test_first_entry_counts_and_window_boundaries(adapter):
    """User 1 enters at T0, exits, re-enters at T0 + 2d: counted once, from T0. User 2's
    goal is exactly at the end of its window (met), user 3's one second later (not), user
    4's before entering (not)."""
    users = [{"user_id": i, "day": 0} for i in (1, 2, 3, 4)]
    events = [
        {"user_id": 1, "event_name": "subscribed", "ts": T0 + 2 * DAY + timedelta(hours=1)},
        {"user_id": 2, "event_name": "upgraded", "ts": T0 + 2 * DAY},
        {"user_id": 3, "event_name": "subscribed", "ts": T0 + 2 * DAY + timedelta(seconds=1)},
        {"user_id": 4, "event_name": "subscribed", "ts": T0 - timedelta(seconds=1)},
    ]
    for k, present in enumerate([(1, 2, 3, 4), (2, 3, 4), (1, 2, 3, 4)]):
        for name in PROJECT.segments:
            adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
        rows = [{**u, "day": 0 if u["user_id"] in present else 5} for u in users]
        load_tables(adapter, PROJECT, {"users": rows, "events": events})
        run_segments(adapter, PROJECT, [PROJECT.segments["onboarding"]], T0 + k * DAY)
    r = build_report(adapter, PROJECT, PROJECT.segments["onboarding"], T0, T0 + 3 * DAY)
    assert r.treated.entrants + r.control.entrants == 4
    assert r.treated.reached + r.control.reached == 1  # user 2 only (user 1: 2d 1h after T0)
    later = build_report(adapter, PROJECT, PROJECT.segments["onboarding"], T0 + DAY, T0 + 3 * DAY)
    assert later.treated.entrants + later.control.entrants == 1  # user 1's re-entry
    assert later.treated.reached + later.control.reached == 1  # ... 1h after it
    assert r.too_small and "too small to conclude" in r.conclusion
    text = report_text(r)
    assert "treated" in text and "control" in text and "too small to conclude" in text


# ------------------------------------------------------------------ CLI


def test_cli_text_and_json(tmp_path):
    import shutil

    root = tmp_path / "p"
    shutil.copytree(HERE / "projects" / "report", root)
    (root / "profiles.yml").write_text(
        "segsql:\n  target: dev\n  outputs:\n"
        "    dev: {type: duckdb, path: wh.duckdb, schema: segsql, threads: 1}\n"
    )
    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target

    adapter = connect(load_target(root, None, None, None))
    try:
        data, _ = generated(seed=2, n=200)
        run_days(adapter, data, days=2)
    finally:
        adapter.close()
    invoke = CliRunner().invoke
    args = ["report", "onboarding", "--project-dir", str(root), "--from", "2026-03-01"]
    result = invoke(cli, [*args, "--to", "2026-03-03", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"segment", "treated", "control", "difference", "conclusion"}
    n = doc["treated"]["entrants"] + doc["control"]["entrants"]
    assert n == sum(u["day"] <= 1 for u in data["users"])
    d = doc["difference"]
    assert d["low"] <= d["estimate"] <= d["high"]
    text = invoke(cli, [*args, "--to", "2026-03-03"])
    assert text.exit_code == 0 and "Newcombe" in text.output
    result = invoke(
        cli,
        [
            "report",
            "no_goal",
            "--project-dir",
            str(root),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-02",
        ],
    )
    assert result.exit_code == 2 and "has no 'goal:'" in result.output
    result = invoke(
        cli,
        [
            "report",
            "onbording",
            "--project-dir",
            str(root),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-02",
        ],
    )
    assert result.exit_code == 2 and "did you mean 'onboarding'" in result.output
    result = invoke(cli, [*args, "--to", "soon"])
    assert result.exit_code == 2 and "--to expects an ISO date" in result.output


def test_min_arm_is_documented_in_json():
    from segsql.runner.report import Arm, Report

    r = Report("s", T0, T0, "g", Arm("treated", MIN_ARM, 3), Arm("control", MIN_ARM - 1, 1), None)
    assert report_json(r)["too_small"] == ["control"]
