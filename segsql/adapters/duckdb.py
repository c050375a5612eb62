"""DuckDB, embedded: the default target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import WarehouseError
from .base import Adapter


class DuckDBAdapter(Adapter):
    default_schema = "main"

    def __init__(self, target: Any):
        super().__init__(target)
        import duckdb

        path = target.options.get("path", "warehouse.duckdb")
        if path != ":memory:" and not Path(path).is_absolute():
            path = str(Path(target.project_dir) / path)
        config = {
            k: str(target.options[k])
            for k in ("threads", "memory_limit")
            if target.options.get(k) is not None
        }
        try:
            self.con = duckdb.connect(path, config=config)
        except duckdb.Error as err:
            raise WarehouseError(
                f"cannot open DuckDB database {path}: {str(err).splitlines()[0]}"
            ) from None
        self._duckdb = duckdb

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def begin(self) -> None:
        self.con.begin()

    def commit(self) -> None:
        self.con.commit()

    def rollback(self) -> None:
        self.con.rollback()

    def close(self) -> None:
        self.con.close()
