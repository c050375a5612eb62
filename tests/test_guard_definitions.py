"""Bad input for the guardrail keys (SPEC section 14): each gives exit 2 and a message
naming file:line and the field, with "did you mean" where it fits, and writes nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from segsql.cli import cli

from .test_bad_input import project, snapshot  # noqa: F401 - the fixture

SUPP = (
    "suppressions:\n"
    "  - name: unsubscribed\n"
    "    where: {property: plan, eq: x}\n"  # line 3
)


def one(extra: str, where: str = "{property: plan, eq: trial}") -> str:
    """SUPP, then one segment s1 (name at line 5) with `extra` lines from line 6 on."""
    return f"{SUPP}segments:\n  - name: s1\n{extra}    where: {where}\n"


CASES = [
    (
        "unknown_suppression",
        one("    ignore_suppressions: [unsubscrbed]\n"),
        6,
        ["unknown suppression 'unsubscrbed'", "did you mean 'unsubscribed'"],
    ),
    (
        "suppression_twice_in_ignore",
        one("    ignore_suppressions: [unsubscribed, unsubscribed]\n"),
        6,
        ["'ignore_suppressions' names 'unsubscribed' twice"],
    ),
    (
        "duplicate_suppression",
        SUPP + "  - name: unsubscribed\n    where: {property: plan, eq: y}\n",
        4,
        ["suppression 'unsubscribed' is defined twice", "main.yml:2"],
    ),
    (
        "unknown_suppression_key",
        "suppressions:\n  - name: x\n    wher: {property: plan, eq: x}\n",
        3,
        ["unknown key 'wher'", "did you mean 'where'"],
    ),
    (
        "suppression_in_segment",
        "suppressions:\n  - name: x\n    where: {in_segment: s1}\n"
        "segments:\n  - name: s1\n    where: {property: plan, eq: trial}\n",
        3,
        ["suppression 'x'", "cannot use 'in_segment'"],
    ),
    (
        "suppression_unknown_property_source",
        "suppressions:\n  - name: x\n    entity: usr\n    where: {property: plan, eq: x}\n",
        3,
        ["no source declares entity 'usr'", "did you mean 'user'"],
    ),
    (
        "priority_without_group",
        one("    priority: 3\n"),
        6,
        ["'priority' needs a 'priority_group'"],
    ),
    (
        "group_without_priority",
        one("    priority_group: lifecycle\n"),
        6,
        ["'priority_group' needs a 'priority'"],
    ),
    (
        "priority_not_a_number",
        one("    priority_group: lifecycle\n    priority: high\n"),
        7,
        ["'priority' expects a whole number"],
    ),
    (
        "equal_priorities",
        one("    priority_group: g\n    priority: 1\n")
        + "  - name: s2\n    priority_group: g\n    priority: 1\n"
        "    where: {property: plan, eq: pro}\n",
        11,
        ["priority_group 'g'", "'s1' and 's2' both have priority 1"],
    ),
    (
        "priority_cycle",
        one("    priority_group: g\n    priority: 2\n")
        + "  - name: s2\n    priority_group: g\n    priority: 1\n"
        "    where: {in_segment: s1}\n",
        9,
        ["in_segment references form a cycle", "priority_group depends on those that outrank"],
    ),
    (
        "negative_cooldown",
        one("    reentry_cooldown: -1d\n"),
        6,
        ["'reentry_cooldown' expects a positive duration", "-1d"],
    ),
    (
        "negative_min_membership",
        one("    min_membership: -2h\n"),
        6,
        ["'min_membership' expects a positive duration"],
    ),
    (
        "zero_min_membership",
        one("    min_membership: 0d\n"),
        6,
        ["'min_membership' expects a positive duration"],
    ),
    (
        "exit_share_over_100",
        one("    max_exit_share: 150\n"),
        6,
        ["'max_exit_share' expects a percentage from 0 to 100, got 150"],
    ),
    (
        "exit_share_negative",
        one("    max_exit_share: -5\n"),
        6,
        ["'max_exit_share' expects a percentage from 0 to 100"],
    ),
    (
        "exit_share_text",
        one("    max_exit_share: half\n"),
        6,
        ["'max_exit_share' expects a percentage"],
    ),
    (
        "misspelt_guard_key",
        one("    ignore_supressions: [unsubscribed]\n"),
        6,
        ["unknown key 'ignore_supressions'", "did you mean 'ignore_suppressions'"],
    ),
    (
        "goal_without_within",
        one("    goal: {event: purchase}\n"),
        6,
        ["goal", "missing required key 'within'"],
    ),
    (
        "goal_unknown_key",
        one("    goal: {event: purchase, within: 7d, wher: {}}\n"),
        6,
        ["unknown key 'wher'", "did you mean 'where'"],
    ),
    (
        "goal_negative_within",
        one("    goal: {event: purchase, within: -7d}\n"),
        6,
        ["'goal.within' expects a positive duration"],
    ),
    (
        "goal_unknown_source",
        one("    goal: {event: purchase, source: evnts, within: 7d}\n"),
        6,
        ["unknown event source 'evnts'", "did you mean 'events'"],
    ),
]


@pytest.mark.parametrize("text,line,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_guard_definition(project, text, line, fragments):  # noqa: F811
    (project / "segments" / "main.yml").write_text(text)
    before = snapshot(project / "wh.duckdb")
    for command in (["compile"], ["run"], ["validate", "--offline"]):
        result = CliRunner().invoke(cli, [*command, "--project-dir", str(project)])
        message = result.output
        assert result.exit_code == 2, (command, message)
        assert f"segments/main.yml:{line}:" in message, message
        for fragment in fragments:
            assert fragment in message, message
        assert "Traceback" not in message
    assert snapshot(project / "wh.duckdb") == before
    assert not (project / "target").exists()
