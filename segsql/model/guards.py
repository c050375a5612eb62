"""Suppressions and priority groups as conditions (SPEC section 14).

A segment's *guarded* condition is the one its view and its runs evaluate:
- *eligible*: its own `where`, and no suppression of its entity type holds (except those
  it names in `ignore_suppressions`);
- *guarded*: eligible, and no segment of its priority group that outranks it (a lower
  `priority`) is eligible.

`in_segment` reads the referenced segment's guarded condition (the compiler follows
references through `guarded`), so a reference sees the members after both rules;
`members:` counts child entities by its own `where`, unaffected.
"""

from __future__ import annotations

from .types import All, AnyOf, Condition, Not, Project, Segment, Suppression


def applied_suppressions(project: Project, segment: Segment) -> list[Suppression]:
    """The suppressions that apply to `segment`: of its entity type, not ignored."""
    return [
        s
        for s in project.suppressions.values()
        if s.entity == segment.entity and s.name not in segment.ignore_suppressions
    ]


def suppressed_condition(suppressions: list[Suppression]) -> Condition:
    """TRUE when any of `suppressions` holds."""
    return AnyOf(tuple(s.where for s in suppressions))


def eligible(project: Project, segment: Segment) -> Condition:
    """The segment's `where` with its suppressions applied (before priority groups)."""
    applied = applied_suppressions(project, segment)
    if not applied:
        return segment.where
    return All((segment.where, Not(suppressed_condition(applied))))


def guarded(project: Project, segment: Segment) -> Condition:
    """What the segment's view and its runs evaluate: eligible, and not eligible for a
    segment of its priority group that outranks it."""
    base = eligible(project, segment)
    winners = [project.segments[n] for n in segment.outranked_by if n in project.segments]
    if not winners:
        return base
    return All((base, Not(AnyOf(tuple(eligible(project, w) for w in winners)))))


def guarded_where(project: Project, name: str) -> Condition:
    return guarded(project, project.segments[name])


def group_members(project: Project, group: str) -> list[Segment]:
    """The enabled segments of a priority group, the winner first."""
    return sorted(
        (s for s in project.enabled.values() if s.priority_group == group),
        key=lambda s: s.priority or 0,
    )
