"""`segsql validate`, second half: do the warehouse's tables, columns and events exist?"""

from __future__ import annotations

from sqlglot import exp

from ..adapters.base import Adapter
from ..errors import did_you_mean
from ..model.types import Project
from ..model.usage import project_usage


def check_warehouse(adapter: Adapter, project: Project) -> list[str]:
    """Problems found, one line each (empty: all good). Scans event-name columns."""
    usage = project_usage(project)
    problems: list[str] = []
    missing_tables = set()
    for name, source in project.sources.items():
        columns = adapter.relation_columns(source.table)
        if columns is None:
            missing_tables.add(name)
            problems.append(
                f"{source.loc}: source '{name}': table {source.table_name} does not exist"
            )
            continue
        for column, where in sorted(usage.columns[name].items()):
            if column not in columns:
                problems.append(
                    f"{source.loc}: source '{name}': column '{column}' (used by "
                    f"{where}) is not in {source.table_name}"
                    f"{did_you_mean(column, columns)}"
                )
    names: dict[str, set[str]] = {}
    for name, source in project.sources.items():
        if source.events_of and name not in missing_tables:
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
