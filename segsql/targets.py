"""Every target type segsql knows, in one registry: the dialect that writes its SQL and,
for the types `segsql run` executes, the adapter and the pip extra of its driver.
Modules are named, not imported, so reading this costs nothing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetType:
    dialect: tuple[str, str]  # (module in segsql.dialects, class)
    adapter: tuple[str, str] | None = None  # (module in segsql.adapters, class); None: compile only
    extra: str | None = None  # `pip install "segsql[extra]"` for its driver


TARGET_TYPES: dict[str, TargetType] = {
    "duckdb": TargetType(("duckdb", "DuckDB"), ("duckdb", "DuckDBAdapter")),
    "postgres": TargetType(("postgres", "Postgres"), ("postgres", "PostgresAdapter"), "postgres"),
    "clickhouse": TargetType(
        ("clickhouse", "ClickHouse"), ("clickhouse", "ClickHouseAdapter"), "clickhouse"
    ),
    "spark": TargetType(("spark", "Spark"), ("spark", "SparkAdapter"), "spark"),
    "databricks": TargetType(("spark", "Databricks"), ("spark", "DatabricksAdapter"), "databricks"),
    "snowflake": TargetType(("warehouses", "Snowflake")),
    "bigquery": TargetType(("warehouses", "BigQuery")),
    "redshift": TargetType(("postgres", "Redshift")),
    "trino": TargetType(("warehouses", "Trino")),
}
TARGETS = tuple(TARGET_TYPES)
RUNNABLE = tuple(name for name, t in TARGET_TYPES.items() if t.adapter)
