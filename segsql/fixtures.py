"""`segsql test`: run each `tests:` fixture in a fresh in-memory DuckDB (SPEC section 9).

Tables are named by source; column types follow the YAML values (integers BIGINT,
decimals DOUBLE, ISO timestamps TIMESTAMP, booleans BOOLEAN, mappings JSON, other text
VARCHAR); columns the project reads but no row gives are NULL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlglot import exp

from .compiler import evaluation_query
from .dialects import get_dialect
from .model.types import Fixture, Project
from .model.usage import project_usage


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


def _param(v: Any, kind: str) -> Any:
    """A fixture value as a bound parameter (values never become SQL text)."""
    if v is None:
        return None
    if kind == "JSON":
        return json.dumps(v, default=str)
    if kind == "TIMESTAMP":
        from .model.parse import parse_timestamp

        return parse_timestamp(v, None, "value")  # type: ignore[arg-type]
    if kind == "VARCHAR":
        return str(v)
    return v


def _default_type(project: Project, usage, source: str, column: str) -> str:
    s = project.sources[source]
    if (source, column) in usage.types:
        return usage.types[(source, column)]
    if column in (s.timestamp, s.created_at):
        return "TIMESTAMP"
    if column in s.json:
        return "JSON"
    return "VARCHAR"


def load_tables(con, project: Project, given: dict[str, list[dict]]) -> None:
    """Create every source's table in `con` (a DuckDB connection) from fixture rows."""
    d = get_dialect("duckdb")
    usage = project_usage(project)
    for name, source in project.sources.items():
        rows = given.get(name, [])
        columns = list(dict.fromkeys([c for r in rows for c in r] + list(usage.columns[name])))
        types = {
            c: column_type([r.get(c) for r in rows])
            if any(r.get(c) is not None for r in rows)
            else _default_type(project, usage, name, c)
            for c in columns
        }
        if len(source.table) > 1:
            con.execute(
                d.sql(
                    exp.Create(
                        this=exp.Table(this=d.ident(source.table[-2])), kind="SCHEMA", exists=True
                    )
                )
            )
        table = d.table(*source.table)
        con.execute(
            d.sql(
                exp.Create(
                    kind="TABLE",
                    this=exp.Schema(
                        this=table,
                        expressions=[
                            exp.ColumnDef(this=d.ident(c), kind=exp.DataType.build(types[c]))
                            for c in columns
                        ],
                    ),
                )
            )
        )
        if rows:
            placeholders = [exp.cast(exp.Placeholder(), types[c]) for c in columns]
            statement = exp.insert(
                exp.values([tuple(placeholders)]),
                table.copy(),
                columns=[d.ident(c) for c in columns],
            )
            con.executemany(
                d.sql(statement), [[_param(r.get(c), types[c]) for c in columns] for r in rows]
            )


def run_fixture(project: Project, fixture: Fixture) -> FixtureResult:
    import duckdb

    d = get_dialect("duckdb")
    segment = project.segments[fixture.segment]
    con = duckdb.connect(":memory:")
    try:
        load_tables(con, project, fixture.given)
        query = evaluation_query(project, segment.entity, [segment], d, fixture.as_of)
        rows = con.execute(d.sql(query)).fetchall()
    except duckdb.Error as err:
        return FixtureResult(fixture, False, [f"error: {str(err).splitlines()[0]}"])
    finally:
        con.close()
    actual = {str(r[0]) for r in rows if r[1]}
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
