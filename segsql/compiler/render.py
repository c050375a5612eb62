"""Render an EntityPlan into one sqlglot SELECT over the entity table.

The renderer is composed of one layer per kind of SQL it renders, each in its module:
- `nodes`: node helpers (ident, col, alias, and_, ...) and the generated names;
- `conditions`: booleans of condition trees and comparisons;
- `relations`: event rows of one or several sources, and their filters and windows;
- `scans`: GROUP BY entity scans computing aggregates, and `since_nth_last` anchors;
- `sequences`: step chains;
- `entities`: the entity-level SELECT, and parent / members sub-plans.

Rendering reads the plan and never changes it.
"""

from __future__ import annotations

from .conditions import ZERO_WHEN_EMPTY
from .entities import Entities
from .nodes import (
    ENTITY,
    ENTITY_ID,
    EV,
    EVALUATION_ID,
    EVENT,
    KEY,
    SRC,
    TS,
    alias,
    and_,
    coalesce,
    col,
    ident,
    is_null,
    isin,
    join,
    not_,
    or_,
    paren,
    present,
    select,
    table_alias,
)
from .scans import AGGREGATES

__all__ = [
    "AGGREGATES",
    "ENTITY",
    "ENTITY_ID",
    "EV",
    "EVALUATION_ID",
    "EVENT",
    "KEY",
    "SRC",
    "TS",
    "ZERO_WHEN_EMPTY",
    "Renderer",
    "alias",
    "and_",
    "coalesce",
    "col",
    "ident",
    "is_null",
    "isin",
    "join",
    "not_",
    "or_",
    "paren",
    "present",
    "select",
    "table_alias",
]


class Renderer(Entities):
    """Turns plans into SQL trees for one dialect and one evaluation time.

    `as_of=None` renders T as the current time (the live views); a datetime renders a
    literal (a run).
    """
