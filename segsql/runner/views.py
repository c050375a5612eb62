"""The views a run creates, each replaced only when it has to be: missing, built from
different SQL than last time (a definition, a source, the key's type or segsql itself
changed), or on `--full-refresh`. What each was last built from is in `segsql_views`
(state/views.py); on an unchanged project a run issues no DDL for its views."""

from __future__ import annotations

import logging

from sqlglot import exp

from ..adapters.base import Adapter
from ..clock import utcnow
from ..state.views import VIEW_TABLE, VIEWS, latest_hashes, recorded_query, replaced_rows, sql_hash

log = logging.getLogger("segsql.run")


def replace_changed_views(
    adapter: Adapter, views: dict[str, exp.Query], force: bool = False
) -> dict[str, Exception]:
    """(Re)create those of `views` (name -> query) that must be; returns name -> the error
    of each that could not be. The others are recorded in one insert."""
    table = adapter.table(VIEWS)
    recorded = latest_hashes(adapter.fetch(recorded_query(table)))
    existing = adapter.view_names()
    replaced: dict[str, str] = {}
    failed: dict[str, Exception] = {}
    for name, query in views.items():
        digest = sql_hash(adapter.sql(query))
        current = recorded.get(name) == digest
        if current and not force and adapter.dialect.normalize(name, table=True) in existing:
            continue
        try:
            adapter.replace_view(name, query)
        except Exception as err:  # noqa: BLE001 - the caller says what fails with it
            failed[name] = err
            continue
        replaced[name] = digest
    unchanged = len(views) - len(replaced) - len(failed)
    log.debug("views: %d replaced, %d unchanged, %d failed", len(replaced), unchanged, len(failed))
    if replaced:
        columns = [adapter.dialect.ident(name) for name, _ in VIEW_TABLE[VIEWS]]
        rows = replaced_rows(adapter.dialect, replaced, utcnow())
        adapter.execute(exp.insert(rows, table, columns=columns))
    return failed
