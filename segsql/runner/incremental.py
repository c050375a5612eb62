"""Incremental refresh in a run (SPEC section 10): per entity type, which kept features a
run at T starts from, which segments are therefore `incremental`, and the state it
writes (in the same transaction as the memberships, where the engine has them).

Callable per (segments, T) - `prepare_entity`, then `evaluation_query(..., states=...)`,
then `EntityIncrement.write` - so that other commands (backfill) can reuse the steps.

A segment is refreshed in full (mode `full`) on its first run, with `--full-refresh`,
when its `definition_hash` differs from its last successful run's, and when none of its
features could start from kept state; a feature starts from kept state only if no
segment that needs it is refreshed in full, its state is committed, was written at or
before T and covers the same sources (a change to a source's definition changes the
feature's id). A feature computed in full is rebuilt (a new generation); one whose
generation has COMPACT_AFTER runs or spans COMPACT_SPAN of T is compacted (a new
generation, written from the state). Dropping the state tables is always safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from ..adapters.base import Adapter
from ..compiler import Renderer, evaluation_plan, plan_for, scan_queries
from ..compiler.incremental import (
    COMBINE,
    compacted_rows,
    delta_filters,
    delta_rows,
    fused_delta,
    fused_leaving,
    fused_rows,
    subtracted,
)
from ..errors import one_line
from ..model.types import Project, Segment
from ..plan.incremental import (
    KEPT,
    Horizon,
    StateRef,
    feature_id,
    moving,
    not_kept_because,
)
from ..plan.planner import Aggregate
from ..state import faults
from ..state.batch import union_all
from ..state.features import (
    COMPACT_AFTER,
    COMPACT_SPAN,
    FEATURE_TABLES,
    LOG,
    VALUES,
    Kept,
    log_query,
    log_row,
    read_log,
    value_rows,
)
from ..state.tables import RUNS, c
from ..state.writes import latest_success

log = logging.getLogger("segsql.run")

FeatureKey = tuple[tuple[str, ...], Aggregate]


@dataclass
class FeatureWrite:
    """What a run adds to one kept feature's state."""

    key: FeatureKey
    feature: str
    read: tuple[str, ...]  # the sources its rows come from
    previous: Kept | None  # None: rebuilt from all events (a new generation)
    horizons: dict[str, Horizon]  # what it covers after this run
    replaces: bool = False  # it has committed state (a generation that a new one replaces)
    # its generation has COMPACT_AFTER runs or spans COMPACT_SPAN: this run writes its
    # value per entity (the generation's rows combined with its own) as a new generation
    compacts: bool = False

    @property
    def before(self) -> dict[str, Horizon] | None:
        """What the kept value covered before this run (None: a rebuild)."""
        return self.previous.horizons if self.previous is not None else None

    def generation(self, run_id: str) -> str:
        """The generation the rows of run `run_id` belong to: a new one (the run's id)
        when it rebuilds or compacts the feature, else the one it adds to."""
        if self.previous is None or self.compacts:
            return run_id
        return self.previous.generation


def _key(horizons: dict[str, Horizon] | None) -> tuple | None:
    return tuple(sorted(horizons.items())) if horizons is not None else None


@dataclass
class EntityIncrement:
    """The incremental part of one entity type's refresh at T."""

    project: Project
    entity: str
    as_of: datetime
    states: dict[FeatureKey, StateRef] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)  # segment -> full | incremental
    writes: list[FeatureWrite] = field(default_factory=list)
    # feature -> (the table holding the evaluation's scan of it, its column there)
    stored: dict[str, tuple[exp.Table, str]] = field(default_factory=dict)

    def store_scans(self, adapter: Adapter, segments: list[Segment]) -> dict[str, exp.Table]:
        """Materialize the evaluation's scans that compute a feature this run rebuilds
        from exactly the rows its state keeps (`from_evaluation`), so that the evaluation
        and the state write read them there: the events are scanned once for both.
        Returns scan alias -> table, for `evaluation_query(..., stored=...)`."""
        rebuilt = [w for w in self.writes if from_evaluation(self.project, w)]
        if not rebuilt:
            return {}
        d = adapter.dialect
        plan = evaluation_plan(self.project, self.entity, segments, d, self.states)
        refs = {w.feature: plan.features[w.key] for w in rebuilt}
        queries = scan_queries(plan, d, self.as_of, {ref.scan for ref in refs.values()})
        tables = {
            alias: adapter.temp_table(f"segsql_scan_{self.entity}_{i}", query)
            for i, (alias, query) in enumerate(queries.items(), start=1)
        }
        self.stored = {feature: (tables[ref.scan], ref.column) for feature, ref in refs.items()}
        return tables

    def write(self, adapter: Adapter, run_id: str) -> None:
        """Add this run's rows to each kept feature, then its commit row (same transaction
        as the memberships on transactional engines; a commit point of its own on the
        others, see state/features.py)."""
        if not self.writes:
            return
        d = adapter.dialect
        r = Renderer(d, self.as_of)
        plan = plan_for(self.project, self.entity, {}, d)
        rows: dict[str, exp.Query] = {}  # feature -> the rows this run adds to it
        groups: dict[tuple, list[FeatureWrite]] = {}
        for w in self.writes:
            sources, agg = w.key
            if w.feature in self.stored:  # the evaluation's scan of it (`store_scans`)
                table, column = self.stored[w.feature]
                rows[w.feature] = fused_rows(r, table, agg, {KEPT[agg.kind][0]: column})
            elif agg.kind == "count_distinct":  # a row per value: a scan of its own
                rows[w.feature] = delta_rows(r, plan, sources, agg, w.before, w.horizons)
            else:
                groups.setdefault((sources, _key(w.before), _key(w.horizons)), []).append(w)
        for i, group in enumerate(groups.values()):
            # the features that read the same rows: one scan (a temp table when several)
            first = group[0]
            sources = first.key[0]
            filters = delta_filters(r, plan, sources, first.before, first.horizons)
            query, names = fused_delta(r, plan, sources, [w.key[1] for w in group], filters)
            source = (
                adapter.temp_table(f"segsql_delta_{self.entity}_{i}", query)
                if len(group) > 1
                else query
            )
            for w, columns in zip(group, names, strict=True):
                rows[w.feature] = fused_rows(r, source, w.key[1], columns)
            windows = {w.key[1]: w for w in group if w.before is not None and moving(w.key[1])}
            if not windows:
                continue
            # the rows that left the moving windows: one scan per window width
            for j, (query, members) in enumerate(
                fused_leaving(r, plan, sources, list(windows), first.before)
            ):
                left = (
                    adapter.temp_table(f"segsql_leaving_{self.entity}_{i}_{j}", query)
                    if len(members) > 1
                    else query
                )
                for agg, columns in members:
                    feature = windows[agg].feature
                    rows[feature] = exp.Union(
                        this=rows[feature],
                        expression=subtracted(r, left, agg, columns),
                        distinct=False,
                    )
        parts, commits = [], []
        for w in self.writes:
            agg, generation = w.key[1], w.generation(run_id)
            if w.compacts:
                rows[w.feature] = compacted_rows(r, agg, self.states[w.key], rows[w.feature])
            parts.append(
                value_rows(
                    rows[w.feature], w.feature, generation, run_id, KEPT[agg.kind], d.column_type
                )
            )
            commits.append(
                log_row(w.feature, self.entity, generation, run_id, self.as_of, w.horizons)
            )
        # one statement for the rows of every feature, then one for their commit rows
        adapter.execute(
            exp.insert(
                union_all(parts),
                adapter.table(VALUES),
                columns=[d.ident(n) for n, _ in FEATURE_TABLES[VALUES]],
                copy=False,
            )
        )
        faults.checkpoint("state_values")
        adapter.execute(
            exp.insert(
                exp.values([tuple(row) for row in commits]),
                adapter.table(LOG),
                columns=[d.ident(n) for n, _ in FEATURE_TABLES[LOG]],
                copy=False,
            )
        )
        faults.checkpoint("state")
        self._drop_old_generations(adapter, run_id)
        if any(w.generation(run_id) == run_id for w in self.writes):  # rows of every entity
            adapter.analyze(adapter.table(VALUES))

    def _drop_old_generations(self, adapter: Adapter, run_id: str) -> None:
        """Delete the rows of the generations that this run's rebuilt and compacted
        features replace (those that had committed state): never read again. After the
        commit rows, so a run that dies before this leaves rows that the feature's next
        new generation deletes. Not where a DELETE rewrites the table (Spark's parquet
        tables: a crash could lose rows still read), so they stay there."""
        new = [w.feature for w in self.writes if w.replaces and w.generation(run_id) == run_id]
        if not new or not adapter.DELETES_IN_PLACE:
            return
        adapter.delete_rows(
            adapter.table(VALUES),
            exp.and_(
                c("feature").isin(*(exp.Literal.string(f) for f in new)),
                exp.NEQ(this=c("generation"), expression=exp.Literal.string(run_id)),
            ),
        )


def from_evaluation(project: Project, w: FeatureWrite) -> bool:
    """A feature this run rebuilds whose state is its value at T in the evaluation: one
    column of a kept kind (not avg: its state is a sum and a count; not count_distinct:
    a row per value), over sources whose rows settle at T (no `lookback`, no
    `loaded_at`), so its settled rows are exactly the rows the evaluation aggregates."""
    return (
        w.previous is None
        and w.key[1].kind in COMBINE
        and all(project.sources[s].loaded_at is None and _lookback(project, s) == 0 for s in w.read)
    )


def prepare_tables(adapter: Adapter) -> bool:
    """Create the state tables. If any is missing or unusable (other columns), all are
    made again, empty: commit rows must never outlive the rows they commit (safe:
    every feature is then rebuilt from all events). False if that fails: no state."""
    try:
        found = {n: adapter.relation_columns((adapter.schema, n)) for n in FEATURE_TABLES}
        fine = all(
            cols is not None and [k.lower() for k in cols] == [n for n, _ in FEATURE_TABLES[t]]
            for t, cols in found.items()
        )
        if not fine:
            if any(cols is not None for cols in found.values()):
                log.warning("the state tables are incomplete; they are made again")
            for name, columns in FEATURE_TABLES.items():
                adapter.create_table(adapter.table(name), columns, replace=True)
        return True
    except Exception as err:  # noqa: BLE001 - no state: every run is full
        log.warning("cannot create the state tables (%s): refreshing in full", one_line(err))
        return False


def last_hashes(adapter: Adapter, column: str = "definition_hash") -> dict[str, str]:
    """segment -> `column` (its definition_hash) of its last successful run."""
    if adapter.relation_columns((adapter.schema, RUNS)) is None:
        return {}
    return dict(adapter.fetch(latest_success(adapter.table(RUNS), column)))


def kept_features(
    project: Project, entity: str, segment: Segment, adapter: Adapter
) -> list[FeatureKey]:
    """The features of `segment` (and the segments it references) that can be kept."""
    plan = plan_for(project, entity, {segment.name: segment.where}, adapter.dialect)
    return [key for key in plan.features if not_kept_because(key[1]) is None]


def prepare_entity(
    adapter: Adapter,
    project: Project,
    entity: str,
    segments: list[Segment],
    as_of: datetime,
    *,
    full: Callable[[Segment], bool],
    usable: bool = True,
) -> EntityIncrement:
    """Which kept features the refresh of `segments` (of type `entity`) at T starts from,
    the mode of each segment, and the state it will write. `full(segment)`: must it be
    refreshed in full (first run, --full-refresh, changed definition)."""
    out = EntityIncrement(project, entity, as_of)
    forced = {s.name: full(s) for s in segments}
    owners: dict[FeatureKey, list[str]] = {}
    for seg in segments:
        for key in kept_features(project, entity, seg, adapter):
            owners.setdefault(key, []).append(seg.name)
    if not owners:
        out.modes = {s.name: "full" for s in segments}
        return out
    committed = read_log(adapter.fetch(log_query(adapter.table(LOG), entity))) if usable else {}
    loaded = loaded_max(adapter, project, {s for k in owners for s in _read(project, k)})
    for key, names in owners.items():
        read = _read(project, key)
        fid = feature_id(project, entity, key[0], key[1], read)
        kept = committed.get(fid)
        start_from = (
            kept
            if usable
            and kept is not None
            and not any(forced[n] for n in names)
            and kept.as_of <= as_of
            and set(kept.horizons) == set(read)
            else None
        )
        if start_from is not None:
            out.states[key] = StateRef(
                fid,
                (adapter.schema, VALUES),
                start_from.generation,
                start_from.run_ids,
                tuple(sorted(start_from.horizons.items())),
            )
        if usable:
            horizons = {s: Horizon(as_of, _lookback(project, s), loaded.get(s)) for s in read}
            compacts = start_from is not None and (
                len(start_from.run_ids) >= COMPACT_AFTER or as_of - start_from.since >= COMPACT_SPAN
            )
            out.writes.append(
                FeatureWrite(
                    key,
                    fid,
                    read,
                    start_from,
                    horizons,
                    replaces=kept is not None,
                    compacts=compacts,
                )
            )
    for seg in segments:
        incremental = not forced[seg.name] and any(
            key in out.states for key in owners if seg.name in owners[key]
        )
        out.modes[seg.name] = "incremental" if incremental else "full"
    return out


def _read(project: Project, key: FeatureKey) -> tuple[str, ...]:
    return tuple(key[0])


def _lookback(project: Project, source: str) -> int:
    lookback = project.sources[source].lookback
    return lookback.seconds if lookback is not None else 0


def warn_unindexed(adapter: Adapter, project: Project, segments: list[Segment]) -> None:
    """A warning for each event table of the segments' entity types whose `timestamp`
    (or `loaded_at`) no index leads, where that makes a run scan the whole table to find
    the rows since the last run and those at each window's edge (Postgres)."""
    d = adapter.dialect
    for src in dict.fromkeys(s for seg in segments for s in project.event_sources(seg.entity)):
        for column in dict.fromkeys(col for col in (src.timestamp, src.loaded_at) if col):
            if not adapter.unindexed(src.table, column):
                continue
            index = exp.Create(
                this=exp.Index(
                    table=d.table(*src.table),
                    params=exp.IndexParameters(columns=[exp.Ordered(this=d.ident(column))]),
                ),
                kind="INDEX",
            )
            log.warning(
                "%s has no index on %s: each incremental run scans all of it for the rows "
                "since the last run; create one (%s)",
                ".".join(src.table),
                column,
                d.sql(index),
            )


def loaded_max(adapter: Adapter, project: Project, sources: set[str]) -> dict[str, datetime]:
    """The greatest `loaded_at` of each source that declares one (read before the
    evaluation: rows landing after it are not settled by this run)."""
    d = adapter.dialect
    r = Renderer(d, None)
    out = {}
    for name in sorted(sources):
        src = project.sources[name]
        if src.loaded_at is None:
            continue
        rows = adapter.fetch(
            exp.select(exp.Max(this=r.read(src, src.loaded_at))).from_(d.table(*src.table))
        )
        if rows and rows[0][0] is not None:
            out[name] = rows[0][0]
    return out
