"""Warehouse adapters: a connection, transactions, and the engine's write strategy.

Adapters are imported only when their target is used, so a missing optional driver is
an error only for the users of that engine.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import ProfileError
from ..targets import RUNNABLE, TARGET_TYPES
from .base import Adapter


def connect(target, lock_timeout: float = 0) -> Adapter:
    """Open the adapter for a rendered profile target; a run waits up to `lock_timeout`
    seconds for another run's lock (`Adapter.run_lock`)."""
    kind = target.type
    if kind not in RUNNABLE:
        raise ProfileError(
            f"target '{target.name}' has type '{kind}', which segsql compiles for but cannot "
            f"run against yet; runnable types: {', '.join(RUNNABLE)} "
            f"(use `segsql compile --target {target.name}` for its SQL)"
        )
    (module, cls), extra = TARGET_TYPES[kind].adapter, TARGET_TYPES[kind].extra
    try:  # drivers are imported by the adapter module or its constructor
        return getattr(import_module(f".{module}", __name__), cls)(target, lock_timeout)
    except ImportError as err:
        hint = f' (pip install "segsql[{extra}]")' if extra else ""
        raise ProfileError(
            f"the {kind} adapter needs a driver that is not installed: {err.name or err}{hint}"
        ) from None
