"""DuckDB, embedded: the default target."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from ..errors import LockError, WarehouseError, one_line
from .base import Adapter, set_statement


class DuckDBAdapter(Adapter):
    default_schema = "main"

    def __init__(self, target: Any, lock_timeout: float = 0):
        super().__init__(target, lock_timeout)
        path = target.options.get("path", "warehouse.duckdb")
        if path != ":memory:" and not Path(path).is_absolute():
            path = str(Path(target.project_dir) / path)
        config = {
            k: str(target.options[k])
            for k in ("threads", "memory_limit")
            if target.options.get(k) is not None
        }
        self.con = self._open(path, config, lock_timeout)
        self.execute(set_statement("TimeZone", "UTC"))  # zone-aware values print in UTC

    @staticmethod
    def _open(path: str, config: dict, timeout: float):
        """DuckDB lets one process write a database file: that is the run lock. A second
        process waits up to `timeout` seconds, then fails naming the holder's PID. The OS
        releases the lock of a process that dies, so a crashed run never blocks."""
        import duckdb

        deadline = time.monotonic() + timeout
        while True:
            try:
                return duckdb.connect(path, config=config)
            except duckdb.IOException as err:
                message = str(err)
                if "lock" not in message.lower():
                    raise WarehouseError(
                        f"cannot open DuckDB database {path}: {one_line(message, first_only=True)}"
                    ) from None
                if time.monotonic() >= deadline:
                    holder = re.search(r"PID (\d+)", message)
                    who = f"held by PID {holder.group(1)}" if holder else "held by another process"
                    raise LockError(
                        f"DuckDB database {path} is in use ({who}); waited {timeout:g}s "
                        "(--lock-timeout)"
                    ) from None
                time.sleep(0.2)
            except duckdb.Error as err:
                raise WarehouseError(
                    f"cannot open DuckDB database {path}: {one_line(err, first_only=True)}"
                ) from None

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
