"""`segsql explain SEGMENT ID`: one segment evaluated for one entity at T, every node of
its condition tree with its truth value (and, for event and members conditions, the
measured value), referenced segments expanded (SPEC section 12). One SELECT over the
segment's plan for that entity; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler import ENTITY, Renderer, holdout_expr, plan_for
from ..compiler.reasons import measure_value
from ..errors import RunFailed
from ..model.guards import applied_suppressions, eligible, guarded
from ..model.types import (
    All,
    AnyOf,
    Condition,
    EventCond,
    InSegment,
    MembersCond,
    Not,
    Project,
    PropertyCond,
    Segment,
)
from .checks import check_sources
from .words import describe

KINDS = {
    All: "all",
    AnyOf: "any",
    Not: "not",
    InSegment: "in_segment",
    PropertyCond: "property",
    EventCond: "event",
    MembersCond: "members",
}


@dataclass
class Node:
    path: str
    kind: str
    cond: Condition
    children: list[Node] = field(default_factory=list)
    value: bool = False
    measure: Any = None
    shown: Any = None  # a property's value
    text: str = ""

    def to_json(self) -> dict:
        measure = self.measure
        if isinstance(measure, datetime):
            measure = measure.isoformat()
        elif measure is not None and not isinstance(measure, (int, float, str, bool)):
            measure = float(measure)  # Decimal
        return {
            "path": self.path,
            "kind": self.kind,
            "value": self.value,
            "measure": measure,
            "text": self.text,
            "children": [c.to_json() for c in self.children],
        }


@dataclass
class Explanation:
    segment: str
    entity_id: str
    as_of: datetime
    member: bool
    holdout: bool
    tree: Node
    # suppressions and priority groups (SPEC 14), each {"suppression": NAME} or
    # {"priority_group": G, "segment": RIVAL}, with "value": whether it holds at T
    guards: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "segment": self.segment,
            "entity_id": self.entity_id,
            "as_of": self.as_of.isoformat(),
            "member": self.member,
            "holdout": self.holdout,
            "tree": self.tree.to_json(),
            "guards": self.guards,
        }


def guard_conditions(project: Project, segment: Segment) -> list[tuple[dict, Condition]]:
    """What can keep an entity whose `where` holds out of the segment: each applied
    suppression, and each outranking segment of its priority group (when eligible)."""
    out: list[tuple[dict, Condition]] = [
        ({"suppression": s.name}, s.where) for s in applied_suppressions(project, segment)
    ]
    for name in segment.outranked_by:
        if name in project.segments:
            rival = {"priority_group": segment.priority_group, "segment": name}
            out.append((rival, eligible(project, project.segments[name])))
    return out


def tree(project: Project, cond: Condition, path: str = "where") -> Node:
    """The nodes of a condition tree, `in_segment` expanded into the referenced
    segment's tree (path `<name>.where`)."""
    kind = KINDS.get(type(cond), type(cond).__name__.removesuffix("Cond").lower())
    node = Node(path, kind, cond)
    if isinstance(cond, (All, AnyOf)):
        word = "all" if isinstance(cond, All) else "any"
        node.children = [tree(project, c, f"{path}.{word}[{i}]") for i, c in enumerate(cond.items)]
    elif isinstance(cond, Not):
        node.children = [tree(project, cond.item, f"{path}.not")]
    elif isinstance(cond, InSegment):
        ref = project.segments[cond.segment]
        node.children = [tree(project, ref.where, f"{cond.segment}.where")]
    return node


def _nodes(node: Node) -> list[Node]:
    return [node, *(n for c in node.children for n in _nodes(c))]


def explain(
    adapter: Adapter, project: Project, segment: Segment, entity_id: str, as_of: datetime
) -> Explanation:
    """RunFailed (exit 1) when the entity table has no such id at T."""
    project = check_sources(adapter, project, [segment])  # reads only
    d = adapter.dialect
    r = Renderer(d, as_of)
    guards = guard_conditions(project, segment)
    plan = plan_for(project, segment.entity, {segment.name: guarded(project, segment)}, d)
    root = tree(project, segment.where)
    nodes = _nodes(root)
    src = project.entity_source(segment.entity)
    key_text = d.to_text(r.col(src.key, ENTITY))
    columns: dict[str, exp.Expression] = {
        "segsql_holdout": holdout_expr(d, segment, key_text),
        "segsql_member": r.boolean(plan, guarded(project, segment), two_valued=True),
    }
    for i, (_, cond) in enumerate(guards):
        columns[f"segsql_g{i}"] = r.boolean(plan, cond, two_valued=True)
    for i, node in enumerate(nodes):
        columns[f"segsql_v{i}"] = r.boolean(plan, node.cond, two_valued=True)
        if isinstance(node.cond, EventCond):
            columns[f"segsql_m{i}"] = measure_value(r, plan, node.cond)
        elif isinstance(node.cond, MembersCond):
            count = r.col("n", plan.members[node.cond].alias)
            columns[f"segsql_m{i}"] = exp.Coalesce(this=count, expressions=[exp.Literal.number(0)])
        elif isinstance(node.cond, PropertyCond):
            columns[f"segsql_p{i}"] = d.to_text(
                r.prop_value(node.cond.prop, ENTITY, src.zone_aware)
            )
    where = exp.EQ(this=key_text.copy(), expression=exp.Literal.string(entity_id))
    query = r.select(plan, outputs={}, key_as_text=True, columns=columns, where=where)
    rows = adapter.fetch(query)
    if not rows:
        raise RunFailed(
            f"{segment.entity} '{entity_id}' is not in {src.table_name} at "
            f"{as_of:%Y-%m-%d %H:%M:%S} UTC (no such id, or created after T)"
        )
    names = [a.alias_or_name for a in query.expressions]
    row = dict(zip(names, rows[0], strict=True))
    for i, node in enumerate(nodes):
        node.value = bool(row[f"segsql_v{i}"])
        node.measure = row.get(f"segsql_m{i}")
        node.shown = row.get(f"segsql_p{i}")
        node.text = describe(node.cond, node.value, node.measure, node.shown)
    held = [{**g, "value": bool(row[f"segsql_g{i}"])} for i, (g, _) in enumerate(guards)]
    member = bool(row["segsql_member"])
    return Explanation(
        segment.name, entity_id, as_of, member, bool(row["segsql_holdout"]), root, held
    )


def render_text(e: Explanation) -> list[str]:
    """The tree, indented, then the verdict."""
    lines = [f"{e.segment} for {e.entity_id} at {e.as_of:%Y-%m-%d %H:%M:%S} UTC"]

    def walk(node: Node, depth: int) -> None:
        mark = "✓" if node.value else "✗"
        if node.kind in ("all", "any", "not"):
            head = {"all": "all of", "any": "any of", "not": "not"}[node.kind]
            label = f"{head} -> {'true' if node.value else 'false'}"
        elif node.kind == "in_segment":
            label = f"in segment {node.cond.segment} -> {'true' if node.value else 'false'}"
        else:
            label = node.text
        lines.append(f"{'  ' * depth}{mark} {label}    [{node.path}]")
        for child in node.children:
            walk(child, depth + 1)

    walk(e.tree, 1)
    for g in e.guards:
        mark = "✓" if g["value"] else "✗"
        if "suppression" in g:
            said = "holds: suppressed" if g["value"] else "does not hold"
            lines.append(f"  {mark} suppression {g['suppression']} {said}")
        else:
            said = "eligible: it takes the entity" if g["value"] else "not eligible"
            lines.append(
                f"  {mark} {g['segment']} (priority group {g['priority_group']}, "
                f"outranks this segment) {said}"
            )
    verdict = "MEMBER" if e.member else "NOT A MEMBER"
    hold = " (held out: in the control group)" if e.member and e.holdout else ""
    if not e.member and e.holdout:
        hold = " (would be held out)"
    lines.append(f"verdict: {verdict}{hold}")
    return lines
