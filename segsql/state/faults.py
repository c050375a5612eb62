"""Named points in a segment's write, where tests can inject a failure or a crash.

Set `SEGSQL_FAULT=<point>` to raise there, `<point>:kill` to SIGKILL the process there
(crash-safety tests), or `<point>:sleep:<seconds>` to pause there (concurrency tests).
Unset, a checkpoint costs one dict lookup.
"""

from __future__ import annotations

import os
import signal
import time

POINTS = ("staged", "changes", "memberships", "runs_row", "committed")
# in the write of the kept state of incremental refresh (runner/incremental.py): after its
# rows, after their commit rows; reached only by runs with kept features
STATE_POINTS = ("state_values", "state")


class InjectedFault(RuntimeError):
    pass


def checkpoint(point: str) -> None:
    spec = os.environ.get("SEGSQL_FAULT")
    if not spec:
        return
    name, _, action = spec.partition(":")
    if name != point:
        return
    if action.startswith("sleep:"):
        time.sleep(float(action.split(":", 1)[1]))
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFault(f"injected fault at '{point}'")
