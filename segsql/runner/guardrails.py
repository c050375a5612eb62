"""The run-only guardrails (SPEC section 14), applied from the segment's own history:

- `reentry_cooldown`: an entity that exited at a run at T_x does not enter at a run with
  T < T_x + cooldown (it may enter again at exactly T_x + cooldown);
- `min_membership`: a member that entered at T_e does not exit at a run with
  T < T_e + min_membership (it may exit at exactly T_e + min_membership);
- `max_exit_share: N` (segment key, or the target option; the segment's wins): a segment
  with at least `MIN_MEMBERS_FOR_BRAKE` members that would lose more than N% of them is
  refused (exactly N% passes), unless the run accepts exits (`--accept-exits`).

`guarded_members` transforms the members a run computed (a SELECT of entity_id text and
holdout) into the members it writes, so every write strategy (one segment, a batch, the
swap of engines without transactions) and `segsql diff` compute their changes from the
same rows. `exit_refusal` counts the exits of those members against the stored ones.
The live views do not apply these rules: they show the conditions as they hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from ..adapters.base import Adapter
from ..definitions.guards import parse_exit_share
from ..dialects.base import lit
from ..errors import DefinitionError, ProfileError
from ..model.types import Segment
from ..state.tables import CHANGES, MEMBERSHIPS, c

MIN_MEMBERS_FOR_BRAKE = 20


def has_run_rules(seg: Segment) -> bool:
    return seg.reentry_cooldown is not None or seg.min_membership is not None


def guarded_members(
    adapter: Adapter, seg: Segment, members: exp.Select, as_of: datetime
) -> exp.Query:
    """`members` (entity_id, holdout) with the segment's cooldown and dwell applied:
    entrants still in their cooldown are left out, members still in their minimum
    membership are kept (with their stored flag). Unchanged without those keys."""
    if not has_run_rules(seg):
        return members
    d = adapter.dialect
    new = members.subquery("g_new", copy=True)
    out = exp.select(c("entity_id", "g_new"), c("holdout", "g_new")).from_(new, copy=False)
    if seg.reentry_cooldown is not None:
        since = d.instant(as_of - timedelta(seconds=seg.reentry_cooldown.seconds))
        recent_exit = (
            exp.select(exp.Literal.number(1))
            .from_(exp.alias_(adapter.table(CHANGES), "g_x", table=True), copy=False)
            .where(
                exp.and_(
                    c("segment", "g_x").eq(lit(seg.name)),
                    c("entity_type", "g_x").eq(lit(seg.entity)),
                    c("change", "g_x").eq(lit("exited")),
                    c("entity_id", "g_x").eq(c("entity_id", "g_new")),
                    exp.GT(this=c("changed_at", "g_x"), expression=since),
                ),
                copy=False,
            )
        )
        out = out.where(
            exp.or_(
                _stored_member(adapter, seg, "g_new"),  # a member stays a member
                exp.not_(exp.Exists(this=recent_exit)),
            ),
            copy=False,
        )
    if seg.min_membership is None:
        return out
    since = d.instant(as_of - timedelta(seconds=seg.min_membership.seconds))
    still_new = (
        exp.select(c("entity_id", "g_old"), c("holdout", "g_old"))
        .from_(exp.alias_(adapter.table(MEMBERSHIPS), "g_old", table=True), copy=False)
        .where(
            exp.and_(
                c("segment", "g_old").eq(lit(seg.name)),
                c("entity_type", "g_old").eq(lit(seg.entity)),
                exp.GT(this=c("entered_at", "g_old"), expression=since),
                exp.not_(
                    exp.Exists(
                        this=exp.select(exp.Literal.number(1))
                        .from_(members.subquery("g_in", copy=True), copy=False)
                        .where(c("entity_id", "g_in").eq(c("entity_id", "g_old")), copy=False)
                    )
                ),
            ),
            copy=False,
        )
    )
    return exp.union(out, still_new, distinct=False, copy=False)


def _stored_member(adapter: Adapter, seg: Segment, alias: str) -> exp.Expression:
    """EXISTS a stored membership row of the segment for `alias`.entity_id."""
    probe = (
        exp.select(exp.Literal.number(1))
        .from_(exp.alias_(adapter.table(MEMBERSHIPS), "g_m", table=True), copy=False)
        .where(
            exp.and_(
                c("segment", "g_m").eq(lit(seg.name)),
                c("entity_type", "g_m").eq(lit(seg.entity)),
                c("entity_id", "g_m").eq(c("entity_id", alias)),
            ),
            copy=False,
        )
    )
    return exp.Exists(this=probe)


def target_exit_share(adapter: Adapter) -> float | None:
    """The target's `max_exit_share` option (profiles.yml), checked: a run calls this
    before it writes anything, so a bad value is a profile error (exit 2)."""
    value = adapter.target.options.get("max_exit_share")
    if value is None:
        return None
    try:
        return parse_exit_share(value, None)
    except DefinitionError as err:
        raise ProfileError(f"profiles.yml: target '{adapter.target.name}': {err.message}") from None


def exit_share_limit(adapter: Adapter, seg: Segment) -> float | None:
    """The segment's `max_exit_share`, else the target's, else None (no brake)."""
    if seg.max_exit_share is not None:
        return seg.max_exit_share
    return target_exit_share(adapter)


def _exit_count_query(adapter: Adapter, seg: Segment, members: exp.Query) -> exp.Select:
    """One row (segment, stored members, how many of them `members` does not hold): the
    exits a write of `members` would record (a stored row of another entity type always
    exits). A LEFT JOIN, not a correlated subquery: ClickHouse has none inside an
    aggregate."""
    stays = exp.and_(
        exp.not_(exp.Is(this=c("entity_id", "g_w"), expression=exp.Null())),
        c("entity_type", "g_s").eq(lit(seg.entity)),
    )
    gone = exp.Case(ifs=[exp.If(this=stays, true=lit(0))], default=lit(1))
    return (
        exp.select(
            exp.alias_(lit(seg.name), "segment", quoted=True),
            exp.alias_(exp.func("COUNT", exp.Star()), "stored", quoted=True),
            exp.alias_(exp.func("SUM", gone), "exits", quoted=True),
        )
        .from_(exp.alias_(adapter.table(MEMBERSHIPS), "g_s", table=True), copy=False)
        .join(
            members.subquery("g_w", copy=True),
            on=c("entity_id", "g_w").eq(c("entity_id", "g_s")),
            join_type="left",
            copy=False,
        )
        .where(c("segment", "g_s").eq(lit(seg.name)), copy=False)
    )


def exit_counts(
    adapter: Adapter, writes: list[tuple[Segment, exp.Query]]
) -> dict[str, tuple[int, int]]:
    """segment -> (stored members, exits) for each (segment, members it would write), in
    one query (a UNION ALL of one row per segment)."""
    if not writes:
        return {}
    parts = [_exit_count_query(adapter, seg, members) for seg, members in writes]
    query: exp.Query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False, copy=False)
    return {
        str(segment): (int(stored or 0), int(exits or 0))
        for segment, stored, exits in adapter.fetch(query)
    }


def refuses(stored: int, exits: int, limit: float | None) -> bool:
    """Whether `max_exit_share` `limit` refuses a write that exits `exits` of `stored`
    members: only segments of at least MIN_MEMBERS_FOR_BRAKE, and exactly N% passes."""
    return limit is not None and stored >= MIN_MEMBERS_FOR_BRAKE and exits * 100 > limit * stored


def exit_refusals(
    adapter: Adapter, writes: list[tuple[Segment, exp.Query]], accept_exits: bool = False
) -> dict[str, str]:
    """segment -> the error message, for each segment whose `max_exit_share` refuses
    writing its members (the others are absent). One query for all braked segments."""
    if accept_exits:
        return {}
    limits = {seg.name: exit_share_limit(adapter, seg) for seg, _ in writes}
    braked = [(seg, m) for seg, m in writes if limits[seg.name] is not None]
    out = {}
    for name, (stored, exits) in exit_counts(adapter, braked).items():
        limit = limits[name]
        assert limit is not None
        if not refuses(stored, exits, limit):
            continue
        out[name] = (
            f"refused: {exits} of {stored} members would exit ({100 * exits / stored:.1f}%), "
            f"more than max_exit_share {limit:g}%; nothing was written for this segment "
            "(check the source tables, or run with --accept-exits to let it through)"
        )
    return out


def exit_refusal(
    adapter: Adapter, seg: Segment, members: exp.Query, accept_exits: bool = False
) -> str | None:
    """The error message when `max_exit_share` refuses writing `members`, else None."""
    return exit_refusals(adapter, [(seg, members)], accept_exits).get(seg.name)
