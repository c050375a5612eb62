"""An exclusive OS file lock (flock) holding the holder's PID: the run lock of embedded
engines whose data folder one process opens at a time (chdb). The OS releases it when the
holder dies, so a crashed run never blocks the next one."""

from __future__ import annotations

import fcntl
import os
import time

from ..errors import LockError


class FileLock:
    def __init__(self, path: str, what: str):
        self.path, self.what = path, what
        self._fd: int | None = None

    def acquire(self, timeout: float) -> None:
        """Take the lock, retrying for up to `timeout` seconds; then LockError naming the
        holder's PID."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                    os.close(fd)
                    who = f"held by PID {holder}" if holder.isdigit() else "held by another process"
                    raise LockError(
                        f"{self.what} is in use ({who}); waited {timeout:g}s (--lock-timeout)"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def file_lock(path: str, what: str) -> FileLock:
    return FileLock(path, what)
