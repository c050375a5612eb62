"""`segsql docs generate`: one self-contained page, target/docs/index.html (inline CSS,
script and SVG: it works from file:// without a network), rendered with the jinja2
template in segsql/docs/templates/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..model.types import MembersCond, ParentCond, Project, Segment
from ..model.walk import dependencies, walk
from . import charts
from .describe import describe
from .history import History


@dataclass
class SegmentPage:
    segment: Segment
    generated: str
    yaml: str
    references: list[str]
    referenced_by: list[str]
    parents: list[str]
    members: list[str]
    size_chart: str = ""
    change_chart: str = ""
    runs: int = 0
    last_members: int | None = None
    volatility: float | None = None
    search: str = ""


@dataclass
class Overlap:
    entity: str
    segments: list[str]
    cells: list[list[tuple[int, float]]] = field(default_factory=list)  # (n, share of row)


def yaml_of(project: Project, seg: Segment) -> str:
    """The segment's own lines of its YAML file: from its `- name:` item to the next."""
    if seg.loc is None:
        return ""
    path = Path(project.root) / seg.loc.file
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return ""
    start = seg.loc.line - 1
    first = lines[start]
    indent = len(first) - len(first.lstrip(" "))
    if not first.lstrip().startswith("- "):  # the key line of a mapping item: find its dash
        indent -= 2
    out = [first]
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if stripped and (len(line) - len(line.lstrip(" "))) <= indent:
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def _depths(project: Project) -> dict[str, int]:
    depth: dict[str, int] = {}

    def of(name: str) -> int:
        if name not in depth:
            depth[name] = 0  # (no cycles: the loader refuses them)
            deps = dependencies(project.segments[name])
            depth[name] = 1 + max((of(d) for d in deps), default=-1)
        return depth[name]

    for name in project.segments:
        of(name)
    return depth


def lineage(project: Project) -> str:
    depth = _depths(project)
    nodes, edges, entities = [], [], set()
    for seg in project.segments.values():
        for dep in dependencies(seg):
            edges.append((dep, seg.name, "in_segment"))
        for cond in walk(seg.where):
            if isinstance(cond, ParentCond):
                entities.add(cond.parent)
                edges.append((f"entity:{cond.parent}", seg.name, "parent"))
            elif isinstance(cond, MembersCond):
                entities.add(cond.child)
                edges.append((f"entity:{cond.child}", seg.name, "members"))
    shift = 1 if entities else 0
    nodes += [(f"entity:{e}", f"{e} (entity)", 0) for e in sorted(entities)]
    nodes += [(s, s, depth[s] + shift) for s in project.segments]
    return charts.lineage_graph(nodes, edges)


def pages(project: Project, history: History | None) -> list[SegmentPage]:
    referenced_by: dict[str, list[str]] = {}
    for seg in project.segments.values():
        for dep in dependencies(seg):
            referenced_by.setdefault(dep, []).append(seg.name)
    out = []
    for seg in project.segments.values():
        conds = list(walk(seg.where))
        page = SegmentPage(
            segment=seg,
            generated=describe(seg),
            yaml=yaml_of(project, seg),
            references=dependencies(seg),
            referenced_by=sorted(referenced_by.get(seg.name, [])),
            parents=sorted({c.parent for c in conds if isinstance(c, ParentCond)}),
            members=sorted({c.child for c in conds if isinstance(c, MembersCond)}),
        )
        if history is not None:
            points = history.runs.get(seg.name, [])
            times = [p.as_of for p in points]
            page.runs = len(points)
            page.last_members = points[-1].members if points else None
            page.volatility = history.volatility(seg.name)
            page.size_chart = charts.line_chart(
                f"members of {seg.name} per run", times, [p.members for p in points]
            )
            page.change_chart = charts.change_bars(
                f"entered and exited per run of {seg.name}",
                times,
                [p.entered for p in points],
                [p.exited for p in points],
            )
        page.search = " ".join(
            [seg.name, seg.entity, seg.description, page.generated, seg.owner or "", *seg.tags]
        ).lower()
        out.append(page)
    return out


def overlaps(project: Project, history: History | None) -> list[Overlap]:
    if history is None:
        return []
    out = []
    for entity in sorted({s.entity for s in project.segments.values()}):
        pairs = history.overlap.get(entity, {})
        names = [s.name for s in project.segments.values() if s.entity == entity]
        if not names:
            continue
        table = Overlap(entity, names)
        for a in names:
            size = pairs.get((a, a), 0)
            table.cells.append(
                [
                    (pairs.get((a, b), 0), pairs.get((a, b), 0) / size if size else 0.0)
                    for b in names
                ]
            )
        out.append(table)
    return out


def render(
    project: Project,
    *,
    title: str,
    history: History | None,
    warehouse_note: str,
    generated_at: str,
) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("segsql.docs", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("index.html.j2")
    return template.render(
        title=title,
        pages=pages(project, history),
        overlaps=overlaps(project, history),
        lineage=lineage(project),
        has_history=history is not None,
        warehouse_note=warehouse_note,
        generated_at=generated_at,
    )
