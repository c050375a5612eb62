"""Incremental refresh benchmark (run by hand; see bench/README.md).

    python bench/incremental.py                                  # 100k users, 5M events
    python bench/incremental.py --users 1000000 --events 50000000
    python bench/incremental.py --engine postgres                # the same on Postgres
    python bench/incremental.py --engine postgres --ts-index     # ... with ts indexed
    python bench/incremental.py --memory-limit 1GB               # DuckDB held to 1 GB

On the benchmark's catalogue (bench/segments, DuckDB), each `--repeat` times, side by
side in one run (median, min-max), all at the same T = the end of the generated data:
- day: `segsql run --all` one day after a previous run (incremental), `--full-refresh`
  after the same previous run (a copy of the same warehouse file; it rebuilds the kept
  state), and a full refresh that keeps no state (`run_segments(state=False)`: what a
  run cost before incremental refresh);
- 15 min: the same, fifteen minutes after a previous run;
each in a child process (wall time; `run_segments` alone, without the start-up; the
runner's phases; peak RSS from wait4); the memberships of the three runs must be equal.
Plus the size of the kept state per entity.

`--engine postgres` loads the same warehouse into a throw-away cluster (bench/pgcluster.py)
and measures the one-day step only; each measured run starts from a copy of the database
after the previous run (CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from catalogue import PROJECT  # noqa: E402
from sqlglot import exp  # noqa: E402
from warehouse import END, OUT, ensure_warehouse, fresh_copy  # noqa: E402

SCHEMA = "segsql_bench"
BLOCK_BYTES = 256 * 1024
STEPS = {"day": timedelta(days=1), "15min": timedelta(minutes=15)}
# incremental: `run --all`; full: `run --all --full-refresh` (rebuilds the kept state);
# stateless: a full refresh that keeps no state (run_segments(state=False)), what a run
# cost before incremental refresh
KINDS = ("incremental", "full", "stateless")
MEMORY_LIMIT = "SEGSQL_BENCH_MEMORY_LIMIT"  # set by --memory-limit, read by the children


def log(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S}  {message}", file=sys.stderr, flush=True)


def child(db: str, as_of: datetime, kind: str, target: str) -> None:
    """In a child process: one `segsql run --all` of `kind` (KINDS); JSON out. `db`: the
    DuckDB file, or the Postgres database (target `postgres`)."""
    os.environ["SEGSQL_BENCH_DB" if target == "dev" else "PGDATABASE"] = db
    os.environ.setdefault("SEGSQL_BENCH_SCHEMA", SCHEMA)
    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target
    from segsql.definitions.project import load_project
    from segsql.runner.run import run_segments

    phases: dict[str, float] = {}

    def timings(phase: str, seconds: float) -> None:
        phases[phase] = phases.get(phase, 0.0) + seconds

    profile = load_target(PROJECT, None, None, target)
    if os.environ.get(MEMORY_LIMIT):  # --memory-limit: the DuckDB option of the runs measured
        profile.options["memory_limit"] = os.environ[MEMORY_LIMIT]
    adapter = connect(profile)
    project = load_project(PROJECT, adapter.dialect.name)
    start = time.perf_counter()
    results = run_segments(
        adapter,
        project,
        list(project.enabled.values()),
        as_of,
        force=True,
        full_refresh=kind != "incremental",
        timings=timings,
        state=kind != "stateless",
    )
    total = time.perf_counter() - start
    from segsql.state.tables import RUNS, c

    rows = adapter.fetch(exp.select(c("segment"), c("mode"), c("as_of")).from_(adapter.table(RUNS)))
    modes = {segment: mode for segment, mode, at in rows if at == as_of}
    adapter.close()
    failed = [r.segment for r in results if r.status != "success"]
    print(json.dumps({"total": total, **phases, "failed": failed, "modes": modes}))


def run_child(db: Path | str, as_of: datetime, kind: str, target: str = "dev") -> dict:
    return run_child_of(__file__, db, as_of, kind, ["--target", target])


def run_child_of(
    script: str, db: Path | str, as_of: datetime, kind: str, extra: Sequence[str] = ()
) -> dict:
    """`script --child db --as-of T --kind kind *extra` in a child process: its last line
    of JSON, with its wall time and peak RSS (from wait4)."""
    cmd = [sys.executable, script, "--child", str(db), "--as-of", as_of.isoformat()]
    cmd += ["--kind", kind, *extra]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"run failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if result["failed"]:
        raise RuntimeError(f"segments failed: {result['failed']}\n{stderr[-3000:]}")
    result["process_wall"] = wall
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    return result


def _table(name: str, schema: str = SCHEMA) -> exp.Table:
    return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema))


def _one(con, query: exp.Query):
    return con.execute(query.sql(dialect="duckdb")).fetchone()[0]


def memberships(db: Path) -> set[tuple]:
    import duckdb

    query = exp.select("segment", "entity_id", "holdout").from_(_table("segsql_memberships"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        return set(con.execute(query.sql(dialect="duckdb")).fetchall())
    finally:
        con.close()


def state_size(db: Path) -> dict:
    import duckdb

    count = exp.func("COUNT", exp.Star())
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = _one(con, exp.select(count).from_(_table("segsql_feature_values")))
        distinct = exp.Count(this=exp.Distinct(expressions=[exp.column("feature")]))
        features = _one(con, exp.select(distinct).from_(_table("segsql_feature_state")))
        # the storage blocks the table occupies (DuckDB's blocks are 256 KiB)
        blocks = exp.Count(this=exp.Distinct(expressions=[exp.column("block_id")]))
        storage = exp.Anonymous(
            this="pragma_storage_info",
            expressions=[exp.Literal.string(f"{SCHEMA}.segsql_feature_values")],
        )
        size = BLOCK_BYTES * _one(
            con,
            exp.select(blocks)
            .from_(storage)
            .where(exp.column("block_id") >= exp.Literal.number(0)),
        )
        users = _one(con, exp.select(count.copy()).from_(_table("users", "main")))
    finally:
        con.close()
    return {
        "features": features,
        "rows": rows,
        "rows_per_user": rows / users,
        "bytes_per_user": size / users,  # allocated blocks: an upper bound
    }


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def duckdb_runs(args) -> tuple[dict, dict]:
    """Per step and kind, the measured runs on copies of the DuckDB warehouse file."""
    source = ensure_warehouse(args.users, args.events, log=log)
    work = Path(tempfile.mkdtemp(prefix="segsql-incr-", dir=OUT))
    results: dict[str, dict[str, list[dict]]] = {}
    sizes = {}
    try:
        for step, delta in STEPS.items():
            base = work / f"base-{step}.duckdb"
            fresh_copy(source, base, SCHEMA)
            log(f"{step}: the previous run at T - {step}")
            run_child(base, END - delta, "incremental")
            sizes[step] = state_size(base)
            for i in range(args.repeat):
                for kind in KINDS:
                    db = work / f"{step}-{kind}.duckdb"
                    shutil.copy(base, db)
                    r = run_child(db, END, kind)
                    results.setdefault(step, {}).setdefault(kind, []).append(r)
                    log(f"{step} {kind} #{i + 1}: {r['process_wall']:.2f} s")
                found = {kind: memberships(work / f"{step}-{kind}.duckdb") for kind in KINDS}
                if any(found[kind] != found["incremental"] for kind in KINDS):
                    raise SystemExit(f"{step}: the members of the three runs differ")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results, sizes


def postgres_runs(args) -> tuple[dict, dict]:
    """The one-day step on Postgres: each measured run in a schema of its own holding a
    copy of segsql's tables as the previous run (in SCHEMA) left them."""
    from pgcluster import postgres_cluster
    from run import load_postgres

    source = ensure_warehouse(args.users, args.events, log=log)
    results: dict[str, dict[str, list[dict]]] = {"day": {}}
    with postgres_cluster() as pg:
        log("loading the warehouse into Postgres ...")
        load_postgres(pg, source)
        if args.ts_index:
            index_timestamps(pg)
        os.environ.update(pg.environ())
        log("day: the previous run at T - day")
        run_child(pg.dbname, END - STEPS["day"], "incremental", "postgres")
        sizes = {"day": pg_state_size(pg)}
        ours: dict[str, set[tuple]] = {}
        for i in range(args.repeat):
            for kind in KINDS:
                schema = f"{SCHEMA}_{kind}"
                copy_schema(pg, SCHEMA, schema)
                os.environ["SEGSQL_BENCH_SCHEMA"] = schema
                try:
                    r = run_child(pg.dbname, END, kind, "postgres")
                finally:
                    os.environ["SEGSQL_BENCH_SCHEMA"] = SCHEMA
                results["day"].setdefault(kind, []).append(r)
                log(f"day {kind} #{i + 1}: {r['process_wall']:.2f} s")
                query = exp.select("segment", "entity_id", "holdout").from_(
                    _table("segsql_memberships", schema)
                )
                with pg.connect() as con:
                    ours[kind] = {tuple(row) for row in con.execute(_pg(query)).fetchall()}
            if any(ours[kind] != ours["incremental"] for kind in KINDS):
                raise SystemExit("day: the members of the three runs differ")
    return results, sizes


EVENT_TABLES = ("events", "email_events", "account_events")  # each with its `ts`


def index_timestamps(pg) -> None:
    """A b-tree index on each event table's timestamp, as a Postgres events table used
    for incremental refresh would have: the rows since the last run are then an index
    range, not a sequential scan of the whole table per kept feature."""
    with pg.connect() as con:
        for name in EVENT_TABLES:
            index = exp.Index(
                this=exp.to_identifier(f"{name}_ts", quoted=True),
                table=_table(name, "main"),
                params=exp.IndexParameters(
                    columns=[exp.Ordered(this=exp.column("ts", quoted=True))]
                ),
            )
            con.execute(_pg(exp.Create(this=index, kind="INDEX")))
            con.execute(_pg(exp.Analyze(tables=[_table(name, "main")])))


def _pg(e: exp.Expression) -> str:
    return e.sql(dialect="postgres")


def copy_schema(pg, source: str, target: str) -> None:
    """`target` made again with a copy of every table of `source` (not its views: a run
    makes those), each analyzed as its original was (by the run that wrote it, or by
    autovacuum a minute later): a copy has no statistics until then."""
    tables = (
        exp.select(exp.column("table_name"))
        .from_(exp.table_("tables", db="information_schema"))
        .where(
            exp.and_(
                exp.column("table_schema").eq(exp.Literal.string(source)),
                exp.column("table_type").eq(exp.Literal.string("BASE TABLE")),
            )
        )
    )
    schema = exp.Table(this=exp.to_identifier(target, quoted=True))
    with pg.connect() as con:
        con.execute(_pg(exp.Drop(tables=[schema], kind="SCHEMA", exists=True, cascade=True)))
        con.execute(_pg(exp.Create(this=schema.copy(), kind="SCHEMA")))
        for (name,) in con.execute(_pg(tables)).fetchall():
            copy = exp.select(exp.Star()).from_(_table(name, source))
            con.execute(_pg(exp.Create(this=_table(name, target), kind="TABLE", expression=copy)))
            con.execute(_pg(exp.Analyze(tables=[_table(name, target)])))


def pg_state_size(pg) -> dict:
    """The kept state's rows and bytes (table, indexes and TOAST) per user."""
    values = _table("segsql_feature_values")
    count = exp.func("COUNT", exp.Star())
    distinct = exp.Count(this=exp.Distinct(expressions=[exp.column("feature")]))
    size = exp.func("pg_total_relation_size", exp.Literal.string(f"{SCHEMA}.segsql_feature_values"))
    with pg.connect() as con:

        def one(query: exp.Query):
            return con.execute(_pg(query)).fetchone()[0]

        rows = one(exp.select(count).from_(values))
        features = one(exp.select(distinct).from_(_table("segsql_feature_state")))
        users = one(exp.select(count.copy()).from_(_table("users", "main")))
        size_bytes = one(exp.select(size))
    return {
        "features": features,
        "rows": rows,
        "rows_per_user": rows / users,
        "bytes_per_user": size_bytes / users,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument(
        "--ts-index", action="store_true", help="postgres: index each event table's timestamp"
    )
    parser.add_argument(
        "--memory-limit", help="duckdb: the target's memory_limit in every run (e.g. 1GB)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--target", default="dev", help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, datetime.fromisoformat(args.as_of), args.kind, args.target)
        return
    if args.memory_limit:
        os.environ[MEMORY_LIMIT] = args.memory_limit
    runs = postgres_runs if args.engine == "postgres" else duckdb_runs
    results, sizes = runs(args)
    engine = {"duckdb": "DuckDB", "postgres": "Postgres"}[args.engine]
    if args.ts_index:
        engine += " (a b-tree index on each event table's timestamp)"
    if args.memory_limit:
        engine += f" (memory_limit {args.memory_limit})"
    lines = [
        f"Incremental refresh, {engine}, {args.users:,} users, {args.events:,} events, "
        f"median of {args.repeat} (min-max), T = {END:%Y-%m-%d}",
        "",
        "| step | incremental run | full refresh | ratio | full, no state (ratio) "
        "| in-process: incremental / full / no state | incremental: evaluate / write "
        "| segments incremental | peak RSS incr / full |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for step, by in results.items():
        inc, full, bare = ([r["process_wall"] for r in by[kind]] for kind in KINDS)
        ev = statistics.median(r["evaluate"] for r in by["incremental"])
        wr = statistics.median(r["write"] for r in by["incremental"])
        modes = by["incremental"][0]["modes"]
        n_inc = sum(m == "incremental" for m in modes.values())
        rss = (
            f"{max(r['peak_rss_mib'] for r in by['incremental']):.0f} / "
            f"{max(r['peak_rss_mib'] for r in by['full']):.0f} MiB"
        )
        ratio = statistics.median(inc) / statistics.median(full)
        bare_ratio = statistics.median(inc) / statistics.median(bare)
        # run_segments alone, without the process start-up (Python, sqlglot, the engine)
        inside = [statistics.median(r["total"] for r in by[kind]) for kind in KINDS]
        lines.append(
            f"| {step} | {summary(inc)} | {summary(full)} | {ratio:.0%} "
            f"| {summary(bare)} ({bare_ratio:.0%}) "
            f"| {inside[0]:.2f} / {inside[1]:.2f} / {inside[2]:.2f} s "
            f"({inside[0] / inside[1]:.0%}, {inside[0] / inside[2]:.0%}) "
            f"| {ev:.2f} / {wr:.2f} s "
            f"| {n_inc} of {len(modes)} | {rss} |"
        )
    s = sizes["day"]
    lines += [
        "",
        f"State: {s['features']} kept features, {s['rows']:,} rows "
        f"({s['rows_per_user']:.1f} per user, ~{s['bytes_per_user']:.0f} bytes per user).",
    ]
    text = "\n".join(lines)
    print(text)
    (OUT / f"incremental-{args.engine}-{datetime.now():%Y%m%dT%H%M%S}.md").write_text(text + "\n")
    (OUT / f"incremental-{args.engine}-{datetime.now():%Y%m%dT%H%M%S}.json").write_text(
        json.dumps({"results": results, "state": sizes}, default=str)
    )


if __name__ == "__main__":
    main()
