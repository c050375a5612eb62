"""What the evaluation query of a run adds for suppressions and priority groups, beyond
each segment's (guarded) membership column: the facts a change's `reason` needs.

- `segsql_suppressed_<name>`: TRUE when suppression `name` holds for the entity (one per
  suppression that applies to some evaluated segment);
- `segsql_eligible_<segment>`: TRUE when the segment's own `where` holds and no
  suppression that applies to it does, before its priority group (one per segment of a
  group that an evaluated segment belongs to, up to that segment's priority). The
  winner of a group for an entity is the eligible segment with the lowest priority.

Names start with `segsql_`, which no segment name may, so they never clash with a
segment's column. One that would be longer than NAME_BYTES ends in a digest of the name
instead (Postgres cuts names at 63 bytes, so two long names could become one column).
"""

from __future__ import annotations

import hashlib

from ..model.guards import applied_suppressions, eligible
from ..model.types import Condition, Project, Segment

SUPPRESSED = "segsql_suppressed_"
ELIGIBLE = "segsql_eligible_"
NAME_BYTES = 63  # the shortest name limit of the targets (Postgres)


def suppressed_column(suppression: str) -> str:
    return _column(SUPPRESSED, suppression)


def eligible_column(segment: str) -> str:
    return _column(ELIGIBLE, segment)


def _column(prefix: str, name: str) -> str:
    if len((prefix + name).encode()) <= NAME_BYTES:
        return prefix + name
    return prefix + hashlib.sha1(name.encode()).hexdigest()[:16]


def guard_outputs(project: Project, segments: list[Segment]) -> dict[str, Condition]:
    """Extra evaluation columns (name -> condition) for `segments` (see module doc)."""
    out: dict[str, Condition] = {}
    for seg in segments:
        for sup in applied_suppressions(project, seg):
            out.setdefault(suppressed_column(sup.name), sup.where)
    for seg in segments:
        if seg.priority_group is None:
            continue
        for name in (*seg.outranked_by, seg.name):
            other = project.segments[name]
            out.setdefault(eligible_column(name), eligible(project, other))
    return out
