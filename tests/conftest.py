"""Shared test helpers: small projects on disk and DuckDB warehouses with known data."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CONDITIONS = HERE / "projects" / "conditions"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def write_project(root: Path, segments: str, profiles: str | None = None,
                  file: str = "segments/main.yml") -> Path:
    """A project folder with one segments file (dedented) and a DuckDB profile."""
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(textwrap.dedent(segments))
    (root / "profiles.yml").write_text(textwrap.dedent(profiles or """
        segsql:
          target: dev
          outputs:
            dev: {type: duckdb, path: warehouse.duckdb, schema: segsql, threads: 1}
    """))
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
