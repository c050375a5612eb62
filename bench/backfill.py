"""What a backfill costs against one full refresh (issue 12; see bench/README.md).

    python bench/backfill.py                         # demo project, 10k users, 1M events, 90 days
    python bench/backfill.py --users 2000 --events 100000 --days 10   # a smoke test
    python bench/backfill.py --one-by-one           # every step an ordinary run
    python bench/backfill.py --engine postgres      # a throw-away Postgres cluster

The demo warehouse (`segsql demo`'s data, ending at END) is generated once into
bench/out/. Each measurement starts from a fresh copy of it: *refresh* is one
`run --all` of every demo segment at END (the first run: everybody enters), *backfill*
is `segsql backfill` of the same segments from END - (days - 1) to END, every 1d (that
is `days` steps: all but the last evaluated and written together, the last an ordinary
run; with --one-by-one each a forced run through `run_segments`). Reported: both wall
times, the ratio (target <= 5x for 90 steps), the time of the steps written together
and of the last, and the rows of kept state at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

from sqlglot import exp  # noqa: E402

from segsql.adapters import connect  # noqa: E402
from segsql.definitions.profiles import Target  # noqa: E402
from segsql.definitions.project import load_project  # noqa: E402
from segsql.model.types import Duration  # noqa: E402
from segsql.runner.backfill import backfill, steps  # noqa: E402
from segsql.runner.demo import generate  # noqa: E402
from segsql.runner.run import run_segments  # noqa: E402
from segsql.state.features import VALUES  # noqa: E402

END = datetime(2026, 10, 1)


def warehouse(users: int, events: int) -> Path:
    path = HERE / "out" / f"demo-u{users}-e{events}-{END:%Y%m%d}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate(path, users=users, events=events, end=END)
    return path


def fresh(source: Path, tmp: Path, name: str, pg=None):
    """A warehouse of its own for one measurement: a copy of the DuckDB file, or on
    Postgres (`pg`, the demo tables loaded into its schema `main`) a schema of its own
    for segsql's tables."""
    if pg is not None:
        options = {"host": pg.host, "port": pg.port, "user": pg.user, "dbname": pg.dbname}
        target = Target(
            name="bench",
            type="postgres",
            schema=f"segsql_{name}",
            project_dir=str(tmp),
            options=options,
        )
        return connect(target)
    copy = tmp / f"{name}.duckdb"
    shutil.copy(source, copy)
    options = {"type": "duckdb", "path": str(copy), "threads": 2}
    return connect(
        Target(name="bench", type="duckdb", schema="segsql", project_dir=str(tmp), options=options)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3, help="refreshes measured (median)")
    parser.add_argument("--one-by-one", action="store_true", help="no batched steps")
    parser.add_argument("--engine", choices=["duckdb", "postgres"], default="duckdb")
    args = parser.parse_args()
    source = warehouse(args.users, args.events)
    project = load_project(ROOT)
    segments = [s for s in project.segments.values() if s.enabled]
    with contextlib.ExitStack() as stack:
        pg = None
        if args.engine == "postgres":  # a throw-away cluster, loaded by bench/run.py's loader
            from incremental import index_timestamps
            from pgcluster import postgres_cluster
            from run import load_postgres

            pg = stack.enter_context(postgres_cluster())
            load_postgres(pg, source)
            index_timestamps(pg)  # as the README tells Postgres users to
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        refreshes = []
        for i in range(args.repeat):
            adapter = fresh(source, Path(tmp), f"refresh{i}", pg)
            start = time.perf_counter()
            results = run_segments(adapter, project, segments, END, force=True)
            refreshes.append(time.perf_counter() - start)
            adapter.close()
            assert {r.status for r in results} == {"success"}, results
        times = steps(END - timedelta(days=args.days - 1), END, Duration(1, "d"))
        adapter = fresh(source, Path(tmp), "backfill", pg)
        stamps = [time.perf_counter()]
        done = backfill(
            adapter,
            project,
            segments,
            times,
            lambda *_: stamps.append(time.perf_counter()),
            batch=not args.one_by_one,
        )
        elapsed = stamps[-1] - stamps[0]
        state = adapter.fetch(exp.select(exp.Count(this=exp.Star())).from_(adapter.table(VALUES)))
        adapter.close()
        assert len(done) == len(times)
    refresh = statistics.median(refreshes)
    print(
        f"demo project on {args.engine}: {len(segments)} segments, {args.users} users, "
        f"{args.events} events"
    )
    each = [round(r, 2) for r in refreshes]
    print(f"full refresh (median of {args.repeat}): {refresh:.2f} s  {each}")
    print(
        f"backfill, {len(times)} daily steps: {elapsed:.2f} s ({elapsed / len(times):.2f} s a step)"
    )
    print(f"ratio: {elapsed / refresh:.1f}x one full refresh (target <= 5x)")
    step = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    if args.one_by_one:
        tenth = max(1, len(step) // 10)
        means = [statistics.mean(step[i : i + tenth]) for i in range(0, len(step), tenth)]
        print(f"mean step per {tenth} steps: " + " ".join(f"{m:.2f}" for m in means) + " s")
    else:  # the steps written together are reported when their transaction commits
        together = stamps[-2] - stamps[0]
        print(f"the first {len(step) - 1} steps {together:.2f} s together, last {step[-1]:.2f} s")
    print(f"state rows after the backfill (segsql_feature_values): {state[0][0]:,}")


if __name__ == "__main__":
    main()
