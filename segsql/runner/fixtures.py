"""`segsql test`: each `tests:` fixture in a fresh in-memory DuckDB (docs/language.md, Fixtures).

Tables are named by source; column types follow the YAML values (integers BIGINT,
decimals DOUBLE, ISO timestamps TIMESTAMP, booleans BOOLEAN, mappings JSON, other text
VARCHAR); columns the project reads but no row gives are NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler import evaluation_query
from ..errors import one_line
from ..model.types import Fixture, Project
from ..model.usage import project_usage


@dataclass
class FixtureResult:
    fixture: Fixture
    ok: bool
    details: list[str] = field(default_factory=list)


def column_type(values: list[Any]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("BOOLEAN")
        elif isinstance(v, int):
            kinds.add("BIGINT")
        elif isinstance(v, float):
            kinds.add("DOUBLE")
        elif isinstance(v, (datetime, date)) or (isinstance(v, str) and _is_timestamp(v)):
            kinds.add("TIMESTAMP")
        elif isinstance(v, (dict, list)):
            kinds.add("JSON")
        else:
            kinds.add("VARCHAR")
    if kinds == {"BIGINT", "DOUBLE"}:
        return "DOUBLE"
    return kinds.pop() if len(kinds) == 1 else "VARCHAR"


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return len(text) >= 10 and text[4] == "-"


def _default_type(project: Project, usage, source: str, column: str) -> str:
    s = project.sources[source]
    if (source, column) in usage.types:
        return usage.types[(source, column)]
    if column in (s.timestamp, s.created_at):
        return "TIMESTAMP"
    if column in s.json:
        return "JSON"
    return "VARCHAR"


def _key_types(project: Project, given: dict[str, list[dict]]) -> dict[str, dict[str, str]]:
    """Every column holding an entity's key (its own key, event keys, parent columns) gets
    one type, taken from whichever rows give one: a UNION of event sources needs it."""
    holders: dict[str, list[tuple[str, str]]] = {}
    for s in project.sources.values():
        holders.setdefault(s.entity or s.events_of or "", []).append((s.name, s.key))
        for parent, column in s.parents:
            holders.setdefault(parent, []).append((s.name, column))
    out: dict[str, dict[str, str]] = {}
    for columns in holders.values():
        values = [r.get(c) for s, c in columns for r in given.get(s, [])]
        if any(v is not None for v in values):
            for s, c in columns:
                out.setdefault(s, {})[c] = column_type(values)
    return out


def _value(v: Any, kind: str) -> Any:
    if kind == "TIMESTAMP" and v is not None:
        from ..definitions.values import parse_timestamp

        return parse_timestamp(v, None, "value")  # type: ignore[arg-type]
    return v


def load_tables(
    adapter: Adapter,
    project: Project,
    given: dict[str, list[dict]],
    types: dict[str, dict[str, str]] | None = None,
) -> None:
    """(Re)create every source's table from rows; `types` may fix column types
    (source -> column -> generic type), otherwise they follow the values."""
    usage = project_usage(project)
    keys = _key_types(project, given)
    for name, source in project.sources.items():
        rows = given.get(name, [])
        fixed = {**keys.get(name, {}), **(types or {}).get(name, {})}
        columns = list(
            dict.fromkeys([c for r in rows for c in r] + list(usage.columns[name]) + list(fixed))
        )
        kinds = {
            c: fixed.get(c)
            or (
                column_type([r.get(c) for r in rows])
                if any(r.get(c) is not None for r in rows)
                else _default_type(project, usage, name, c)
            )
            for c in columns
        }
        if len(source.table) > 1:
            adapter.execute(
                exp.Create(
                    this=exp.Table(this=adapter.dialect.ident(source.table[-2])),
                    kind="SCHEMA",
                    exists=True,
                )
            )
        table = adapter.dialect.table(*source.table)
        adapter.create_table(table, [(c, kinds[c]) for c in columns], replace=True)
        adapter.insert_rows(
            table,
            columns,
            [
                [adapter.dialect.literal(_value(r.get(c), kinds[c]), kinds[c]) for c in columns]
                for r in rows
            ],
        )


def members_at(adapter: Adapter, project: Project, segment: str, as_of: datetime) -> set[str]:
    """Member ids (as text) of one segment at T, evaluated like a run does."""
    seg = project.segments[segment]
    rows = adapter.fetch(evaluation_query(project, seg.entity, [seg], adapter.dialect, as_of))
    return {str(r[0]) for r in rows if r[1]}


def memory_duckdb() -> Adapter:
    from ..adapters.duckdb import DuckDBAdapter
    from ..definitions.profiles import Target

    return DuckDBAdapter(
        Target(
            name="fixtures",
            type="duckdb",
            schema="segsql",
            project_dir=".",
            options={"path": ":memory:", "threads": 1},
        )
    )


def run_fixture(project: Project, fixture: Fixture) -> FixtureResult:
    import duckdb

    adapter = memory_duckdb()
    try:
        load_tables(adapter, project, fixture.given)
        actual = members_at(adapter, project, fixture.segment, fixture.as_of)
    except duckdb.Error as err:
        return FixtureResult(fixture, False, [f"error: {one_line(err, first_only=True)}"])
    finally:
        adapter.close()
    expected = {str(m) for m in fixture.members}
    if actual == expected:
        return FixtureResult(fixture, True)
    details = [f"expected members: {_ids(expected)}", f"actual members:   {_ids(actual)}"]
    if expected - actual:
        details.append(f"missing:    {_ids(expected - actual)}")
    if actual - expected:
        details.append(f"unexpected: {_ids(actual - expected)}")
    return FixtureResult(fixture, False, details)


def _ids(ids: set[str]) -> str:
    return "[" + ", ".join(sorted(ids, key=lambda s: (len(s), s))) + "]"


def run_fixtures(project: Project, segments: set[str] | None = None) -> list[FixtureResult]:
    return [
        run_fixture(project, f)
        for f in project.fixtures
        if segments is None or f.segment in segments
    ]
