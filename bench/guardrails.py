"""What the guardrails (SPEC section 14) cost on a refresh: the bench catalogue as it is,
then with suppressions and a priority group (they change the compiled SQL), then also
with cooldown and dwell, with the exit brake, and with both on every segment (they
change the write).

    python bench/guardrails.py                      # 100k users, 5M events, 3 repeats
    python bench/guardrails.py --users 20000 --events 500000 --repeat 2   # a smoke test

Each variant gets a fresh schema: a first run at END - 1h (everybody enters), then
`--repeat` runs at END + 5 min * i (a realistic refresh with a small diff); the median of
those is reported per phase (views, evaluate, write), from the runner's `timings` hook.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from warehouse import END, ensure_warehouse  # noqa: E402

from segsql.adapters import connect  # noqa: E402
from segsql.definitions.guards import check_guards, parse_suppression  # noqa: E402
from segsql.definitions.profiles import load_target  # noqa: E402
from segsql.definitions.project import load_project  # noqa: E402
from segsql.definitions.yaml import load_text  # noqa: E402
from segsql.model.types import Duration  # noqa: E402
from segsql.runner.run import run_segments  # noqa: E402

PROJECT = HERE / "segments"
SUPPRESSIONS = """
- name: internal
  where: {property: is_internal, eq: true}
- name: open_ticket
  where: {event: support_ticket_created, within: 3d}
"""
GROUP = ("power_users", "weekly_actives", "dormant_users")  # lifecycle: first wins


def variant(project, name: str):
    """The catalogue with the guardrails of variant `name` added."""
    if name == "baseline":
        return project
    items = load_text(SUPPRESSIONS, "bench.yml")
    sups = {}
    for i, node in enumerate(items):
        s = parse_suppression(node, items.loc_of(i), project.sources, "duckdb")
        sups[s.name] = s
    segments = {}
    for n, seg in project.segments.items():
        extra = {}
        if n in GROUP:
            extra = {"priority_group": "lifecycle", "priority": GROUP.index(n) + 1}
        if name in ("cooldown_dwell", "all_rules"):
            extra.update(reentry_cooldown=Duration(7, "d"), min_membership=Duration(1, "d"))
        if name in ("brake", "all_rules"):
            extra.update(max_exit_share=50.0)
        segments[n] = dataclasses.replace(seg, **extra)
    segments = check_guards(segments, sups)
    return dataclasses.replace(project, segments=segments, suppressions=sups)


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's too): steadier than wall time
    on a shared machine."""
    t = os.times()
    return t.user + t.system


def measure(project, repeat: int) -> dict:
    os.environ["SEGSQL_BENCH_SCHEMA"] = f"g_{uuid.uuid4().hex[:8]}"
    adapter = connect(load_target(PROJECT, None, None, None))
    try:
        segs = list(project.enabled.values())
        run_segments(adapter, project, segs, END - timedelta(hours=1), force=True)
        phases: dict[str, list[float]] = {
            "views": [], "evaluate": [], "write": [], "total": [], "cpu": []
        }  # fmt: skip
        members = {}
        for i in range(1, repeat + 1):
            got = {"views": 0.0, "evaluate": 0.0, "write": 0.0}

            def timings(phase: str, seconds: float, got=got) -> None:
                got[phase] = got.get(phase, 0.0) + seconds

            start, cpu = time.perf_counter(), _cpu()
            results = run_segments(
                adapter, project, segs, END + timedelta(minutes=5 * i), force=True,
                timings=timings,
            )  # fmt: skip
            got["total"] = time.perf_counter() - start
            got["cpu"] = _cpu() - cpu
            assert all(r.status == "success" for r in results), [
                (r.segment, r.error) for r in results if r.status != "success"
            ]
            members = {r.segment: r.members for r in results}
            for k, v in got.items():
                phases[k].append(v)
        return {k: statistics.median(v) for k, v in phases.items()} | {"members": members}
    finally:
        adapter.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["SEGSQL_BENCH_DB"] = str(ensure_warehouse(args.users, args.events))
    base = load_project(PROJECT)
    print(f"{args.users:,} users, {args.events:,} events, {len(base.enabled)} segments")
    print("| variant | refresh (wall) | CPU | views | evaluate | write | members of the group |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ("baseline", "suppressions_priority", "cooldown_dwell", "brake", "all_rules"):
        r = measure(variant(base, name), args.repeat)
        group = ", ".join(f"{g} {r['members'][g]}" for g in GROUP)
        print(
            f"| {name} | {r['total']:.2f} s | {r['cpu']:.2f} s | {r['views']:.2f} | "
            f"{r['evaluate']:.2f} | "
            f"{r['write']:.2f} | {group} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
