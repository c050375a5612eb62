"""`segsql diff`: what a run at T would change, writing nothing (SPEC section 13).

It is computed by the code a run computes its changes with: the members of each segment
come from the run's evaluation query and `_members` (the run's selection of members
from it), the changes from `batch_changes` (the FULL JOIN of the batched write), so
that a rule added to either applies to the preview too. The evaluation is a CTE of one
read-only query per entity type: no session table, no view, no state table is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler import evaluation_query
from ..model.types import Project, Segment
from ..state.batch import batch_changes
from ..state.tables import MEMBERSHIPS, RUNS, c
from ..state.writes import latest_success
from .checks import check_sources
from .guardrails import exit_share_limit, guarded_members, refuses
from .run import SegmentRun, _members, definition_hash

SAMPLES = 5
EVALUATED = "segsql_diff_eval"


@dataclass
class SegmentDiff:
    segment: str
    stored: int = 0
    members: int = 0
    enter: int = 0
    exit: int = 0
    definition_changed: bool = True
    refused: bool = False  # max_exit_share would refuse the run (SPEC 14)
    sample_enter: list[str] = field(default_factory=list)
    sample_exit: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "segment": self.segment,
            "stored": self.stored,
            "members": self.members,
            "enter": self.enter,
            "exit": self.exit,
            "definition_changed": self.definition_changed,
            "refused": self.refused,
            "sample_enter": self.sample_enter,
            "sample_exit": self.sample_exit,
        }


def _stored(adapter: Adapter) -> tuple[dict[str, int], dict[str, str]]:
    """segment -> stored members, segment -> definition_hash of its last successful run
    (empty when segsql never ran here)."""
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return {}, {}
    counts = adapter.fetch(
        exp.select(c("segment"), exp.func("COUNT", exp.Star()))
        .from_(adapter.table(MEMBERSHIPS))
        .group_by(c("segment"))
    )
    hashes = adapter.fetch(latest_success(adapter.table(RUNS), "definition_hash"))
    return {s: int(n) for s, n in counts}, {s: h for s, h in hashes}


def _memberships(adapter: Adapter) -> exp.Expression:
    """segsql_memberships, or, where segsql never ran, an empty relation of its columns
    (diff creates nothing, not even the state tables)."""
    if adapter.relation_columns((adapter.schema, MEMBERSHIPS)) is not None:
        return adapter.table(MEMBERSHIPS)
    d = adapter.dialect
    text = d.dtype(d.text_type)
    empty = exp.select(
        *(
            exp.alias_(exp.cast(exp.null(), text), name, quoted=True)
            for name in ("segment", "entity_type", "entity_id")
        ),
        exp.alias_(exp.cast(exp.null(), "BOOLEAN"), "holdout", quoted=True),
    ).where(exp.false())
    return empty.subquery("segsql_no_memberships")


def _changes_query(
    adapter: Adapter, project: Project, entity: str, segments: list[Segment], as_of: datetime
) -> exp.Select:
    """(segment, change, n, entity_id) for up to SAMPLES ids per segment and change,
    n the number of that segment's changes of that kind."""
    d = adapter.dialect
    evaluated = exp.Table(this=exp.to_identifier(EVALUATED, quoted=True))
    runs = [
        SegmentRun("diff", s.name, s.entity, as_of, as_of, definition_hash(project, s))
        for s in segments
    ]
    members = {
        s.name: guarded_members(adapter, s, _members(adapter, s, evaluated), as_of)
        for s in segments
    }
    changes = batch_changes(runs, members, _memberships(adapter))
    by = [c("segment"), c("change")]
    ranked = exp.select(
        c("segment"),
        c("change"),
        c("entity_id"),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star()), partition_by=by), "n", quoted=True),
        exp.alias_(
            exp.Window(
                this=exp.RowNumber(),
                partition_by=[c("segment"), c("change")],
                order=exp.Order(expressions=[exp.Ordered(this=c("entity_id"))]),
            ),
            "rn",
            quoted=True,
        ),
    ).from_(changes.subquery("x"))
    query = (
        exp.select(c("segment"), c("change"), c("n"), c("entity_id"))
        .from_(ranked.subquery("s"))
        .where(c("rn") <= exp.Literal.number(SAMPLES))
    )
    evaluation = evaluation_query(project, entity, segments, d, as_of)
    return query.with_(exp.to_identifier(EVALUATED, quoted=True), as_=evaluation)


def diff(
    adapter: Adapter, project: Project, segments: list[Segment], as_of: datetime
) -> list[SegmentDiff]:
    """One SegmentDiff per segment, in the order given. Reads only."""
    project = check_sources(adapter, project, segments)  # reads only
    stored, hashes = _stored(adapter)
    out = {
        s.name: SegmentDiff(
            s.name,
            stored=stored.get(s.name, 0),
            definition_changed=hashes.get(s.name) != definition_hash(project, s),
        )
        for s in segments
    }
    by_entity: dict[str, list[Segment]] = {}
    for seg in segments:
        by_entity.setdefault(seg.entity, []).append(seg)
    for entity, group in by_entity.items():
        for segment, change, n, entity_id in adapter.fetch(
            _changes_query(adapter, project, entity, group, as_of)
        ):
            result = out[segment]
            if change == "entered":
                result.enter = int(n)
                result.sample_enter.append(str(entity_id))
            else:
                result.exit = int(n)
                result.sample_exit.append(str(entity_id))
    for seg in segments:  # the run-only rules: cooldown and dwell above, the brake here
        result = out[seg.name]
        result.members = result.stored + result.enter - result.exit
        result.refused = refuses(result.stored, result.exit, exit_share_limit(adapter, seg))
    return list(out.values())
