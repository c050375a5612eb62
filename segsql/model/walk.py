"""Generic traversal of condition trees."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .types import All, AnyOf, Condition, InSegment, MembersCond, Not, ParentCond, Segment


def children(cond: Condition) -> list[Condition]:
    """Direct sub-conditions on the same entity (not event filters, nor parent/child ones)."""
    if isinstance(cond, (All, AnyOf)):
        return list(cond.items)
    if isinstance(cond, Not):
        return [cond.item]
    return []


def walk(cond: Condition, *, nested: bool = True) -> Iterator[Condition]:
    """Every node of the tree; with `nested`, also inside parent/members conditions."""
    yield cond
    for child in children(cond):
        yield from walk(child, nested=nested)
    if nested and isinstance(cond, (ParentCond, MembersCond)) and cond.where is not None:
        yield from walk(cond.where, nested=nested)


def through_references(cond: Condition, segments: Mapping[str, Segment]) -> Iterator[Condition]:
    """Every node on the same entity, following `in_segment` into the referenced
    segment's condition (not into parent/members conditions)."""
    yield cond
    if isinstance(cond, InSegment):
        yield from through_references(segments[cond.segment].where, segments)
    for child in children(cond):
        yield from through_references(child, segments)


def dependencies(segment: Segment) -> list[str]:
    """Names of the segments this one's membership depends on (direct only): those it
    references with in_segment, and those of its priority group that outrank it."""
    refs = {c.segment for c in walk(segment.where) if isinstance(c, InSegment)}
    return sorted(refs | set(segment.outranked_by))


def with_references(segments: list[Segment], every: Mapping[str, Segment]) -> list[Segment]:
    """`segments` and every segment they reference, directly or not (each once)."""
    out: dict[str, Segment] = {}
    todo = list(segments)
    while todo:
        seg = todo.pop()
        if seg.name not in out:
            out[seg.name] = seg
            todo += [every[name] for name in dependencies(seg) if name in every]
    return list(out.values())
