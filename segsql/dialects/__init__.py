"""One class per target: everything that differs between engines lives here, as data and
small expression builders. The compiler only ever calls these methods."""

from __future__ import annotations

from importlib import import_module

from .base import Dialect

_MODULES = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "clickhouse": "clickhouse",
    "spark": "spark",
    "databricks": "spark",
    "snowflake": "warehouses",
    "bigquery": "warehouses",
    "redshift": "postgres",
    "trino": "warehouses",
}
TARGETS = tuple(_MODULES)


def get_dialect(name: str) -> Dialect:
    """The dialect for a target type (`duckdb`, `postgres`, ... as in profiles.yml)."""
    from ..errors import UsageError, did_you_mean

    if name not in _MODULES:
        raise UsageError(
            f"unknown dialect '{name}'{did_you_mean(name, TARGETS)}; supported: "
            + ", ".join(TARGETS)
        )
    module = import_module(f".{_MODULES[name]}", __name__)
    return module.DIALECTS[name]()
