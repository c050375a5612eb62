"""Where the evaluation time goes (run by hand on the cached DuckDB benchmark warehouse).

    python bench/profile.py                 # 1M users, 50M events (the default warehouse)
    python bench/profile.py --entity user --repeat 3
    python bench/profile.py --users 100000 --events 5000000 --incremental 1d

With `--incremental STEP`, on a copy of the warehouse after a `segsql run` at T - STEP,
the parts of the incremental evaluation at T (the STATE scan: kept rows, the rows since,
the recomputed features).

For each entity type: the floor (one 365-day scan grouped by entity), then every joined
part of the evaluation query (each scan, sequence, parent, members) materialized on its
own, then all of them joined without the final projection, then the whole query; wall
time (best of `--repeat`) and DuckDB's CPU time. The difference between "joined" and the
sum of the parts is what the LEFT JOINs cost; between "whole" and "joined", the final
projection (the segments' booleans over the entity table).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from catalogue import PROJECT  # noqa: E402
from run import WIDEST, floor_query  # noqa: E402
from warehouse import END, ensure_warehouse  # noqa: E402


def main() -> None:
    import duckdb
    from sqlglot import exp

    from segsql.compiler import evaluation_query
    from segsql.compiler.render import alias, col
    from segsql.definitions.project import load_project
    from segsql.definitions.values import parse_duration
    from segsql.dialects import get_dialect
    from segsql.plan import plan_entity
    from segsql.plan.explain import scan_text

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--entity", action="append", help="default: every entity type")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--incremental", metavar="STEP", help="e.g. 1d, 15m: after a run then")
    args = parser.parse_args()

    d = get_dialect("duckdb")
    project = load_project(PROJECT, "duckdb")
    path = ensure_warehouse(args.users, args.events)
    as_of = END  # the benchmark's T
    states: dict[str, dict] = {}
    if args.incremental:
        step = parse_duration(args.incremental, None, "--incremental")
        path, states = previous_run(project, path, as_of, step)
    con = duckdb.connect(str(path), read_only=True, config={"threads": "2"})
    profile = Path(tempfile.mkdtemp()) / "profile.json"
    for name, value in (("enable_profiling", "json"), ("profiling_output", str(profile))):
        con.execute(
            d.sql(
                exp.Set(
                    expressions=[
                        exp.SetItem(
                            this=exp.EQ(this=exp.var(name), expression=exp.Literal.string(value))
                        )
                    ]
                )
            )
        )

    def timed(query: exp.Expression) -> tuple[float, float]:
        best_wall = best_cpu = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            con.execute(
                d.sql(
                    exp.Create(
                        this=exp.to_table("segsql_profile"),
                        kind="TABLE",
                        replace=True,
                        expression=query,
                        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
                    )
                )
            )
            best_wall = min(best_wall, time.perf_counter() - start)
            best_cpu = min(best_cpu, json.loads(profile.read_text())["query"]["cpu_time"])
        return best_wall, best_cpu

    def line(name: str, wall: float, cpu: float, note: str = "") -> None:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {note} |", flush=True)

    entities = args.entity or sorted({s.entity for s in project.enabled.values()})
    print(f"DuckDB {duckdb.__version__}, {path.name}, T = {as_of}, best of {args.repeat}\n")
    for entity in entities:
        segments = [s for s in project.enabled.values() if s.entity == entity]
        kept = states.get(entity)
        query = evaluation_query(project, entity, segments, d, as_of, states=kept)
        plan = plan_entity(project, entity, {s.name: s.where for s in segments}, states=kept)
        what = {scan.alias: scan_text(plan, scan) for scan in plan.scans.values()}
        what.update({alias: "sequence" for alias in plan.sequences.values()})
        what.update({alias: "parent" for alias, _ in plan.parents.values()})
        what.update({alias: "members" for alias, _ in plan.members.values()})
        print(f"### {entity}: {len(segments)} segments\n")
        print("| part | wall s | CPU s | |\n| --- | --- | --- | --- |")
        if project.event_sources(entity):
            floor = floor_query(project, entity, d, as_of).args["from_"].this.this
            line(f"floor ({WIDEST}-day scan grouped by entity)", *timed(floor))
        total = 0.0
        states = {scan.alias for scan in plan.scans.values() if scan.states}
        for join in query.args.get("joins", []):
            wall, cpu = timed(join.this.this)
            total += wall
            line(join.this.alias, wall, cpu, what.get(join.this.alias, ""))
            if join.this.alias in states:  # the STATE scan: its rows, then its GROUP BY
                for name, part in state_parts(join.this.this, d):
                    line(f"{join.this.alias}: {name}", *timed(part), "(inside the line above)")
        print(f"| sum of the parts | {total:.2f} | | |")
        joined = query.copy()
        joined.set(
            "expressions",
            [
                alias(col(out.alias_or_name, j.this.alias), f"{j.this.alias}_{out.alias_or_name}")
                for j in query.args.get("joins", [])
                for out in j.this.this.expressions
            ],
        )
        line("joined, without the final projection", *timed(joined))
        line("whole evaluation query", *timed(query))
        print()


def state_parts(scan, d) -> list[tuple[str, object]]:
    """A STATE scan's own parts: the kept rows it reads (the first branch of its union),
    and its whole union (kept rows, the rows since, the rows that left), before the GROUP BY
    that makes them one row per entity."""
    from sqlglot import exp

    union = scan.args["from"].this.this if "from" in scan.args else scan.args["from_"].this.this
    first = union
    while isinstance(first, exp.Union):
        first = first.this
    rows = exp.select(exp.Star()).from_(union.subquery("u", copy=True))
    for cte in scan.ctes:
        rows = rows.with_(cte.alias, as_=cte.this.copy(), materialized=d.materialized_ctes or None)
    return [("its kept rows", first.copy()), ("its rows, before the GROUP BY", rows)]


def previous_run(project, path: Path, as_of, step) -> tuple[Path, dict[str, dict]]:
    """A copy of the warehouse after `segsql run --all` at T - step, and per entity type
    the kept features an incremental run at T starts from."""
    import os
    import shutil

    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target
    from segsql.runner.incremental import prepare_entity
    from segsql.runner.run import run_segments

    copy = Path(tempfile.mkdtemp()) / "warehouse.duckdb"
    shutil.copyfile(path, copy)
    os.environ["SEGSQL_BENCH_DB"] = str(copy)
    os.environ.setdefault("SEGSQL_BENCH_SCHEMA", "segsql_bench")
    adapter = connect(load_target(PROJECT, None, None, "dev"))
    adapter.drop_schema(os.environ["SEGSQL_BENCH_SCHEMA"])  # bench/run.py leaves its runs
    segments = list(project.enabled.values())
    run_segments(adapter, project, segments, as_of - timedelta(seconds=step.seconds), force=True)
    states = {}
    for entity in sorted({s.entity for s in segments}):
        mine = [s for s in segments if s.entity == entity]
        increment = prepare_entity(adapter, project, entity, mine, as_of, full=lambda s: False)
        states[entity] = increment.states
    adapter.close()
    return copy, states


if __name__ == "__main__":
    main()
