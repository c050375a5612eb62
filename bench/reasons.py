"""What the change rows' `reason` costs a full refresh (issue 12; see bench/README.md).

    python bench/reasons.py                                   # 100k users, 5M events, 5 repeats
    python bench/reasons.py --users 2000 --events 100000 --repeat 1   # a smoke test

On the benchmark's catalogue (bench/segments, DuckDB), each `--repeat` times, side by
side in one run (the order alternates between repeats), `run --all --full-refresh` once
with reasons and once without (`run_segments(..., reasons=False)`: `reason` NULL), each
in a child process on a fresh copy of the warehouse, in two scenarios:
- *first run*, at T = the end of the generated data: everybody enters, so a reason is
  built for every member (the worst case: as many change rows as a run can write);
- *refresh*, at T + 5 min on a copy where a run at T (with reasons, not timed) already
  wrote the memberships: the small diff of an ordinary refresh, as `bench/run.py`
  measures its full refresh.
Measured: the whole refresh (wall and CPU, user + system, DuckDB's threads included),
and the evaluate and write phases (the runner's `timings`). The overhead is given twice:
with / without - 1 of the medians, and the median of each repeat's own with / without
- 1 (the pair ran back to back, so a slow spell of the machine more often falls on
both). Both runs must write the same members; the digest of the measured run's reasons
(segment, entity, change, reason, sorted; float sums rounded) shows whether a change to
how they are computed kept them byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from catalogue import PROJECT  # noqa: E402
from sqlglot import exp  # noqa: E402
from warehouse import END, OUT, ensure_warehouse  # noqa: E402

SCHEMA = "segsql_bench"
KINDS = ("with", "without")
DECIMAL = re.compile(r"-?\d+\.\d+")
# name -> (T, whether it starts from a run at END)
SCENARIOS = {"first run": (END, False), "refresh": (END + timedelta(minutes=5), True)}


def log(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S}  {message}", file=sys.stderr, flush=True)


def _cpu() -> float:
    """CPU seconds (user + system) of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(db: str, at: datetime, reasons: bool) -> None:
    """In a child process: one `run --all --full-refresh` at `at`; its times as JSON.
    A phase's CPU is the CPU used since the previous phase ended (or the run began)."""
    os.environ["SEGSQL_BENCH_DB"] = db
    os.environ["SEGSQL_BENCH_SCHEMA"] = SCHEMA
    from segsql.adapters import connect
    from segsql.definitions.profiles import load_target
    from segsql.definitions.project import load_project
    from segsql.runner.run import run_segments

    adapter = connect(load_target(PROJECT, None, None, "dev"))
    project = load_project(PROJECT, adapter.dialect.name)
    out: dict[str, float] = {}
    mark = [_cpu()]

    def timings(phase: str, seconds: float) -> None:
        now = _cpu()
        out[phase] = out.get(phase, 0.0) + seconds
        out[f"{phase}_cpu"] = out.get(f"{phase}_cpu", 0.0) + now - mark[0]
        mark[0] = now

    cpu, start = _cpu(), time.perf_counter()
    results = run_segments(
        adapter,
        project,
        list(project.enabled.values()),
        at,
        force=True,
        full_refresh=True,
        timings=timings,
        reasons=reasons,
    )
    out["total"] = time.perf_counter() - start
    out["total_cpu"] = _cpu() - cpu
    adapter.close()
    failed = [r.segment for r in results if r.status != "success"]
    print(json.dumps({**out, "failed": failed}))


def run_child(db: Path, at: datetime, reasons: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(db), "--at", at.isoformat()]
    if not reasons:
        cmd.append("--no-reasons")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, _ = os.wait4(proc.pid, 0)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"run failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if result["failed"]:
        raise RuntimeError(f"segments failed: {result['failed']}\n{stderr[-3000:]}")
    return result


def _table(name: str) -> exp.Table:
    return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(SCHEMA))


def written(db: Path) -> tuple[set[tuple], int, str, int]:
    """The memberships, the number of change rows of the last run, a digest of their
    reasons, and how many of them have a reason."""
    import duckdb

    members = exp.select("segment", "entity_id", "holdout").from_(_table("segsql_memberships"))
    runs = _table("segsql_runs")
    latest = exp.select(exp.func("MAX", exp.column("as_of"))).from_(runs)
    last = exp.select("run_id").from_(runs.copy()).where(exp.column("as_of").eq(latest.subquery()))
    changes = (
        exp.select("segment", "entity_id", "change", "reason")
        .from_(_table("segsql_membership_changes"))
        .where(exp.column("run_id").isin(query=last))
        .order_by("segment", "entity_id", "change")
    )
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(changes.sql(dialect="duckdb")).fetchall()
        found = set(con.execute(members.sql(dialect="duckdb")).fetchall())
    finally:
        con.close()
    # a float sum's last digits depend on DuckDB's parallel order: rounded for the digest
    text = DECIMAL.sub(lambda m: repr(round(float(m.group()), 6)), json.dumps(rows))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return found, len(rows), digest, sum(r[3] is not None for r in rows)


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def measure(base: Path, at: datetime, work: Path, repeat: int, name: str) -> tuple[dict, str]:
    """`repeat` pairs of runs at `at`, each on a fresh copy of `base`: the runs by kind,
    and a line on the change rows and the digest of their reasons."""
    runs: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    checks = {}
    for i in range(repeat):
        for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
            db = work / f"{kind}.duckdb"
            shutil.copy(base, db)
            r = run_child(db, at, kind == "with")
            runs[kind].append(r)
            seconds = f"{r['total']:.2f} s, evaluate {r['evaluate']:.2f} s"
            log(f"{name} #{i + 1} {kind} reasons: {seconds}")
            checks[kind] = written(db)
    (with_members, n, digest, explained), (without_members, _, _, none) = (
        checks["with"],
        checks["without"],
    )
    if with_members != without_members:
        raise SystemExit(f"{name}: the runs with and without reasons wrote different members")
    if explained != n or none:
        raise SystemExit(f"{name}: reasons on {explained} of {n} change rows with; {none} without")
    return runs, f"{n:,} change rows; reasons digest {digest}."


def table(runs: dict[str, list[dict]]) -> list[str]:
    rows = [
        ("full refresh (wall)", "total"),
        ("full refresh (CPU)", "total_cpu"),
        ("evaluate (wall)", "evaluate"),
        ("evaluate (CPU)", "evaluate_cpu"),
        ("write (wall)", "write"),
        ("write (CPU)", "write_cpu"),
    ]
    lines = [
        "| measure | with reasons | without | overhead | paired overhead |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, key in rows:
        cells = [summary([r[key] for r in runs[kind]]) for kind in KINDS]
        overhead = median(runs["with"], key) / median(runs["without"], key) - 1
        paired = [w[key] / o[key] - 1 for w, o in zip(runs["with"], runs["without"], strict=True)]
        spread = f"{statistics.median(paired):+.1%} ({min(paired):+.1%} to {max(paired):+.1%})"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {overhead:+.1%} | {spread} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--at", help=argparse.SUPPRESS)
    parser.add_argument("--no-reasons", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, datetime.fromisoformat(args.at), not args.no_reasons)
        return
    source = ensure_warehouse(args.users, args.events, log=log)
    work = Path(tempfile.mkdtemp(prefix="segsql-reasons-", dir=OUT))
    lines = [
        f"Reasons on a full refresh, DuckDB, {args.users:,} users, {args.events:,} events, "
        f"median of {args.repeat} (min-max)",
    ]
    all_runs = {}
    try:
        ran = work / "ran.duckdb"  # the refresh scenario's start: a run at END
        shutil.copy(source, ran)
        run_child(ran, END, True)
        for name, (at, after_a_run) in SCENARIOS.items():
            base = ran if after_a_run else source
            runs, line = measure(base, at, work, args.repeat, name)
            all_runs[name] = runs
            lines += ["", f"{name}, T = {at:%Y-%m-%d %H:%M}:", "", *table(runs), "", line]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    (OUT / f"reasons-{stamp}.md").write_text(text + "\n")
    (OUT / f"reasons-{stamp}.json").write_text(json.dumps(all_runs))


if __name__ == "__main__":
    main()
