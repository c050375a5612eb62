"""The benchmark warehouse: `segsql.runner.demo.generate` at a given size, cached under bench/out/.

The file name holds every parameter (users, events, end, seed), so a cached file is
reused only for the same warehouse. Generation writes to a temporary name first and is
renamed when complete: an interrupted generation never leaves a file that looks done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script, too

from segsql.runner.demo import generate  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
END = datetime(2026, 10, 1)  # fixed: the benchmark's T, and the end of the generated year


def warehouse_path(users: int, events: int, seed: int = 42, end: datetime = END) -> Path:
    return OUT / f"warehouse-u{users}-e{events}-s{seed}-{end:%Y%m%d}.duckdb"


def fresh_copy(source: Path, target: Path, schema: str) -> None:
    """Copy the cached warehouse to `target` without segsql's `schema` in it: bench/run.py
    leaves its runs there, and a run at T - step after them is refused."""
    import duckdb
    from sqlglot import exp

    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        tables = [exp.Table(db=exp.to_identifier(schema))]
        con.execute(exp.Drop(tables=tables, kind="SCHEMA", exists=True, cascade=True).sql("duckdb"))
    finally:
        con.close()


def ensure_warehouse(
    users: int,
    events: int,
    seed: int = 42,
    end: datetime = END,
    log=print,
    in_child: bool = True,
) -> Path:
    """The path of the cached warehouse, generating it first when missing: in a child
    process (`in_child`), because generating 50M events leaves a process at ~10 GB of
    RSS, and every process it starts after that reports it as its own peak (ru_maxrss
    counts the pages a forked child shares until it execs)."""
    path = warehouse_path(users, events, seed, end)
    if path.exists():
        return path
    if in_child and end == END:
        command = [sys.executable, __file__, "--users", str(users), "--events", str(events)]
        subprocess.run([*command, "--seed", str(seed)], check=True, stdout=sys.stderr)
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for stale in (partial, Path(f"{partial}.wal")):
        if stale.exists():
            stale.unlink()
    log(f"generating {path.name} ({users:,} users, {events:,} events) ...")
    start = time.perf_counter()
    counts = generate(partial, users=users, events=events, end=end, seed=seed)
    os.replace(partial, path)
    log(
        f"generated in {time.perf_counter() - start:.0f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
    )
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="generate (or find) the benchmark warehouse")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(ensure_warehouse(args.users, args.events, args.seed, in_child=False))
