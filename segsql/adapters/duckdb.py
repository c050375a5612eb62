"""DuckDB, embedded: the default target."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from ..errors import LockError, WarehouseError, one_line
from .base import Adapter, set_statement

# DuckDB files that segsql creates (the target database, the demo warehouse) are written in
# this storage format, so that the DuckDB CLIs people have (1.4 LTS, 1.5) open them: a
# newer library otherwise writes a format only it reads ("version number 69, but we can
# only read 64 to 68"). It applies to new files only; a library older than this version
# writes its own, older format anyway.
STORAGE_VERSION = "v1.4.0"


def connect_file(path: str, config: dict | None = None):
    """duckdb.connect(path), a new file in STORAGE_VERSION's format."""
    import duckdb

    config = dict(config or {})
    if path != ":memory:" and _version(duckdb.__version__) >= _version(STORAGE_VERSION):
        config.setdefault("storage_compatibility_version", STORAGE_VERSION)
    return duckdb.connect(path, config=config)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


class DuckDBAdapter(Adapter):
    default_schema = "main"
    RUN_LOCK = "file"  # one writing process per file, taken in _open

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
                return connect_file(path, config)
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
