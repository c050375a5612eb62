"""`segsql compile`: views to target/compiled/, or the refresh plan."""

from __future__ import annotations

import click

from .options import Context, common, output, select_option


@click.command()
@common
@select_option
@click.option(
    "--dialect",
    default=None,
    help="Compile for this engine (duckdb, postgres, clickhouse, spark, databricks, "
    "snowflake, bigquery, redshift, trino) without any profile or connection.",
)
@click.option(
    "--plan",
    "show_plan",
    is_flag=True,
    help="Print the refresh plan (features per entity type) instead of the views.",
)
@click.option("--quiet", "-q", is_flag=True, help="Write the files, print only their paths.")
def compile(ctx: Context, select, dialect, show_plan, quiet) -> None:
    """Compile the segments' views to target/compiled/<segment>.sql (no connection needed)."""
    from ..compiler import plan_for, view_query
    from ..dialects import get_dialect
    from ..model.guards import guarded
    from ..model.select import select as pick
    from ..plan import explain, explain_narrowing
    from .artifacts import write_artifacts

    stateless = False  # the plan of a target with `incremental: false` says so
    if dialect is None:
        dialect = ctx.target().type if ctx.has_profile() else "duckdb"
        stateless = ctx.has_profile() and not ctx.target().incremental
    d = get_dialect(dialect)
    project = ctx.project()
    segments = pick(project, select)
    if show_plan:
        by_entity: dict[str, dict] = {}
        for seg in segments:
            by_entity.setdefault(seg.entity, {})[seg.name] = guarded(project, seg)
        plans = []
        for entity, outputs in by_entity.items():
            ours = [s for s in segments if s.entity == entity]
            narrowing = [] if stateless else explain_narrowing(project, entity, ours)
            plans.append("\n".join([explain(plan_for(project, entity, outputs, d)), *narrowing]))
        if stateless:
            plans.insert(
                0,
                f"target '{ctx.target().name}' has `incremental: false`: no feature is kept, "
                "every run evaluates in full",
            )
        output("\n".join(plans))
        return
    out_dir = ctx.project_dir / "target" / "compiled"
    out_dir.mkdir(parents=True, exist_ok=True)
    printed = []
    for seg in segments:
        sql = d.sql(view_query(project, seg, d), pretty=True) + ";\n"
        path = out_dir / f"{seg.name}.sql"
        path.write_text(f"-- segment {seg.name} ({dialect})\n{sql}")
        relative = path.relative_to(ctx.project_dir)
        printed.append(str(relative) if quiet else f"-- {seg.name}: {relative}\n{sql}")
    write_artifacts(ctx, project, "compile", adapter_type=dialect)
    output("\n".join(printed) + "\n", dialect=dialect, segments=[s.name for s in segments])
