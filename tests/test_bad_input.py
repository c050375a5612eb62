"""Bad input, catalogued: each malformed project gives exit 2 and one clear message naming
file:line and the field, with a "did you mean" where it fits, no traceback, and the
warehouse byte-for-byte unchanged."""

from __future__ import annotations

import textwrap

import duckdb
import pytest
from click.testing import CliRunner

from segsql.cli import cli

SOURCES = """\
sources:
  users:
    table: main.users
    entity: user
    key: user_id
    created_at: signup_at
    json: [traits]
    parents: {account: account_id}
  accounts: {table: main.accounts, entity: account, key: account_id}
  events:
    table: main.events
    events_of: user
    key: user_id
    event: event_name
    timestamp: ts
    json: [properties]
"""


def seg(where: str, extra: str = "") -> str:
    """A segments file with one segment whose `where:` is given (flow or block YAML)."""
    body = textwrap.indent(textwrap.dedent(where).strip(), "      ")
    return f"segments:\n  - name: s1\n{extra}    where:\n{body}\n"


# (id, segments/main.yml text, expected line, expected fragments)
CASES = [
    # YAML itself
    ("yaml_syntax", "segments:\n  - name: [unclosed\n", 2, ["invalid YAML"]),
    ("tab_indent", "segments:\n\t- name: x\n", 2, ["invalid YAML", "tabs"]),
    (
        "duplicate_key",
        "segments:\n  - name: a\n    name: b\n    where: {all: []}\n",
        3,
        ["duplicate key 'name'"],
    ),
    ("not_a_mapping", "- just\n- a list\n", 1, ["expected a mapping"]),
    ("unknown_file_key", "segmets: []\n", 1, ["unknown key 'segmets'", "did you mean 'segments'"]),
    ("segments_not_list", "segments: {name: x}\n", 1, ["expected a list for 'segments'"]),
    # segment fields
    (
        "unknown_segment_key",
        "segments:\n  - name: s1\n    whre: {all: []}\n",
        3,
        ["unknown key 'whre'", "did you mean 'where'"],
    ),
    ("missing_where", "segments:\n  - name: s1\n", 2, ["missing required key 'where'"]),
    (
        "bad_name",
        "segments:\n  - name: Bad-Name\n    where: {all: []}\n",
        2,
        ["invalid segment name"],
    ),
    ("reserved_name", "segments:\n  - name: segsql_runs\n    where: {all: []}\n", 2, ["reserved"]),
    (
        "numeric_name",
        "segments:\n  - name: 42\n    where: {all: []}\n",
        2,
        ["invalid segment name"],
    ),
    (
        "bad_refresh",
        seg("{all: []}", "    refresh: 5 minutes\n"),
        3,
        ["'refresh' expects a positive duration"],
    ),
    ("zero_refresh", seg("{all: []}", "    refresh: 0h\n"), 3, ["positive duration"]),
    ("holdout_too_big", seg("{all: []}", "    holdout: 80\n"), 3, ["0 to 50"]),
    ("holdout_not_int", seg("{all: []}", "    holdout: ten\n"), 3, ["'holdout' expects"]),
    ("enabled_not_bool", seg("{all: []}", "    enabled: maybe\n"), 3, ["'enabled' expects"]),
    ("tags_not_list", seg("{all: []}", "    tags: {a: 1}\n"), 3, ["'tags' expects"]),
    (
        "unknown_entity",
        seg("{all: []}", "    entity: customer\n"),
        3,
        ["no source declares entity 'customer'"],
    ),
    ("near_entity", seg("{all: []}", "    entity: users\n"), 3, ["did you mean 'user'"]),
    # conditions
    (
        "unknown_condition",
        seg("{proprety: plan, eq: x}"),
        4,
        ["unknown condition 'proprety'", "did you mean 'property'"],
    ),
    ("two_kinds", seg("{property: plan, event: x}"), 4, ["one kind"]),
    ("list_as_condition", seg("- {property: plan, eq: x}"), 4, ["put them under 'all:'"]),
    (
        "unknown_operator",
        seg("{property: plan, equals: trial}"),
        4,
        ["unknown comparison 'equals'"],
    ),
    ("near_operator", seg("{property: plan, eqq: trial}"), 4, ["did you mean 'eq'"]),
    ("missing_comparison", seg("{property: plan}"), 4, ["needs a comparison"]),
    ("null_value", seg("{property: plan, eq: null}"), 4, ["use 'is_null: true'"]),
    ("in_not_list", seg("{property: plan, in: trial}"), 4, ["expected a list for 'in'"]),
    ("empty_in", seg("{property: plan, in: []}"), 4, ["at least one value"]),
    ("between_three", seg("{property: score, between: [1, 2, 3]}"), 4, ["[low, high]"]),
    ("contains_number", seg("{property: email, contains: 5}"), 4, ["expects text"]),
    ("bad_regex", seg("{property: email, matches: '(unclosed'}"), 4, ["regular expression"]),
    ("is_null_text", seg("{property: plan, is_null: yes please}"), 4, ["true or false"]),
    ("bad_within", seg("{property: seen_at, within: 3 days}"), 4, ["positive duration"]),
    ("bad_unit", seg("{property: seen_at, within: 3y}"), 4, ["30s, 15m, 24h, 90d or 2w"]),
    ("bad_before", seg("{property: seen_at, before: next tuesday}"), 4, ["ISO date or timestamp"]),
    ("mapping_value", seg("{property: plan, eq: {a: 1}}"), 4, ["expects a text, number"]),
    (
        "json_not_declared",
        seg("{property: extra.key, eq: 1}"),
        4,
        ["'extra' is not listed in 'json:'"],
    ),
    ("empty_path_part", seg("{property: 'traits..x', eq: 1}"), 4, ["invalid property"]),
    ("all_not_list", seg("{all: {property: plan, eq: x}}"), 4, ["expected a list for 'all'"]),
    ("not_with_extra", seg("{not: {all: []}, any: []}"), 4, ["one kind"]),
    # events
    (
        "event_unknown_key",
        seg("{event: login, withn: 7d}"),
        4,
        ["unknown key 'withn'", "did you mean 'within'"],
    ),
    ("event_bad_name", seg("{event: 42}"), 4, ["'event' expects an event name"]),
    (
        "unknown_source",
        seg("{event: login, source: evnts}"),
        4,
        ["unknown event source 'evnts'", "did you mean 'events'"],
    ),
    (
        "two_windows",
        seg("{event: login, within: 7d, during: {from: 2026-01-01, to: 2026-02-01}}"),
        4,
        ["at most one window"],
    ),
    (
        "two_measures",
        seg("{event: login, count: {gte: 1}, sum: {of: amount, gt: 1}}"),
        4,
        ["exactly one measure"],
    ),
    ("measure_without_of", seg("{event: order, sum: {gte: 1}}"), 4, ["needs 'of:"]),
    ("count_with_of", seg("{event: order, count: {of: x, gte: 1}}"), 4, ["takes no 'of'"]),
    ("measure_no_test", seg("{event: order, count: {}}"), 4, ["needs a comparison"]),
    (
        "measure_text_op",
        seg("{event: order, count: {contains: x}}"),
        4,
        ["unknown comparison 'contains'"],
    ),
    (
        "for_without_since",
        seg("{event: login, within: 7d, for: 7d}"),
        4,
        ["'for' only goes with 'since_property'"],
    ),
    (
        "during_missing_to",
        seg("{event: login, during: {from: 2026-01-01}}"),
        4,
        ["missing required key 'to'"],
    ),
    (
        "during_reversed",
        seg("{event: login, during: {from: 2026-02-01, to: 2026-01-01}}"),
        4,
        ["ends before it starts"],
    ),
    ("nth_zero", seg("{event: open, since_nth_last: {event: sent, n: 0}}"), 4, ["n' expects"]),
    (
        "event_in_filter",
        seg("{event: a, where: {event: b}}"),
        4,
        ["cannot be used inside an event filter"],
    ),
    (
        "filter_json_not_declared",
        seg("{event: a, where: {property: meta.x, eq: 1}}"),
        4,
        ["'meta' is not listed in 'json:'"],
    ),
    # sequences
    ("seq_one_step", seg("{sequence: {steps: [{event: a}]}}"), 4, ["2 to 5 steps"]),
    (
        "seq_absent_middle",
        seg("""
        sequence:
          steps:
            - {event: a, absent: true}
            - {event: b}
        """),
        6,
        ["only the last step"],
    ),
    ("seq_unknown_key", seg("{sequence: {step: []}}"), 4, ["did you mean 'steps'"]),
    # references and relations
    ("unknown_in_segment", seg("{in_segment: power_usr}"), 4, ["unknown segment 'power_usr'"]),
    ("self_cycle", seg("{in_segment: s1}"), 2, ["cycle", "s1 -> s1"]),
    (
        "two_cycle",
        "segments:\n  - name: a\n    where: {in_segment: b}\n"
        "  - name: b\n    where: {in_segment: a}\n",
        4,
        ["cycle", "a -> b -> a"],
    ),
    ("unknown_parent", seg("{parent: company}"), 4, ["has no parent 'company'"]),
    ("members_wrong_way", seg("{members: account}"), 4, ["has no parent 'user'"]),
    (
        "duplicate_segment",
        "segments:\n  - name: a\n    where: {all: []}\n  - name: a\n    where: {any: []}\n",
        4,
        ["defined twice"],
    ),
    ("sql_parse_error", seg("{sql: 'score >>> AND ('}"), 4, ["does not parse"]),
    (
        "disabled_reference",
        "segments:\n  - name: a\n    enabled: false\n    where: {all: []}\n"
        "  - name: b\n    where: {in_segment: a}\n",
        6,
        ["disabled"],
    ),
    # fixtures
    (
        "test_unknown_segment",
        "segments:\n  - name: a\n    where: {all: []}\ntests:\n"
        "  - name: t\n    segment: b\n    as_of: 2026-01-01\n    given: {}\n"
        "    expect: {members: []}\n",
        5,
        ["unknown segment 'b'"],
    ),
    (
        "test_unknown_source",
        "segments:\n  - name: a\n    where: {all: []}\ntests:\n"
        "  - name: t\n    segment: a\n    as_of: 2026-01-01\n    given: {usrs: []}\n"
        "    expect: {members: []}\n",
        5,
        ["did you mean 'users'"],
    ),
]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "sources.yml").write_text(SOURCES)
    (tmp_path / "profiles.yml").write_text(
        "segsql:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: wh.duckdb}\n"
    )
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE TABLE users (user_id BIGINT, plan VARCHAR, signup_at TIMESTAMP)")
    con.execute("INSERT INTO users VALUES (1, 'trial', NULL)")
    con.close()
    return tmp_path


def snapshot(path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("text,line,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", [["compile"], ["run"]])
def test_bad_definition(project, text, line, fragments, command):
    (project / "segments" / "main.yml").write_text(text)
    before = snapshot(project / "wh.duckdb")
    result = CliRunner().invoke(cli, [*command, "--project-dir", str(project)])
    message = result.output
    assert result.exit_code == 2, message
    assert f"segments/main.yml:{line}:" in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message
    assert snapshot(project / "wh.duckdb") == before
    assert not (project / "target").exists()


def test_catalogue_size():
    assert len(CASES) >= 60


PROFILE_CASES = [
    ("missing", None, "no profiles.yml"),
    ("malformed", "segsql: [unclosed\n", "invalid YAML"),
    ("no_profile", "other: {outputs: {dev: {type: duckdb}}}\n", "no profile named 'segsql'"),
    (
        "unknown_target",
        "segsql: {target: prd, outputs: {prod: {type: duckdb}}}\n",
        "did you mean 'prod'",
    ),
    (
        "unknown_type",
        "segsql: {target: dev, outputs: {dev: {type: duckdbb}}}\n",
        "did you mean 'duckdb'",
    ),
    (
        "missing_env",
        "segsql:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('SEGSQL_TEST_UNSET_VAR') }}\"\n",
        "SEGSQL_TEST_UNSET_VAR",
    ),
]


@pytest.mark.parametrize(
    "text,fragment", [c[1:] for c in PROFILE_CASES], ids=[c[0] for c in PROFILE_CASES]
)
def test_bad_profile(project, text, fragment, monkeypatch):
    monkeypatch.delenv("SEGSQL_TEST_UNSET_VAR", raising=False)
    monkeypatch.delenv("SEGSQL_PROFILES_DIR", raising=False)
    (project / "segments" / "main.yml").write_text(seg("{all: []}"))
    if text is None:
        (project / "profiles.yml").unlink()
    else:
        (project / "profiles.yml").write_text(text)
    before = snapshot(project / "wh.duckdb")
    result = CliRunner().invoke(cli, ["run", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert snapshot(project / "wh.duckdb") == before


def test_missing_env_var_in_unused_target_is_fine(project, monkeypatch):
    monkeypatch.delenv("SEGSQL_TEST_UNSET_VAR", raising=False)
    (project / "segments" / "main.yml").write_text(seg("{property: plan, eq: trial}"))
    (project / "profiles.yml").write_text(
        "segsql:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: wh.duckdb}\n"
        "    prod:\n      type: postgres\n"
        "      password: \"{{ env_var('SEGSQL_TEST_UNSET_VAR') }}\"\n"
    )
    result = CliRunner().invoke(cli, ["run", "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
