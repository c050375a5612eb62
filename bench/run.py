"""segsql's refresh benchmark (run by hand; see bench/README.md).

    python bench/run.py                                   # 1M users, 50M events, DuckDB
    python bench/run.py --users 100000 --events 5000000   # smaller
    python bench/run.py --engine postgres                 # Postgres, 100k users, 5M events

Measured in one run, each `--repeat` times (median, min-max):
- floor: one scan of the widest window (365 days) of each entity type's event sources,
  grouped by entity (COUNT(*)), in this process;
- refresh: `segsql run --all --full-refresh` through the runner API in a child process
  (peak RSS from wait4), split into views, evaluation and diff (the batched writes); each
  at a new T five minutes later than the previous one, after a first run that enters
  everybody (without `--full-refresh` a run keeps state and evaluates only what changed:
  bench/incremental.py measures that);
- naive: each segment's own view (at the same T) materialized one after another;
- compile: 1000 generated segments to the evaluation queries and to 1000 views;
- `segsql --help` start-up.
Memberships of the refresh and of the naive plan must be equal (checked on each repeat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from catalogue import PROJECT, generated_texts, load_generated  # noqa: E402
from warehouse import END, OUT, ensure_warehouse  # noqa: E402

SCHEMA = "segsql_bench"
FIRST_T = END - timedelta(hours=1)  # the first run: every member enters
STEP = timedelta(minutes=5)  # later runs: a refresh every five minutes
WIDEST = 365  # days: the widest window of the catalogue (and all the data there is)


# --------------------------------------------------------------------------- helpers
def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def summary(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


def fmt(s: dict, unit: str = "s") -> str:
    if unit == "MiB":
        return f"{s['median']:.0f} MiB ({s['min']:.0f}-{s['max']:.0f})"
    if unit == "ms":
        return f"{1000 * s['median']:.0f} ms ({1000 * s['min']:.0f}-{1000 * s['max']:.0f})"
    return f"{s['median']:.2f} s ({s['min']:.2f}-{s['max']:.2f})"


def log(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S}  {message}", file=sys.stderr, flush=True)


def set_env(db: Path | None, schema: str) -> None:
    if db is not None:
        os.environ["SEGSQL_BENCH_DB"] = str(db)
    os.environ["SEGSQL_BENCH_SCHEMA"] = schema


def open_adapter(target_name: str):
    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target

    return connect(load_target(PROJECT, None, None, target_name))


# --------------------------------------------------------------------------- floor
def floor_query(project, entity: str, d, as_of: datetime):
    """SELECT key, COUNT(*) FROM <the entity's event sources> WHERE ts in the widest
    window GROUP BY key, counted (so that only the count crosses to the client)."""
    from sqlglot import exp

    from segsql.compiler.render import alias, col, select, table_alias

    parts = []
    for s in project.event_sources(entity):
        parts.append(
            select(alias(col(s.key), "k"), alias(col(s.timestamp), "ts")).from_(
                d.table(*s.table), copy=False
            )
        )
    union = parts[0]
    for p in parts[1:]:
        union = exp.Union(this=union, expression=p, distinct=False)
    T = d.timestamp(as_of)
    window = exp.and_(
        exp.GTE(this=col("ts", "ev"), expression=d.shift(T, -WIDEST, "DAY")),
        exp.LTE(this=col("ts", "ev"), expression=d.timestamp(as_of)),
    )
    grouped = (
        select(col("k", "ev"), exp.Count(this=exp.Star()))
        .from_(table_alias(union, "ev"), copy=False)
        .where(window, copy=False)
        .group_by(col("k", "ev"), copy=False)
    )
    return select(exp.Count(this=exp.Star())).from_(table_alias(grouped, "g"), copy=False)


def measure_floor(adapter, project, as_of: datetime) -> dict:
    """Seconds per entity type (those with event sources and segments)."""
    out = {}
    entities = sorted({s.entity for s in project.enabled.values()})
    for entity in entities:
        if not project.event_sources(entity):
            continue
        q = floor_query(project, entity, adapter.dialect, as_of)
        start = time.perf_counter()
        adapter.fetch(q)
        out[entity] = time.perf_counter() - start
    return out


# --------------------------------------------------------------------------- refresh (child)
def child_refresh(target: str, as_of: datetime) -> None:
    """Runs in a child process: one `segsql run --all --full-refresh` through the runner
    API, timed in parts by the runner's `timings` hook; prints JSON."""
    from segsql.definitions.project import load_project
    from segsql.runner.run import run_segments

    phases = {"views": 0.0, "evaluate": 0.0, "write": 0.0}

    def timings(phase: str, seconds: float) -> None:
        phases[phase] = phases.get(phase, 0.0) + seconds

    start = time.perf_counter()
    adapter = open_adapter(target)
    project = load_project(PROJECT, adapter.dialect.name)
    setup = time.perf_counter() - start
    cpu0 = cpu_self()
    start = time.perf_counter()
    results = run_segments(
        adapter,
        project,
        list(project.enabled.values()),
        as_of,
        force=True,
        full_refresh=True,
        timings=timings,
    )
    total = time.perf_counter() - start
    cpu = cpu_self() - cpu0
    adapter.close()
    failed = [r.segment for r in results if r.status != "success"]
    print(
        json.dumps(
            {
                "total": total,
                "cpu": cpu,
                "setup": setup,
                "views": phases["views"],
                "evaluate": phases["evaluate"],
                "diff": phases["write"],  # the batched writes (and any segment on its own)
                "members": {r.segment: r.members for r in results},
                "entered": sum(r.entered for r in results),
                "exited": sum(r.exited for r in results),
                "failed": failed,
            }
        )
    )


def refresh(target: str, as_of: datetime) -> dict:
    """One refresh in a child process; adds its wall time and peak RSS (from wait4)."""
    import tempfile

    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-refresh",
        target,
        "--as-of",
        as_of.isoformat(),
    ]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"refresh failed (exit {proc.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if result["failed"]:
        raise RuntimeError(f"segments failed: {result['failed']}\n{stderr[-3000:]}")
    result["process_wall"] = wall
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


# --------------------------------------------------------------------------- naive + checks
def naive(adapter, project, as_of: datetime) -> tuple[float, float]:
    """Each segment's view at `as_of` materialized one after another (seconds, CPU)."""
    from segsql.compiler import view_query

    cpu0 = cpu_self()
    start = time.perf_counter()
    for seg in project.enabled.values():
        adapter.temp_table(f"naive_{seg.name}", view_query(project, seg, adapter.dialect, as_of))
    return time.perf_counter() - start, cpu_self() - cpu0


def check_naive_equal(adapter, project) -> None:
    """The members (and holdout flags) of each naive table equal segsql_memberships."""
    from sqlglot import exp

    from segsql.compiler.render import col, select

    for seg in project.enabled.values():
        naive_rows = select(
            exp.alias_(adapter.dialect.to_text(col("entity_id")), "entity_id", quoted=True),
            col("holdout"),
        ).from_(exp.Table(this=adapter.dialect.ident(f"naive_{seg.name}")), copy=False)
        stored = (
            select(col("entity_id"), col("holdout"))
            .from_(adapter.table("segsql_memberships"), copy=False)
            .where(col("segment").eq(exp.Literal.string(seg.name)), copy=False)
        )
        for a, b, what in ((naive_rows, stored, "missing"), (stored, naive_rows, "unexpected")):
            diff = exp.Except(this=a.copy(), expression=b.copy(), distinct=True)
            n = adapter.fetch(select(exp.Count(this=exp.Star())).from_(diff.subquery("d")))
            if n[0][0]:
                raise AssertionError(
                    f"segment {seg.name}: {n[0][0]} member(s) {what} in segsql_memberships "
                    "compared with the naive plan"
                )


# --------------------------------------------------------------------------- compile, help
def measure_compile(n: int, repeat: int) -> dict:
    from segsql.compiler import evaluation_query, view_query
    from segsql.dialects import get_dialect

    d = get_dialect("duckdb")
    out: dict[str, list[float]] = {"load": [], "evaluation": [], "evaluation_sql": [], "views": []}
    texts = generated_texts(n)
    for _ in range(repeat):
        start = time.perf_counter()
        project = load_generated(n, texts=texts)
        out["load"].append(time.perf_counter() - start)
        by_entity: dict[str, list] = {}
        for seg in project.enabled.values():
            by_entity.setdefault(seg.entity, []).append(seg)
        start = time.perf_counter()
        trees = [evaluation_query(project, e, segs, d, END) for e, segs in by_entity.items()]
        out["evaluation"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for tree in trees:
            d.sql(tree)
        out["evaluation_sql"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for seg in project.enabled.values():
            d.sql(view_query(project, seg, d))
        out["views"].append(time.perf_counter() - start)
    result = {k: summary(v) for k, v in out.items()}
    result["segments"] = n
    return result


def measure_help(repeat: int = 10) -> dict:
    exe = shutil.which("segsql")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "segsql.cli", "--help"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return summary(times)


# --------------------------------------------------------------------------- postgres
DEMO_TABLES = ("accounts", "users", "events", "email_events", "account_events")
PG_TYPES = {  # DuckDB's type of a demo column -> its Postgres type
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "VARCHAR": "TEXT",
    "DOUBLE": "DOUBLE PRECISION",
    "TIMESTAMP": "TIMESTAMP",
    "JSON": "JSONB",
    "BOOLEAN": "BOOLEAN",
}


def load_postgres(pg, duck_path: Path) -> None:
    """Copy the demo tables from the DuckDB warehouse into Postgres (CSV through COPY)."""
    import duckdb
    from sqlglot import exp

    def duck(e: exp.Expression) -> str:
        return e.sql("duckdb")

    def pg_sql(e: exp.Expression) -> str:
        return e.sql("postgres")

    def table(name: str) -> exp.Table:
        return exp.Table(
            this=exp.to_identifier(name, quoted=True), db=exp.to_identifier("main", quoted=True)
        )

    def csv(*params: exp.CopyParameter) -> list[exp.CopyParameter]:
        return [exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("CSV")), *params]

    src = duckdb.connect(str(duck_path), read_only=True)
    tmp = OUT / "pg_load.csv"
    with pg.connect() as con:
        # the catalogue's sources are in schema `main`, as in the DuckDB warehouse
        con.execute(
            pg_sql(
                exp.Create(
                    this=exp.Table(this=exp.to_identifier("main", quoted=True)),
                    kind="SCHEMA",
                    exists=True,
                )
            )
        )
        for name in DEMO_TABLES:
            describe = (
                exp.select(exp.column("column_name"), exp.column("data_type"))
                .from_(exp.table_("columns", db="information_schema"))
                .where(
                    exp.and_(
                        exp.column("table_schema").eq(exp.Literal.string("main")),
                        exp.column("table_name").eq(exp.Literal.string(name)),
                    )
                )
                .order_by(exp.column("ordinal_position"))
            )
            columns = [
                exp.ColumnDef(
                    this=exp.to_identifier(column, quoted=True),
                    kind=exp.DataType.build(PG_TYPES[kind], dialect="postgres"),
                )
                for column, kind in src.execute(duck(describe)).fetchall()
            ]
            con.execute(pg_sql(exp.Drop(tables=[table(name)], kind="TABLE", exists=True)))
            con.execute(
                pg_sql(
                    exp.Create(this=exp.Schema(this=table(name), expressions=columns), kind="TABLE")
                )
            )
            to_csv = exp.Copy(
                this=table(name),
                kind=False,  # TO
                files=[exp.Literal.string(str(tmp))],
                params=csv(exp.CopyParameter(this=exp.var("HEADER"), expression=exp.false())),
            )
            src.execute(duck(to_csv))
            from_stdin = exp.Copy(
                this=table(name), kind=True, files=[exp.var("STDIN")], params=csv()
            )
            with (
                con.cursor() as cur,
                cur.copy(pg_sql(from_stdin)) as copy,
                open(tmp, "rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            con.execute(pg_sql(exp.Analyze(tables=[table(name)])))
    tmp.unlink()
    src.close()


def postgres_mode(args) -> dict:
    from pgcluster import postgres_cluster

    path = ensure_warehouse(args.users, args.events, args.seed, log=log)
    with postgres_cluster() as pg:
        log("loading the warehouse into Postgres ...")
        start = time.perf_counter()
        load_postgres(pg, path)
        log(f"loaded in {time.perf_counter() - start:.0f} s")
        os.environ.update(pg.environ())
        set_env(None, SCHEMA)
        return run_engine(args, "postgres")


# --------------------------------------------------------------------------- main
def run_engine(args, target: str) -> dict:
    from segsql.definitions.project import load_project

    adapter = open_adapter(target)
    project = load_project(PROJECT, adapter.dialect.name)
    adapter.drop_schema(SCHEMA)
    adapter.close()
    log(f"first run at {FIRST_T} (every member enters) ...")
    first = refresh(target, FIRST_T)
    log(f"  {first['total']:.2f} s, {first['entered']:,} entered")
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "floor",
            "refresh",
            "refresh_cpu",
            "views",
            "evaluate",
            "diff",
            "process_wall",
            "peak_rss_mib",
            "naive",
            "naive_cpu",
        )
    }
    floors: dict[str, list[float]] = {}
    for i in range(1, args.repeat + 1):
        as_of = END + i * STEP
        adapter = open_adapter(target)
        f = measure_floor(adapter, project, as_of)
        adapter.close()
        for k, v in f.items():
            floors.setdefault(k, []).append(v)
        rows["floor"].append(sum(f.values()))
        r = refresh(target, as_of)
        for k in ("views", "evaluate", "diff", "process_wall", "peak_rss_mib"):
            rows[k].append(r[k])
        rows["refresh"].append(r["total"])
        rows["refresh_cpu"].append(r["cpu"])
        if not args.skip_naive:
            adapter = open_adapter(target)
            wall, cpu = naive(adapter, project, as_of)
            check_naive_equal(adapter, project)
            adapter.close()
            rows["naive"].append(wall)
            rows["naive_cpu"].append(cpu)
        log(
            f"repeat {i}: floor {sum(f.values()):.2f} s, refresh {r['total']:.2f} s "
            f"(evaluate {r['evaluate']:.2f}, diff {r['diff']:.2f}), "
            f"{r['entered']} entered, {r['exited']} exited"
            + (f", naive {rows['naive'][-1]:.2f} s (memberships equal)" if rows["naive"] else "")
        )
    result = {k: summary(v) for k, v in rows.items() if v}
    result["floor_by_entity"] = {k: summary(v) for k, v in floors.items()}
    result["first_run"] = first
    result["segments"] = len(project.enabled)
    result["members"] = r["members"]
    return result


def report(args, engine: str, result: dict, compile_: dict | None, help_: dict | None) -> str:
    floor = result["floor"]["median"]
    lines = [
        f"segsql benchmark - {engine}, {args.users:,} users, {args.events:,} events, "
        f"{result['segments']} segments, {args.repeat} repeat(s): median (min-max)",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| floor: one {WIDEST}-day scan per entity type, grouped by entity | "
        f"{fmt(result['floor'])} | |",
    ]
    for entity, s in result["floor_by_entity"].items():
        lines.append(f"| - of which {entity} | {fmt(s)} | |")
    ratio = result["refresh"]["median"] / floor
    lines += [
        f"| full refresh (`run --all --full-refresh`, runner API) | {fmt(result['refresh'])} | "
        f"<= 2x floor: **{ratio:.2f}x** |",
        f"| - views | {fmt(result['views'])} | |",
        f"| - evaluation (one query per entity type) | {fmt(result['evaluate'])} | "
        f"{result['evaluate']['median'] / floor:.2f}x floor |",
        f"| - diff (batched writes) | {fmt(result['diff'])} | <= 10% of refresh: "
        f"**{100 * result['diff']['median'] / result['refresh']['median']:.0f}%** |",
        f"| refresh CPU time (user+sys) | {fmt(result['refresh_cpu'])} | |",
        f"| refresh child process, wall (with start-up) | {fmt(result['process_wall'])} | |",
        f"| peak RSS of the refresh process | {fmt(result['peak_rss_mib'], 'MiB')} | < 2048 MiB |",
    ]
    if "naive" in result:
        speedup = result["naive"]["median"] / result["refresh"]["median"]
        lines.append(
            f"| naive: each segment's view materialized in turn | {fmt(result['naive'])} | "
            f"refresh >= 2x faster: **{speedup:.2f}x** |"
        )
    first = result["first_run"]
    lines.append(
        f"| first run (all {first['entered']:,} members enter) | {first['total']:.2f} s "
        f"(diff {first['diff']:.2f} s) | |"
    )
    if compile_:
        n = compile_["segments"]
        lines += [
            f"| compile {n} segments: evaluation queries (plan + sqlglot trees) | "
            f"{fmt(compile_['evaluation'], 'ms')} | |",
            f"| compile {n} segments: their SQL text | {fmt(compile_['evaluation_sql'], 'ms')}"
            f" | < 1 s with the trees: **"
            f"{compile_['evaluation']['median'] + compile_['evaluation_sql']['median']:.2f} s** |",
            f"| compile {n} segments: {n} views (trees + SQL) | {fmt(compile_['views'], 'ms')} | |",
            f"| load {n} segments (YAML + validation) | {fmt(compile_['load'], 'ms')} | |",
        ]
    if help_:
        lines.append(f"| `segsql --help` | {fmt(help_, 'ms')} | < 150 ms |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--users", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--compile-segments", type=int, default=1000)
    parser.add_argument("--child-refresh", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_refresh:
        child_refresh(args.child_refresh, datetime.fromisoformat(args.as_of))
        return
    big = args.engine == "duckdb"
    args.users = args.users or (1_000_000 if big else 100_000)
    args.events = args.events or (50_000_000 if big else 5_000_000)
    if args.engine == "postgres":
        result = postgres_mode(args)
    else:
        path = ensure_warehouse(args.users, args.events, args.seed, log=log)
        set_env(path, SCHEMA)
        result = run_engine(args, "dev")
    compile_ = help_ = None
    if args.compile_segments:
        log(f"compiling {args.compile_segments} segments ...")
        compile_ = measure_compile(args.compile_segments, args.repeat)
        help_ = measure_help()
    text = report(args, args.engine, result, compile_, help_)
    print(text)
    OUT.mkdir(exist_ok=True)
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    (OUT / f"results-{args.engine}-{stamp}.json").write_text(
        json.dumps(
            {"args": vars(args), "result": result, "compile": compile_, "help": help_},
            indent=1,
            default=str,
        )
    )
    (OUT / f"results-{args.engine}-{stamp}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
