"""dbt-shaped artifacts in `target/`: `manifest.json` (what the project defines) and
`run_results.json` (what a command did), for orchestrators that read dbt's (Cosmos,
Dagster, Elementary). Schemas: docs/schemas/*.schema.json.

A command writes both with one call, `write_artifacts(ctx, project, command, results)`;
`results` are `Result`s (built from a run's `SegmentResult`s with `segment_results`, or
from anything else - a backfill, a fixture - directly).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MANIFEST_SCHEMA = "https://segsql.dev/schemas/manifest/v1.json"
RUN_RESULTS_SCHEMA = "https://segsql.dev/schemas/run-results/v1.json"


@dataclass
class Result:
    """One entry of run_results.json (a segment, or a fixture of `segsql test`)."""

    unique_id: str
    status: str  # success | error | skipped
    execution_time: float = 0.0
    as_of: datetime | None = None
    members: int | None = None
    entered: int | None = None
    exited: int | None = None
    mode: str | None = None
    message: str | None = None


def iso_utc(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def profile_name(ctx) -> str:
    """The profile of the unique ids: the target's, else `--profile`, else `segsql`."""
    if ctx.has_profile():
        return ctx.target().profile
    return ctx.profile or "segsql"


def segment_id(profile: str, name: str) -> str:
    return f"segment.{profile}.{name}"


def source_id(profile: str, name: str) -> str:
    return f"source.{profile}.{name}"


def test_id(profile: str, name: str) -> str:
    return f"test.{profile}.{name}"


def _metadata(ctx, schema: str, adapter_type: str) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        segsql_version = version("segsql")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        segsql_version = "0+unknown"
    return {
        "segsql_version": segsql_version,
        "schema_version": schema,
        "generated_at": iso_utc(datetime.now(timezone.utc)),
        "invocation_id": ctx.invocation_id,
        "adapter_type": adapter_type,
    }


def manifest(ctx, project, adapter_type: str) -> dict[str, Any]:
    """Every segment (disabled ones too) and source, and the `in_segment` graph."""
    from ..model.usage import project_usage
    from ..model.walk import dependencies
    from ..runner.run import definition_hash

    profile = profile_name(ctx)
    root = Path(project.root)
    segments: dict[str, Any] = {}
    parent_map: dict[str, list[str]] = {}
    child_map: dict[str, list[str]] = {}
    for seg in project.segments.values():
        uid = segment_id(profile, seg.name)
        parents = sorted({segment_id(profile, d) for d in dependencies(seg)})
        compiled = root / "target" / "compiled" / f"{seg.name}.sql"
        segments[uid] = {
            "unique_id": uid,
            "resource_type": "segment",
            "name": seg.name,
            "entity": seg.entity,
            "description": seg.description,
            "owner": seg.owner,
            "tags": list(seg.tags),
            "refresh": str(seg.refresh) if seg.refresh else None,
            "holdout": seg.holdout,
            "enabled": seg.enabled,
            "file": seg.loc.file if seg.loc else None,
            "line": seg.loc.line if seg.loc else None,
            "definition_hash": definition_hash(project, seg),
            "depends_on": {
                "nodes": parents,
                "sources": sorted(
                    source_id(profile, s) for s in project_usage(project, [seg]).columns
                ),
            },
            "compiled_path": (
                str(compiled.relative_to(root)).replace(os.sep, "/") if compiled.is_file() else None
            ),
        }
        parent_map[uid] = parents
        child_map.setdefault(uid, [])
        for parent in parents:
            child_map.setdefault(parent, []).append(uid)
    sources = {
        source_id(profile, s.name): {
            "unique_id": source_id(profile, s.name),
            "resource_type": "source",
            "name": s.name,
            "table": ".".join(s.table),
            "key": s.key,
            "entity": s.entity,
            "events_of": s.events_of,
            "file": s.loc.file if s.loc else None,
            "line": s.loc.line if s.loc else None,
        }
        for s in project.sources.values()
    }
    return {
        "metadata": _metadata(ctx, MANIFEST_SCHEMA, adapter_type),
        "segments": segments,
        "sources": sources,
        "parent_map": parent_map,
        "child_map": {k: sorted(v) for k, v in child_map.items()},
    }


def run_results(
    ctx, results: list[Result], adapter_type: str, elapsed: float, args: dict[str, Any]
) -> dict[str, Any]:
    return {
        "metadata": _metadata(ctx, RUN_RESULTS_SCHEMA, adapter_type),
        "args": args,
        "elapsed_time": round(elapsed, 6),
        "results": [
            {
                "unique_id": r.unique_id,
                "status": r.status,
                "execution_time": round(r.execution_time, 6),
                "as_of": iso_utc(r.as_of),
                "members": r.members,
                "entered": r.entered,
                "exited": r.exited,
                "mode": r.mode,
                "message": r.message,
            }
            for r in results
        ],
    }


def segment_results(ctx, results, as_of: datetime) -> list[Result]:
    """run_results entries from a run's `SegmentResult`s (`not_run`: skipped, said why)."""
    profile = profile_name(ctx)
    out = []
    for r in results:
        ran = r.status in ("success", "error")
        status = r.status if ran else "skipped"
        message = {
            "skipped": "not due (refresh)",
            "not_run": "not run (--fail-fast)",
        }.get(r.status, r.error)
        out.append(
            Result(
                segment_id(profile, r.segment),
                status,
                execution_time=r.seconds,
                as_of=as_of if ran else None,
                members=r.members if r.status == "success" else None,
                entered=r.entered if r.status == "success" else None,
                exited=r.exited if r.status == "success" else None,
                mode=r.mode if ran else None,
                message=message,
            )
        )
    return out


def _command_args(command: str) -> dict[str, Any]:
    """The command and the options it was given, as dbt's `args` (from click's context)."""
    import click

    args: dict[str, Any] = {"which": command, "argv": sys.argv[1:]}
    click_ctx = click.get_current_context(silent=True)
    if click_ctx is not None:
        for key, value in click_ctx.params.items():
            args[key] = list(value) if isinstance(value, tuple) else value
    return json.loads(json.dumps(args, default=str))


def write_artifacts(
    ctx,
    project,
    command: str,
    results: list[Result] | None = None,
    *,
    adapter_type: str | None = None,
    elapsed: float | None = None,
) -> Path:
    """Write target/manifest.json, and target/run_results.json when `results` is given
    (also an empty list). Returns the target folder."""
    import time

    if adapter_type is None:
        adapter_type = ctx.target().type if ctx.has_profile() else "duckdb"
    out = Path(project.root) / "target"
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "manifest.json", manifest(ctx, project, adapter_type))
    if results is not None:
        if elapsed is None:
            elapsed = time.perf_counter() - ctx.started
        _write(
            out / "run_results.json",
            run_results(ctx, results, adapter_type, elapsed, _command_args(command)),
        )
    return out


def _write(path: Path, document: dict[str, Any]) -> None:
    """Atomically: a reader (an orchestrator polling the file) never sees half of it."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
