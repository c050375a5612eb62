"""`segsql prune`: segments that no longer exist in the definitions (SPEC sections 4 and
7). For each, its members exit (an `exited` row each, and a `success` row in
segsql_runs with `exited` = how many) in one atomic write - the adapter's own write of
a segment whose new membership is empty, so every engine's write strategy applies -
and then its view is dropped. A segment that is only disabled (`enabled: false`) still
exists and is left alone.

Found from segsql's tables: a segment is *removed* when segsql_runs knows it, the
definitions do not, and it still has membership rows or a view. So a prune that stops
half-way (say, after a segment's write but before its view was dropped) is finished by
the next one, and a second prune finds nothing to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..clock import utcnow
from ..model.types import Project
from ..state.tables import MEMBERSHIPS, RUNS, SegmentRun, c

REMOVED_HASH = "removed"  # the definition_hash of a prune's run row


@dataclass
class Removed:
    """A segment to prune: its member count (by entity type) and whether its view exists."""

    segment: str
    members: dict[str, int]
    has_view: bool

    @property
    def count(self) -> int:
        return sum(self.members.values())


def removed_segments(adapter: Adapter, project: Project) -> list[Removed]:
    """The segments segsql has written that the definitions no longer have."""
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return []
    known = {
        str(r[0])
        for r in adapter.fetch(exp.select(c("segment")).from_(adapter.table(RUNS)).distinct())
    }
    members: dict[str, dict[str, int]] = {}
    if adapter.relation_columns((adapter.schema, MEMBERSHIPS)) is not None:
        rows = adapter.fetch(
            exp.select(c("segment"), c("entity_type"), exp.func("COUNT", exp.Star()))
            .from_(adapter.table(MEMBERSHIPS))
            .group_by(c("segment"), c("entity_type"))
        )
        for segment, entity_type, n in rows:
            members.setdefault(str(segment), {})[str(entity_type)] = int(n)
    out = []
    for name in sorted((known | set(members)) - set(project.segments)):
        has_view = adapter.relation_columns((adapter.schema, name)) is not None
        if members.get(name) or has_view:
            out.append(Removed(name, members.get(name, {}), has_view))
    return out


def _no_members(adapter: Adapter) -> exp.Select:
    """An empty (entity_id text, holdout) relation: the new membership of a removed
    segment."""
    d = adapter.dialect
    return exp.select(
        exp.alias_(exp.cast(exp.null(), d.dtype(d.text_type)), "entity_id", quoted=True),
        exp.alias_(exp.false(), "holdout", quoted=True),
    ).where(exp.false())


def prune(
    adapter: Adapter, project: Project, dry_run: bool = False, now: datetime | None = None
) -> list[Removed]:
    """Prune every removed segment (see the module doc); with `dry_run`, only find them.
    Holds the target's run lock, so no run writes meanwhile."""
    with adapter.run_lock():
        found = removed_segments(adapter, project)
        if dry_run:
            return found
        at = now or utcnow()
        run_id = f"{at:%Y%m%dT%H%M%S%f}-prune-{uuid.uuid4().hex[:6]}"
        for seg in found:
            if seg.count:
                entity_type = max(seg.members, key=lambda t: seg.members[t])
                run = SegmentRun(run_id, seg.segment, entity_type, at, utcnow(), REMOVED_HASH)
                adapter.write_segment(run, _no_members(adapter), utcnow)
            if seg.has_view:
                adapter.execute(
                    exp.Drop(tables=[adapter.table(seg.segment)], kind="VIEW", exists=True)
                )
        return found


__all__ = ["Removed", "prune", "removed_segments"]
