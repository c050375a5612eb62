"""Narrowing in a run (plan/narrow.py): per entity type, evaluate only the entities that
can have changed since the segments' last run, and take the others' members as stored.

Each run on an engine with transactions computes which entity-table rows changed since
the signatures it keeps (state/signatures.py; a row's signature includes its parent's
rows where a `parent` condition reads them), before it evaluates, and writes them with
the memberships. A run narrows an entity type's evaluation when every due segment of it
last succeeded in the run that wrote the signatures, none is refreshed in full, and
`plan.narrow.edges` finds nothing that it cannot see; otherwise it evaluates in full (the
log says why, with `--debug`). The members it writes are the evaluated members of the
affected entities and the stored members of the others: exactly a full evaluation's,
under the same contract as the kept state (SPEC section 10).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler.narrow import AFFECTED_ID, affected_query, restrict, signature_rows
from ..dialects.base import lit
from ..model.types import Project, Segment
from ..plan.incremental import Horizon
from ..plan.narrow import edges, why_not
from ..state.features import LOG, SIGNATURES, VALUES, log_query, read_log
from ..state.signatures import SIGNATURES_FEATURE, changed_signatures, commit_row, signature_writes
from ..state.tables import MEMBERSHIPS, c
from .incremental import loaded_max

log = logging.getLogger("segsql.run")


@dataclass
class Narrowing:
    """One entity type's narrowing in a run."""

    entity: str
    changed: exp.Table  # (entity_id, signature): rows changed since the kept signatures
    horizons: dict[str, Horizon]  # what this run sees of each event source
    affected: exp.Table | None = None  # the ids evaluated; None: all of them
    previous: datetime | None = None  # the T of the run the others are stored from

    def evaluation(self, adapter: Adapter, project: Project, query: exp.Query) -> exp.Query:
        """The evaluation query, restricted to the affected entities if narrowed."""
        if self.affected is None:
            return query
        reads = {(adapter.schema, VALUES): "entity_id"}
        for src in [project.entity_source(self.entity), *project.event_sources(self.entity)]:
            reads[src.table] = src.key
        return restrict(query, adapter.dialect, reads, self.affected)

    def members(self, adapter: Adapter, seg: Segment, evaluated: exp.Select) -> exp.Query:
        """`evaluated` (entity_id, holdout) of the affected entities, and the stored
        members of the others."""
        if self.affected is None:
            return evaluated
        ours = exp.select(c(AFFECTED_ID)).from_(self.affected.copy())
        stored = (
            exp.select(c("entity_id"), c("holdout"))
            .from_(adapter.table(MEMBERSHIPS))
            .where(
                exp.and_(
                    c("segment").eq(lit(seg.name)),
                    c("entity_type").eq(lit(seg.entity)),
                    exp.not_(c("entity_id").isin(query=ours)),
                )
            )
        )
        return exp.union(evaluated, stored, distinct=False)

    def write(self, adapter: Adapter, run_id: str, as_of: datetime) -> None:
        """The changed signatures, then their commit row (in the memberships' transaction)."""
        for statement in signature_writes(adapter.table(SIGNATURES), self.changed, self.entity):
            adapter.execute(statement)
        adapter.execute(commit_row(adapter.table(LOG), self.entity, run_id, as_of, self.horizons))


def prepare_narrowing(
    adapter: Adapter,
    project: Project,
    entity: str,
    segments: list[Segment],
    as_of: datetime,
    *,
    last_runs: dict[str, str],
    full: Callable[[Segment], bool],
) -> Narrowing | None:
    """The narrowing of `segments` (of type `entity`) at T: the changed signatures, and
    the affected entities if the evaluation can be narrowed; None where there are no
    signatures to keep (an engine without transactions, or no segment of the type that
    could be narrowed). `last_runs`: segment -> the run_id of its last success."""
    if not adapter.SUPPORTS_TRANSACTIONS:
        return None  # the signatures need the memberships' transaction
    blocked = {s.name: why for s in segments if (why := why_not(project, s)) is not None}
    # the edges of every segment of the type that can be narrowed: the same in every run
    # (the signatures' basis), whichever of them are due
    every = [s for s in project.enabled.values() if s.entity == entity] + segments
    ours = [s for s in dict.fromkeys(every) if why_not(project, s) is None]
    if not ours or len(blocked) == len(segments):  # (a batch of those that cannot be)
        log.debug("%s: evaluated in full: %s", entity, next(iter(blocked.values()), ""))
        return None
    found = edges(project, entity, ours)
    assert not isinstance(found, str)
    columns = {
        name: sorted(adapter.relation_columns(project.entity_source(name).table))
        for name in [entity, *(parent for parent, _ in found.parents)]
    }
    if not all(columns.values()):
        return None
    d = adapter.dialect
    sources = project.event_sources(entity)
    loaded = loaded_max(adapter, project, {s.name for s in sources})  # before the evaluation
    horizons = {
        s.name: Horizon(as_of, s.lookback.seconds if s.lookback else 0, loaded.get(s.name))
        for s in sources
    }
    rows = signature_rows(project, entity, d, columns, found)
    changed = adapter.temp_table(
        f"segsql_changed_{entity}", changed_signatures(rows, adapter.table(SIGNATURES), entity)
    )
    out = Narrowing(entity, changed, horizons)
    kept = read_log(adapter.fetch(log_query(adapter.table(LOG), entity))).get(SIGNATURES_FEATURE)
    why = next((f"{n}: {w}" for n, w in blocked.items()), None) or _not_narrowed(
        segments, kept, as_of, last_runs, full
    )
    if why is not None or kept is None:
        log.debug("%s: evaluated in full: %s", entity, why)
        return out
    out.previous = kept.as_of
    query = affected_query(project, entity, d, found, kept.horizons, kept.as_of, as_of, changed)
    out.affected = adapter.lookup_table(f"segsql_affected_{entity}", query, AFFECTED_ID)
    return out


def _not_narrowed(segments, kept, as_of, last_runs, full) -> str | None:
    if kept is None:
        return "no signatures are kept yet"
    if kept.as_of > as_of:
        return "the signatures are of a later T"
    for seg in segments:
        if full(seg):
            return f"{seg.name} is refreshed in full"
        if last_runs.get(seg.name) != kept.generation:
            return f"{seg.name} did not last run with the kept signatures"
    return None
