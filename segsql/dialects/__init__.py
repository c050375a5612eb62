"""One class per target: everything that differs between engines lives here, as data and
small expression builders. The compiler only ever calls these methods."""

from __future__ import annotations

from importlib import import_module

from ..targets import TARGET_TYPES, TARGETS
from .base import Dialect


def get_dialect(name: str) -> Dialect:
    """The dialect for a target type (`duckdb`, `postgres`, ... as in profiles.yml)."""
    from ..errors import UsageError, did_you_mean

    if name not in TARGET_TYPES:
        raise UsageError(
            f"unknown dialect '{name}'{did_you_mean(name, TARGETS)}; supported: "
            + ", ".join(TARGETS)
        )
    module, cls = TARGET_TYPES[name].dialect
    return getattr(import_module(f".{module}", __name__), cls)()
