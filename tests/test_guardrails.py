"""Run-only guardrails (SPEC section 14, runner/guardrails.py) end to end on DuckDB and
Postgres: `reentry_cooldown` and `min_membership` at their boundaries, and the
`max_exit_share` brake against a truncated events table (segment key, target option,
`--accept-exits`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlglot import exp

from segsql.cli import cli
from segsql.definitions.project import load_project
from segsql.runner.fixtures import load_tables
from segsql.runner.run import run_segments
from segsql.state.tables import CHANGES, MEMBERSHIPS, RUNS

from .conftest import HERE, write_project

PROJECT = load_project(HERE / "projects" / "guardrails")
T0 = datetime(2026, 3, 1, 12)
DAY = timedelta(days=1)


@pytest.fixture(params=["duckdb", "postgres", "clickhouse"])
def engine(request):
    """These rules are in the write path, not the compiled conditions: the two
    transactional engines, and ClickHouse for the swap strategy (adapters/swap.py)."""
    return request.param


def reload(adapter, data):
    for name in PROJECT.segments:  # the views depend on the tables
        adapter.execute(exp.Drop(tables=[adapter.table(name)], kind="VIEW", exists=True))
    load_tables(adapter, PROJECT, data)


def flags(*on: int) -> dict:
    return {
        "users": [{"user_id": i, "flag": i in on} for i in (1, 2, 3)],
        "events": [{"user_id": 1, "event_name": "login", "ts": T0 - DAY}],
    }


def run(adapter, names, as_of, **kw):
    segments = [PROJECT.segments[n] for n in names]
    return {r.segment: r for r in run_segments(adapter, PROJECT, segments, as_of, **kw)}


def members(adapter, segment) -> set[str]:
    rows = adapter.fetch(
        exp.select(exp.column("entity_id"))
        .from_(adapter.table(MEMBERSHIPS))
        .where(exp.column("segment").eq(exp.Literal.string(segment)))
    )
    return {str(r[0]) for r in rows}


def changes(adapter, segment) -> list[tuple[str, str]]:
    rows = adapter.fetch(
        exp.select(exp.column("changed_at"), exp.column("entity_id"), exp.column("change"))
        .from_(adapter.table(CHANGES))
        .where(exp.column("segment").eq(exp.Literal.string(segment)))
    )
    return sorted((str(e), c) for _, e, c in sorted(rows, key=lambda r: str(r[0])))


def test_reentry_cooldown_ends_exactly_at_T(adapter):
    seg = ["flagged_cooldown"]
    reload(adapter, flags(1, 2))
    run(adapter, seg, T0)
    reload(adapter, flags(2))  # 1 exits at T0 + 1d
    run(adapter, seg, T0 + DAY)
    assert members(adapter, "flagged_cooldown") == {"2"}
    reload(adapter, flags(1, 2, 3))
    # 1 is in its cooldown until T0 + 3d (exclusive); 3 never exited and enters at once
    run(adapter, seg, T0 + 3 * DAY - timedelta(seconds=1))
    assert members(adapter, "flagged_cooldown") == {"2", "3"}
    run(adapter, seg, T0 + 3 * DAY)  # the cooldown ends exactly at T: 1 enters again
    assert members(adapter, "flagged_cooldown") == {"1", "2", "3"}
    assert changes(adapter, "flagged_cooldown") == sorted(
        [("1", "entered"), ("2", "entered"), ("1", "exited"), ("3", "entered"), ("1", "entered")]
    )


def test_min_membership_is_exactly_elapsed_at_T(adapter):
    seg = ["flagged_dwell"]
    reload(adapter, flags(1, 2))
    run(adapter, seg, T0)
    reload(adapter, flags(2, 3))
    result = run(adapter, seg, T0 + DAY - timedelta(seconds=1))["flagged_dwell"]
    # 1 entered at T0: it stays until T0 + 1d; 3 enters as usual
    assert members(adapter, "flagged_dwell") == {"1", "2", "3"}
    assert (result.members, result.entered, result.exited) == (3, 1, 0)
    result = run(adapter, seg, T0 + DAY)["flagged_dwell"]  # exactly elapsed: 1 exits
    assert members(adapter, "flagged_dwell") == {"2", "3"}
    assert (result.members, result.entered, result.exited) == (2, 0, 1)
    # 3 entered at T0 + 1d - 1s, so it is held until T0 + 2d - 1s
    reload(adapter, flags(2))
    run(adapter, seg, T0 + 2 * DAY - timedelta(seconds=2))
    assert members(adapter, "flagged_dwell") == {"2", "3"}
    run(adapter, seg, T0 + 2 * DAY - timedelta(seconds=1))
    assert members(adapter, "flagged_dwell") == {"2"}


def test_cooldown_and_dwell_together_replay_to_memberships(adapter):
    seg = ["flagged_both"]
    for day, on in enumerate([(1, 2), (2,), (1,), (1,), (), (1, 2, 3), (3,)]):
        reload(adapter, flags(*on))
        run(adapter, seg, T0 + day * 12 * timedelta(hours=1))
    replay: set[str] = set()
    rows = adapter.fetch(
        exp.select(exp.column("changed_at"), exp.column("entity_id"), exp.column("change"))
        .from_(adapter.table(CHANGES))
        .where(exp.column("segment").eq(exp.Literal.string("flagged_both")))
    )
    for _, entity_id, change in sorted(rows, key=lambda r: (r[0], r[2] == "entered")):
        (replay.add if change == "entered" else replay.discard)(str(entity_id))
    assert replay == members(adapter, "flagged_both")


# ------------------------------------------------------------------ max_exit_share


def logins(n: int, *, active: range | None = None) -> dict:
    """n users; those in `active` (default all) logged in yesterday."""
    active = range(n) if active is None else active
    return {
        "users": [{"user_id": i, "flag": False} for i in range(n)],
        "events": [{"user_id": i, "event_name": "login", "ts": T0 - DAY} for i in active],
    }


BRAKED = ["active_braked", "active_unbraked", "active_loose"]


def runs(adapter, segment) -> list[tuple[str, str | None]]:
    rows = adapter.fetch(
        exp.select(exp.column("as_of"), exp.column("status"), exp.column("error"))
        .from_(adapter.table(RUNS))
        .where(exp.column("segment").eq(exp.Literal.string(segment)))
    )
    return [(s, e) for _, s, e in sorted(rows, key=lambda r: r[0])]


def test_truncated_events_table_is_refused(adapter):
    reload(adapter, logins(40))
    run(adapter, BRAKED, T0)
    reload(adapter, logins(40, active=range(0)))  # the ETL emptied the events table
    # an incremental run does not see deleted rows (docs/language.md); a full refresh does,
    # and that is the run the brake stops
    results = run(adapter, BRAKED, T0 + DAY, full_refresh=True)
    braked = results["active_braked"]
    assert braked.status == "error"
    assert "40 of 40 members would exit" in braked.error
    assert "max_exit_share 50%" in braked.error
    assert members(adapter, "active_braked") == {str(i) for i in range(40)}  # untouched
    assert len(changes(adapter, "active_braked")) == 40  # the first run's entries only
    assert runs(adapter, "active_braked")[-1] == ("error", braked.error)
    # the others go on: no brake, and a brake at 100%
    assert results["active_unbraked"].status == "success"
    assert results["active_loose"].status == "success"
    assert members(adapter, "active_unbraked") == set()
    # --accept-exits lets it through
    results = run(adapter, ["active_braked"], T0 + DAY, accept_exits=True, full_refresh=True)
    assert results["active_braked"].status == "success"
    assert results["active_braked"].exited == 40
    assert members(adapter, "active_braked") == set()


def test_exactly_the_share_passes_and_one_more_is_refused(adapter):
    reload(adapter, logins(40))
    run(adapter, ["active_braked"], T0)
    reload(adapter, logins(40, active=range(20)))  # 20 of 40 exit: exactly 50%
    full = {"full_refresh": True}  # deleted rows: seen by a full refresh
    assert run(adapter, ["active_braked"], T0 + DAY, **full)["active_braked"].status == "success"
    assert len(members(adapter, "active_braked")) == 20
    # now 20 members: 11 exits are 55% (refused), 10 would be 50%
    reload(adapter, logins(40, active=range(9)))
    result = run(adapter, ["active_braked"], T0 + 2 * DAY, **full)["active_braked"]
    assert result.status == "error" and "11 of 20 members would exit (55.0%)" in result.error
    reload(adapter, logins(40, active=range(10)))
    assert (
        run(adapter, ["active_braked"], T0 + 2 * DAY, **full)["active_braked"].status == "success"
    )


def test_fewer_than_20_members_are_not_braked(adapter):
    reload(adapter, logins(19))
    run(adapter, ["active_braked"], T0)
    reload(adapter, logins(19, active=range(0)))
    result = run(adapter, ["active_braked"], T0 + DAY, full_refresh=True)["active_braked"]
    assert result.status == "success"
    assert members(adapter, "active_braked") == set()


# ------------------------------------------------------------------ CLI, target option

CLI_SEGMENTS = """
sources:
  users: {table: main.users, entity: user, key: user_id}
  events: {table: main.events, events_of: user, key: user_id, event: event_name, timestamp: ts}
segments:
  - name: active
    where: {event: login, within: 30d}
  - name: active_own
    max_exit_share: 100
    where: {event: login, within: 30d}
"""
CLI_PROFILE = """
segsql:
  target: dev
  outputs:
    dev: {type: duckdb, path: warehouse.duckdb, schema: segsql, threads: 1, max_exit_share: 10}
"""


def test_cli_target_option_and_accept_exits(tmp_path):
    import duckdb

    root = write_project(tmp_path, CLI_SEGMENTS, CLI_PROFILE)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE TABLE users AS SELECT range AS user_id FROM range(30)")
    con.execute(
        "CREATE TABLE events AS SELECT range AS user_id, 'login' AS event_name, "
        "TIMESTAMP '2026-02-28 12:00:00' AS ts FROM range(30)"
    )
    con.close()
    cli_run = CliRunner().invoke
    base = ["run", "--project-dir", str(root)]
    assert cli_run(cli, [*base, "--as-of", "2026-03-01T12:00:00"]).exit_code == 0
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("DELETE FROM events WHERE user_id < 4")  # 4 of 30 exit: 13.3% > 10%
    con.close()
    # deleted rows are seen by a full refresh (an incremental run reads the rows since)
    result = cli_run(cli, [*base, "--as-of", "2026-03-02T12:00:00", "--full-refresh"])
    assert result.exit_code == 1, result.output
    assert "4 of 30 members would exit (13.3%), more than max_exit_share 10%" in result.output
    assert "active_own" in result.output and "OK" in result.output  # the segment's key wins
    result = cli_run(
        cli, [*base, "--as-of", "2026-03-02T12:00:00", "--full-refresh", "--accept-exits"]
    )
    assert result.exit_code == 0, result.output
    assert "-4" in result.output


def test_a_bad_target_option_is_a_profile_error(tmp_path):
    root = write_project(tmp_path, CLI_SEGMENTS, CLI_PROFILE.replace("10}", "101}"))
    import duckdb

    con = duckdb.connect(str(root / "warehouse.duckdb"))
    con.execute("CREATE TABLE users (user_id BIGINT)")
    con.execute("CREATE TABLE events (user_id BIGINT, event_name TEXT, ts TIMESTAMP)")
    con.close()
    result = CliRunner().invoke(cli, ["run", "--project-dir", str(root), "--select", "active"])
    assert result.exit_code == 2, result.output
    assert "'max_exit_share' expects a percentage from 0 to 100, got 101" in result.output


def test_diff_applies_the_run_rules(adapter):
    """`segsql diff` previews what the run writes, rules included: the brake says
    `refused`, and cooldown keeps an entrant out of the would-enter count."""
    from segsql.runner.diff import diff

    reload(adapter, logins(40))
    run(adapter, BRAKED, T0)
    reload(adapter, logins(40, active=range(0)))
    previews = {
        p.segment: p
        for p in diff(adapter, PROJECT, [PROJECT.segments[n] for n in BRAKED], T0 + DAY)
    }
    assert previews["active_braked"].refused and previews["active_braked"].exit == 40
    assert not previews["active_unbraked"].refused and not previews["active_loose"].refused
    # cooldown: the diff's would-enter equals what the next run enters
    reload(adapter, flags(1, 2))
    run(adapter, ["flagged_cooldown"], T0)
    reload(adapter, flags(2))
    run(adapter, ["flagged_cooldown"], T0 + DAY)  # 1 exits: its cooldown starts
    reload(adapter, flags(1, 2, 3))
    (preview,) = diff(adapter, PROJECT, [PROJECT.segments["flagged_cooldown"]], T0 + 2 * DAY)
    result = run(adapter, ["flagged_cooldown"], T0 + 2 * DAY)["flagged_cooldown"]
    assert (preview.enter, preview.exit) == (result.entered, result.exited) == (1, 0)
    assert preview.members == result.members


@pytest.mark.parametrize("engine", ["duckdb"])  # the runner's code path: one engine will do
def test_a_brake_that_cannot_be_checked_fails_closed(adapter, monkeypatch, engine):
    import segsql.runner.run as run_module

    reload(adapter, logins(30))
    run(adapter, ["active_braked", "active_unbraked"], T0)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the warehouse went away")

    monkeypatch.setattr(run_module, "exit_refusals", broken)
    monkeypatch.setattr(run_module, "exit_refusal", broken)
    reload(adapter, logins(30, active=range(0)))
    results = run(adapter, ["active_braked", "active_unbraked"], T0 + DAY)
    assert results["active_braked"].status == "error"
    assert "cannot check max_exit_share: the warehouse went away" in results["active_braked"].error
    assert len(members(adapter, "active_braked")) == 30  # nothing written for it
    assert results["active_unbraked"].status == "success"  # no brake: not checked
