"""Zone-aware source columns (TIMESTAMPTZ, a ClickHouse DateTime in another zone) are read
as their instants in UTC, on every executing engine: members never depend on the machine's
time zone (TZ) nor, for the live views, on the reading session's (docs/language.md,
Sources). The data sits around T so that a reading shifted by any zone would change them."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlglot import exp

from segsql.adapters.base import set_statement
from segsql.clock import utcnow
from segsql.definitions.project import load_project
from segsql.runner.checks import check_sources
from segsql.runner.fixtures import load_tables, members_at
from segsql.runner.run import run_segments
from segsql.state.tables import MEMBERSHIPS, c

from .conftest import write_project

SEGMENTS = """
sources:
  tz_users: {table: main.tz_users, entity: user, key: user_id, created_at: signup_at}
  tz_logins: &events
    {table: main.tz_logins, events_of: user, key: user_id, event: event_name, timestamp: ts}
  tz_clicks: {<<: *events, table: main.tz_clicks}
segments:
  - {name: login_1h, where: {event: login, source: tz_logins, within: 1h}}
  - {name: any_1h, where: {event: [login, click], within: 1h}}
  - {name: last_login_3h, where: {event: login, source: tz_logins, last: {within: 3h}}}
  - {name: signed_up_1d, where: {property: signup_at, within: 1d}}
  - name: clicked_since_signup
    where: {event: click, since_property: signup_at, count: {gte: 1}}
"""
EXPECTED = {
    "login_1h": {"1"},
    "any_1h": {"1", "4"},
    "last_login_3h": {"1", "3"},
    "signed_up_1d": {"1", "4", "5"},
    "clicked_since_signup": {"4"},
}
ZONES = ("America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati", "UTC")
# ClickHouse's DateTime is an instant whatever its zone; one in another zone shows it
INSTANT = {"clickhouse": "DateTime64(6, 'America/Los_Angeles')"}


def data(T):
    h = timedelta(hours=1)
    signup = {1: -12 * h, 2: -48 * h, 3: -72 * h, 4: -h, 5: -23 * h, 6: h}  # 6: not yet
    logins = [(1, -h / 2), (2, h / 2), (3, -2 * h), (5, -5 * h), (6, -h / 3)]
    clicks = [(4, -h / 6), (5, h / 6)]
    return {
        "tz_users": [{"user_id": u, "signup_at": T + d} for u, d in signup.items()],
        "tz_logins": [{"user_id": u, "event_name": "login", "ts": T + d} for u, d in logins],
        "tz_clicks": [{"user_id": u, "event_name": "click", "ts": T + d} for u, d in clicks],
    }


@pytest.fixture
def machine_zone():
    """Set the process's TZ (the machine's zone as Python and in-process engines see it)."""
    before = os.environ.get("TZ")

    def set_zone(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


SESSION_ZONE = {"duckdb": "TimeZone", "postgres": "TimeZone", "clickhouse": "session_timezone"}


def view_members(adapter, name: str) -> set[str]:
    view = exp.select(c("entity_id")).from_(adapter.table(name))
    return {str(i) for (i,) in adapter.fetch(view)}


def test_zone_aware_sources(adapter, engine, tmp_path, machine_zone):
    project = load_project(write_project(tmp_path, SEGMENTS))
    T = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    instant = INSTANT.get(engine, "INSTANT")
    types = {
        "tz_users": {"signup_at": instant},
        "tz_logins": {"ts": instant},
        "tz_clicks": {"ts": instant},
    }
    load_tables(adapter, project, data(T), types=types)
    segments = list(project.segments.values())
    checked = check_sources(adapter, project, segments)
    assert checked.sources["tz_logins"].zone_aware == {"ts"}
    for zone in ZONES:
        machine_zone(zone)
        got = {name: members_at(adapter, checked, name, T) for name in EXPECTED}
        assert got == EXPECTED, zone
    # a run (which finds the zone-aware columns itself) writes the same members
    machine_zone("America/Los_Angeles")
    results = run_segments(adapter, project, segments, T)
    assert {r.status for r in results} == {"success"}, [r.error for r in results]
    stored = adapter.fetch(
        exp.select(c("segment"), c("entity_id")).from_(adapter.table(MEMBERSHIPS))
    )
    assert {s: {i for seg, i in stored if seg == s} for s in EXPECTED} == EXPECTED
    # the live views (T = now, a minute later) read alike in a session of any zone;
    # Spark compares its TIMESTAMPs in the session's zone, which segsql's session sets to UTC
    if engine in SESSION_ZONE:
        for zone in ZONES:
            adapter.execute(set_statement(SESSION_ZONE[engine], zone))
            assert {name: view_members(adapter, name) for name in EXPECTED} == EXPECTED, zone


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_zone_aware_sources_in_a_batched_backfill(adapter, engine, tmp_path, machine_zone):
    """The steps a backfill writes together read zone-aware columns as a run does: the
    members of every step (the change log replayed) equal a run's evaluation at its T."""
    from segsql.runner.backfill import backfill, batchable

    project = load_project(write_project(tmp_path, SEGMENTS))
    T = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    types = {name: {"ts": "INSTANT"} for name in ("tz_logins", "tz_clicks")}
    types["tz_users"] = {"signup_at": "INSTANT"}
    load_tables(adapter, project, data(T), types=types)
    segments = list(project.segments.values())
    assert batchable(adapter, segments)
    times = [T - timedelta(hours=h) for h in (50, 26, 5, 2)] + [T]
    machine_zone("Asia/Kolkata")
    done = backfill(adapter, project, segments, times)
    assert [{r.status for r in step} for step in done] == [{"success"}] * len(times)
    checked = check_sources(adapter, project, segments)
    changes = adapter.fetch(
        exp.select(c("segment"), c("entity_id"), c("change"), c("changed_at"))
        .from_(adapter.table("segsql_membership_changes"))
        .order_by(c("changed_at"))
    )
    members: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for t in times:
        for seg, entity, change, at in changes:
            if at == t:
                (members[seg].add if change == "entered" else members[seg].discard)(entity)
        expected = {name: members_at(adapter, checked, name, t) for name in EXPECTED}
        assert members == expected, t
    assert members == EXPECTED
