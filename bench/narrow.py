"""What an incremental run would cost if it evaluated only the entities that can have
changed (issue 11, "touch only what changed"): a measurement of a design that segsql
does not have yet (run by hand; see bench/README.md).

    python bench/narrow.py                                   # 1M users, 50M events, 3 repeats
    python bench/narrow.py --users 100000 --events 5000000 --repeat 1   # a smoke test

An entity's features can change between a run at P and one at T only through its events
with a timestamp in (P, T] (new), or in (P - d, T - d] for a duration d of the project's
conditions (rows that crossed a window's edge), and its entity-table timestamps likewise;
its properties can also change, which this measurement does not see (the benchmark's
data does not change them; the product would keep a signature of the properties read).
Segments with run rules or a brake would also need the entities they hold; the
catalogue has none.

On the benchmark's catalogue (DuckDB), at T = the end of the generated data, after a
previous `run --all` at T - step, side by side in one run, each in a child process:
- incremental: `run --all` as segsql runs it today;
- narrowed: the same run, with the user evaluation restricted to the *affected* users
  (computed first, into a temp table, and timed as part of the run) and the batched
  write's FULL JOIN restricted to their stored memberships. The restriction rewrites the
  product's own sqlglot trees: each read of the user entity table, the user event
  sources and the kept rows becomes a semi-join on the affected ids. The account
  evaluation is not narrowed (its segments read users' rows too);
- full: `run --all --full-refresh`.
The memberships and the change rows of the narrowed run must equal the incremental
run's, or the measurement stops.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from catalogue import PROJECT  # noqa: E402
from incremental import STEPS, _table, run_child_of, summary  # noqa: E402
from reasons import DECIMAL  # noqa: E402
from sqlglot import exp  # noqa: E402
from warehouse import END, OUT, ensure_warehouse, fresh_copy  # noqa: E402

SCHEMA = "segsql_bench"
KINDS = ("incremental", "narrowed", "full")
AFFECTED = "segsql_affected"
NARROWED = "user"  # the entity type narrowed


def log(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S}  {message}", file=sys.stderr, flush=True)


def durations(value, found: set[int]) -> set[int]:
    """The seconds of every Duration in a model value (a segment, a condition...)."""
    from segsql.model.types import Duration

    if isinstance(value, Duration):
        found.add(value.seconds)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            durations(getattr(value, f.name), found)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            durations(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            durations(v, found)
    return found


def affected_query(project, d, previous: datetime, as_of: datetime) -> exp.Query:
    """The ids (as text) of the NARROWED entities with an event, or an entity-table
    timestamp, in (P - s, T - s] for s = 0 and every duration of their segments."""
    from segsql.dialects.base import lit

    segments = [s for s in project.enabled.values() if s.entity == NARROWED]
    shifts = sorted(durations(segments, {0}) | {0})
    parts = []
    for source in project.sources.values():
        if getattr(source, "events_of", None) == NARROWED:
            column, key = source.timestamp, source.key
        elif getattr(source, "entity", None) == NARROWED and source.created_at:
            column, key = source.created_at, source.key
        else:
            continue
        ts = exp.column(d.ident(column))
        edges = [
            exp.and_(
                exp.GT(this=ts.copy(), expression=lit(previous - timedelta(seconds=s))),
                exp.LTE(this=ts.copy(), expression=lit(as_of - timedelta(seconds=s))),
            )
            for s in shifts
        ]
        parts.append(
            exp.select(exp.alias_(d.to_text(exp.column(d.ident(key))), "entity_id", quoted=True))
            .from_(d.table(*source.table))
            .where(exp.or_(*edges))
        )
    return exp.union(*parts, distinct=True) if len(parts) > 1 else parts[0]


def narrow(adapter, project, previous: datetime, as_of: datetime) -> float:
    """Make this process's runs narrowed: the affected ids into a temp table, and the
    adapter's user evaluation and batched write restricted to them. Returns the seconds
    the affected ids took."""
    import segsql.adapters.base as base
    from segsql.state.features import VALUES

    d = adapter.dialect
    start = time.perf_counter()
    affected = adapter.temp_table(AFFECTED, affected_query(project, d, previous, as_of))
    seconds = time.perf_counter() - start
    ids = exp.select(exp.column("entity_id")).from_(affected)
    restricted: dict[str, str] = {VALUES: "entity_id"}  # table name -> its entity key
    for source in project.sources.values():
        if NARROWED in (getattr(source, "events_of", None), getattr(source, "entity", None)):
            restricted[source.table[-1]] = source.key

    def semi(table: exp.Table, key: str) -> exp.Subquery:
        inner = exp.Table(this=table.this.copy(), db=table.args.get("db"))
        keep = d.to_text(exp.column(d.ident(key))).isin(query=ids.copy())
        name = table.alias or table.name
        return exp.select(exp.Star()).from_(inner).where(keep).subquery(exp.to_identifier(name))

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name in restricted:
            return semi(node, restricted[node.name])
        return node

    temp_table, batch_changes = adapter.temp_table, base.batch_changes

    def narrowed_temp_table(name: str, query):
        if name == f"segsql_eval_{NARROWED}":
            query = query.transform(rewrite, copy=False)
        return temp_table(name, query)

    def narrowed_changes(runs, members, memberships):
        query = batch_changes(runs, members, memberships)
        if runs and runs[0].entity_type == NARROWED:
            old = next(s for s in query.find_all(exp.Subquery) if s.alias == "o")
            old.this.where(exp.column("entity_id").isin(query=ids.copy()), copy=False)
        return query

    adapter.temp_table = narrowed_temp_table
    base.batch_changes = narrowed_changes
    return seconds


def child(db: str, as_of: datetime, kind: str, previous: datetime) -> None:
    """In a child process: one `run --all` of `kind` (KINDS); JSON out."""
    os.environ["SEGSQL_BENCH_DB"] = db
    os.environ["SEGSQL_BENCH_SCHEMA"] = SCHEMA
    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target
    from segsql.definitions.project import load_project
    from segsql.runner.run import run_segments

    phases: dict[str, float] = {}

    def timings(phase: str, seconds: float) -> None:
        phases[phase] = phases.get(phase, 0.0) + seconds

    adapter = connect(load_target(PROJECT, None, None, "dev"))
    project = load_project(PROJECT, adapter.dialect.name)
    start = time.perf_counter()
    if kind == "narrowed":
        phases["affected"] = narrow(adapter, project, previous, as_of)
        count = exp.select(exp.func("COUNT", exp.Star())).from_(exp.to_table(AFFECTED))
        phases["affected_rows"] = adapter.fetch(count)[0][0]
    results = run_segments(
        adapter,
        project,
        list(project.enabled.values()),
        as_of,
        force=True,
        full_refresh=kind == "full",
        timings=timings,
    )
    total = time.perf_counter() - start
    adapter.close()
    failed = [r.segment for r in results if r.status != "success"]
    print(json.dumps({"total": total, **phases, "failed": failed}))


def written(db: Path) -> tuple[set, set]:
    """The memberships, and the change rows (without run ids and times)."""
    import duckdb

    members = exp.select("segment", "entity_id", "holdout").from_(_table("segsql_memberships"))
    changes = exp.select("segment", "entity_id", "change", "holdout", "initial", "reason").from_(
        _table("segsql_membership_changes")
    )
    con = duckdb.connect(str(db), read_only=True)
    try:
        members, changes = (
            set(con.execute(q.sql(dialect="duckdb")).fetchall()) for q in (members, changes)
        )
    finally:
        con.close()
    # a float sum's last digits depend on DuckDB's parallel order
    return members, {(*row[:-1], _rounded(row[-1])) for row in changes}


def _rounded(reason: str | None) -> str | None:
    if reason is None:
        return None
    return DECIMAL.sub(lambda m: repr(round(float(m.group()), 6)), reason)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--previous", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        as_of, previous = (datetime.fromisoformat(t) for t in (args.as_of, args.previous))
        return child(args.child, as_of, args.kind, previous)

    source = ensure_warehouse(args.users, args.events, log=log)
    work = Path(tempfile.mkdtemp(prefix="segsql-narrow-", dir=OUT))
    results: dict[str, dict[str, list[dict]]] = {}
    try:
        for step, delta in STEPS.items():
            base = work / f"base-{step}.duckdb"
            fresh_copy(source, base, SCHEMA)
            log(f"{step}: the previous run at T - {step}")
            previous = END - delta
            extra = ["--previous", previous.isoformat()]
            run_child_of(__file__, base, previous, "incremental", extra)
            for i in range(args.repeat):
                kinds = KINDS if i % 2 == 0 else KINDS[::-1]
                for kind in kinds:
                    db = work / f"{step}-{kind}.duckdb"
                    shutil.copy(base, db)
                    r = run_child_of(__file__, db, END, kind, extra)
                    results.setdefault(step, {}).setdefault(kind, []).append(r)
                    log(f"{step} {kind} #{i + 1}: {r['total']:.2f} s")
                found = {kind: written(work / f"{step}-{kind}.duckdb") for kind in KINDS}
                narrowed, incremental = found["narrowed"], found["incremental"]
                if narrowed != incremental:
                    differ = [
                        sorted(a ^ b, key=str)[:4]
                        for a, b in zip(narrowed, incremental, strict=True)
                    ]
                    raise SystemExit(f"{step}: the narrowed run wrote other rows: {differ}")
                if found["full"][0] != found["incremental"][0]:
                    raise SystemExit(f"{step}: the full refresh has other members")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results: dict[str, dict[str, list[dict]]]) -> None:
    print("| step | kind | run_segments | evaluate | write | affected users |")
    print("| --- | --- | --- | --- | --- | --- |")
    for step, kinds in results.items():
        full = statistics.median(r["total"] for r in kinds["full"])
        for kind, runs in kinds.items():
            share = statistics.median(r["total"] for r in runs) / full
            affected = runs[0].get("affected_rows", "")
            extra = f" ({statistics.median(r['affected'] for r in runs):.2f} s)" if affected else ""
            print(
                f"| {step} | {kind} | {summary([r['total'] for r in runs])}, {share:.0%} of full "
                f"| {summary([r.get('evaluate', 0) for r in runs])} "
                f"| {summary([r.get('write', 0) for r in runs])} | {affected}{extra} |"
            )


if __name__ == "__main__":
    main()
