"""Do the warehouse's tables, columns and events exist? `segsql validate` checks all of
them; `segsql run` checks the tables and columns its segments read before it writes."""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from ..adapters.base import Adapter
from ..errors import DefinitionError, did_you_mean
from ..model.types import Project, Segment
from ..model.usage import Usage, project_usage


def check_warehouse(adapter: Adapter, project: Project) -> list[str]:
    """Problems found, one line each (empty: all good). Scans event-name columns."""
    usage = project_usage(project)
    problems, found = _column_problems(adapter, project, usage)
    names: dict[str, set[str]] = {}
    for name, source in project.sources.items():
        if source.events_of and name in found:
            column = exp.column(exp.to_identifier(source.event, quoted=True))
            rows = adapter.fetch(
                exp.select(column).distinct().from_(adapter.dialect.table(*source.table))
            )
            names[name] = {str(r[0]) for r in rows if r[0] is not None}
    for sources, events, where in usage.events:
        known = set().union(*(names.get(s, set()) for s in sources))
        if not all(s in names for s in sources):
            continue
        for event in events:
            if event not in known:
                tables = ", ".join(project.sources[s].table_name for s in sources)
                problems.append(
                    f"{where}: event '{event}' never occurs in {tables}{did_you_mean(event, known)}"
                )
    return problems


def check_sources(adapter: Adapter, project: Project, segments: list[Segment]) -> Project:
    """Before a run writes anything: the tables and columns `segments` (and the segments
    they reference) read exist, and their text fits the engine; DefinitionError (exit 2)
    otherwise. Returns the project with each source's zone-aware columns noted
    (`Source.zone_aware`), which the compiler reads as instants in UTC."""
    adapter.dialect.check_text(project, segments)
    problems, found = _column_problems(adapter, project, project_usage(project, segments))
    if problems:
        more = f" (and {len(problems) - 1} more problem(s); `segsql validate` lists them)"
        raise DefinitionError(
            problems[0] + (more if len(problems) > 1 else "") + "; nothing was written"
        )
    is_instant = adapter.dialect.is_instant
    sources = {
        name: dataclasses.replace(
            s, zone_aware=frozenset(c for c, t in found.get(name, {}).items() if is_instant(t))
        )
        for name, s in project.sources.items()
    }
    return dataclasses.replace(project, sources=sources)


def _column_problems(
    adapter: Adapter, project: Project, usage: Usage
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(problems, source -> {column: type}) for the sources `usage` lists."""
    problems: list[str] = []
    found: dict[str, dict[str, str]] = {}
    for name, used in usage.columns.items():
        source = project.sources[name]
        columns = adapter.relation_columns(source.table)
        if columns is None:
            problems.append(
                f"{source.loc}: source '{name}': table {source.table_name} does not exist"
            )
            continue
        found[name] = columns
        for column, where in sorted(used.items()):
            if column not in columns:
                problems.append(
                    f"{source.loc}: source '{name}': column '{column}' (used by "
                    f"{where}) is not in {source.table_name}"
                    f"{did_you_mean(column, columns)}"
                )
    return problems, found
