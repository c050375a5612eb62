"""Helpers of the memory-and-trust tests (history, lookup, explain, diff, backfill): the
conditions project on disk with a profile for the engine under test, the CLI invoked on
it, and a snapshot of everything in the warehouse (to prove a command wrote nothing)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlglot import exp

from segsql.cli import cli

from .conftest import CONDITIONS


def project_for(adapter, root: Path) -> Path:
    """A copy of the conditions project whose profile points at the adapter's target."""
    shutil.copytree(CONDITIONS / "segments", root / "segments", dirs_exist_ok=True)
    t = adapter.target
    output = {k: v for k, v in t.options.items()}
    output["schema"] = t.schema
    (root / "profiles.yml").write_text(
        json.dumps({"segsql": {"target": t.name, "outputs": {t.name: output}}})
    )
    return root


def invoke(root: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--project-dir", str(root)])


def snapshot(adapter, schemas=None) -> dict[str, list]:
    """Every table and view of segsql's schema and of `main` (the sources), with all its
    rows (sorted, as text): equal snapshots mean nothing was written."""
    schemas = schemas or [adapter.schema, "main"]
    names = adapter.fetch(
        exp.select(exp.column("table_schema"), exp.column("table_name"), exp.column("table_type"))
        .from_(exp.table_("tables", db="information_schema"))
        .where(
            exp.column("table_schema").isin(
                *(exp.Literal.string(adapter.dialect.normalize(s)) for s in schemas)
            )
        )
    )
    out = {}
    for schema, name, kind in names:
        rows = adapter.fetch(exp.select(exp.Star()).from_(adapter.dialect.table(schema, name)))
        out[f"{schema}.{name} ({kind})"] = sorted(str(r) for r in rows)
    return out
