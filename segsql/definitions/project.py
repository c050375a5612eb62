"""Find and load a project's `segments/` files into a validated `Project`."""

from __future__ import annotations

from pathlib import Path

from ..errors import DefinitionError, Location, did_you_mean
from ..model.types import Project, Segment, Source, Suppression
from ..model.walk import dependencies
from .guards import check_guards, parse_suppression
from .segments import FILE_KEYS, parse_fixture, parse_segment
from .sources import parse_source
from .values import check_keys, expect_list, expect_map
from .yaml import YMap, load_file

SEGMENTS_DIR = "segments"


def segment_files(root: Path) -> list[Path]:
    base = root / SEGMENTS_DIR
    if not base.is_dir():
        raise DefinitionError(
            f"no '{SEGMENTS_DIR}/' folder in {root}: is this a segsql project? (use --project-dir)"
        )
    return sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_project(root: str | Path, sql_dialect: str = "duckdb") -> Project:
    """Read every YAML file under `segments/`; `sql_dialect` reads `sql:` conditions."""
    root = Path(root)
    docs: list[tuple[str, YMap]] = []
    for path in segment_files(root):
        display = str(path.relative_to(root))
        doc = load_file(path, display)
        if doc is None:
            continue  # an empty file is harmless
        doc = expect_map(doc, Location(display, 1), "a segments file")
        check_keys(doc, FILE_KEYS, "file")
        docs.append((display, doc))
    return project_from_docs(root, docs, sql_dialect)


def project_from_docs(
    root: str | Path, docs: list[tuple[str, YMap]], sql_dialect: str = "duckdb"
) -> Project:
    """A validated Project from loaded segments documents (file name, YAML mapping)."""
    sources: dict[str, Source] = {}
    for _display, doc in docs:
        if "sources" not in doc or doc["sources"] is None:
            continue
        block = expect_map(doc["sources"], doc.loc_of("sources"), "'sources'")
        for name, body in block.items():
            if name in sources:
                raise DefinitionError(
                    f"source '{name}' is declared twice (first at {sources[name].loc})",
                    block.loc_of(name),
                )
            sources[name] = parse_source(name, body, block.loc_of(name))
    _check_sources(sources)

    suppressions: dict[str, Suppression] = {}
    for _display, doc in docs:
        for i, node in _items(doc, "suppressions"):
            sup = parse_suppression(node, i, sources, sql_dialect)
            if sup.name in suppressions:
                raise DefinitionError(
                    f"suppression '{sup.name}' is defined twice "
                    f"(first at {suppressions[sup.name].loc})",
                    sup.loc,
                )
            suppressions[sup.name] = sup

    segments: dict[str, Segment] = {}
    refs: dict[str, list[tuple[str, Location, str]]] = {}
    fixtures = []
    for _display, doc in docs:
        for i, node in _items(doc, "segments"):
            seg, seg_refs = parse_segment(node, i, sources, sql_dialect)
            if seg.name in segments:
                raise DefinitionError(
                    f"segment '{seg.name}' is defined twice (first at {segments[seg.name].loc})",
                    seg.loc,
                )
            segments[seg.name] = seg
            refs[seg.name] = seg_refs
        for i, node in _items(doc, "tests"):
            fixtures.append(parse_fixture(node, i))
    segments = check_guards(segments, suppressions)
    _check_references(segments, refs)
    _check_fixtures(fixtures, segments, sources)
    return Project(str(root), sources, segments, fixtures, suppressions)


def _items(doc: YMap, key: str):
    if doc.get(key) is None:
        return []
    items = expect_list(doc[key], doc.loc_of(key), f"'{key}'")
    return [(items.loc_of(i), node) for i, node in enumerate(items)]


def _check_sources(sources: dict[str, Source]) -> None:
    seen: dict[str, Source] = {}
    for s in sources.values():
        if s.entity:
            if s.entity in seen:
                raise DefinitionError(
                    f"entity '{s.entity}' has two entity sources, "
                    f"'{seen[s.entity].name}' and '{s.name}'; keep one",
                    s.loc,
                )
            seen[s.entity] = s
    for s in sources.values():
        if s.events_of and s.events_of not in seen:
            raise DefinitionError(
                f"source '{s.name}': 'events_of: {s.events_of}' names no entity"
                f"{did_you_mean(s.events_of, seen)}",
                s.loc,
            )
        for parent, _column in s.parents:
            if parent not in seen:
                raise DefinitionError(
                    f"source '{s.name}': parent '{parent}' has no entity "
                    f"source{did_you_mean(parent, seen)}",
                    s.loc,
                )


def _check_references(segments: dict[str, Segment], refs) -> None:
    for name, seg_refs in refs.items():
        seg = segments[name]
        for target, loc, entity in seg_refs:
            ctx = f"segment '{name}'"
            if target not in segments:
                raise DefinitionError(
                    f"in_segment: unknown segment '{target}'{did_you_mean(target, segments)}",
                    loc,
                    ctx,
                )
            other = segments[target]
            if other.entity != entity:
                raise DefinitionError(
                    f"in_segment: '{target}' is a segment of '{other.entity}', not '{entity}'",
                    loc,
                    ctx,
                )
            if seg.enabled and not other.enabled:
                raise DefinitionError(
                    f"in_segment: '{target}' is disabled (enabled: false)", loc, ctx
                )
    # cycles: depth-first search over in_segment edges, reporting the cycle's path
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in dependencies(segments[name]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target] if target in path else [name, target]
                grouped = any(
                    b in segments[a].outranked_by for a, b in zip(cycle, cycle[1:], strict=False)
                )
                why = (
                    " (a segment of a priority_group depends on those that outrank it)"
                    if grouped
                    else ""
                )
                raise DefinitionError(
                    "in_segment references form a cycle: " + " -> ".join(cycle) + why,
                    segments[name].loc,
                )
            if target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in segments:
        if name not in state:
            visit(name, [name])


def _check_fixtures(fixtures, segments, sources) -> None:
    names: dict[str, Location | None] = {}
    for f in fixtures:
        if f.name in names:
            raise DefinitionError(
                f"test '{f.name}' is defined twice (first at {names[f.name]})", f.loc
            )
        names[f.name] = f.loc
        if f.segment not in segments:
            raise DefinitionError(
                f"test '{f.name}': unknown segment '{f.segment}'"
                f"{did_you_mean(f.segment, segments)}",
                f.loc,
            )
        for table in f.given:
            if table not in sources:
                raise DefinitionError(
                    f"test '{f.name}': 'given' names unknown source '{table}'"
                    f"{did_you_mean(table, sources)}",
                    f.loc,
                )
