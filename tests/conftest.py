"""Shared test helpers: small projects on disk and DuckDB warehouses with known data."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CONDITIONS = HERE / "projects" / "conditions"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def write_project(
    root: Path, segments: str, profiles: str | None = None, file: str = "segments/main.yml"
) -> Path:
    """A project folder with one segments file (dedented) and a DuckDB profile."""
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(textwrap.dedent(segments))
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            profiles
            or """
        segsql:
          target: dev
          outputs:
            dev: {type: duckdb, path: warehouse.duckdb, schema: segsql, threads: 1}
    """
        )
    )
    return root


@pytest.fixture
def conditions_project():
    from segsql.definitions.project import load_project

    return load_project(CONDITIONS)


def require(engine: str, reason: str | None) -> None:
    """Skip locally when an engine is missing; in CI a missing engine is a failure."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{engine} is required in CI but unavailable: {reason}")
    pytest.skip(f"{engine} unavailable: {reason}")


# ------------------------------------------------------------------ engines

ENGINES = ("duckdb", "postgres", "clickhouse", "spark")


@pytest.fixture(scope="session")
def postgres_server():
    from .engines import engine_available, postgres_cluster

    require("postgres", engine_available("postgres"))
    with postgres_cluster() as info:
        yield info


@pytest.fixture(scope="session")
def spark():
    from .engines import engine_available, spark_session

    require("spark", engine_available("spark"))
    with spark_session() as session:
        yield session


def engine_target(engine: str, request, tmp_path):
    """A profile target for `engine`, isolated per test (own schema / database / file)."""
    import uuid

    from segsql.definitions.profiles import Target

    schema = f"segsql_{uuid.uuid4().hex[:8]}"
    if engine == "duckdb":
        options = {"path": str(tmp_path / "wh.duckdb"), "threads": 1}
    elif engine == "postgres":
        pg = request.getfixturevalue("postgres_server")
        database = f"t_{uuid.uuid4().hex[:10]}"  # a database per test: nothing leaks
        with pg.connect() as con:
            con.execute(f'CREATE DATABASE "{database}"')

        def drop():
            with pg.connect() as con:
                con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

        request.addfinalizer(drop)
        options = {"host": pg.host, "port": pg.port, "user": pg.user, "dbname": database}
    elif engine == "clickhouse":
        from .engines import engine_available

        require("clickhouse", engine_available("clickhouse"))
        options = {"path": str(tmp_path / "chdb")}
    else:
        request.getfixturevalue("spark")
        options = {"master": "local[1]"}
    return Target(
        name=engine,
        type=engine,
        schema=schema,
        project_dir=str(tmp_path),
        options={"type": engine, **options},
    )


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture
def adapter(engine, request, tmp_path):
    """An open adapter on a fresh, isolated namespace of the engine under test."""
    from segsql.adapters import connect

    a = connect(engine_target(engine, request, tmp_path))
    yield a
    if engine != "duckdb":  # a DuckDB file is per test; shared servers need cleaning
        for schema in (a.schema, "main"):  # segsql's own, and the sources' of CONDITIONS
            a.drop_schema(schema)
    a.close()
