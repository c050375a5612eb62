"""The `segsql` command line (dbt conventions: options after the command, exit codes
0 success / 1 a run or test failed / 2 a definition, profile or usage error).

Heavy modules (duckdb, sqlglot) are imported inside the commands, so `--help` is fast.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import datetime
from typing import Any

import click

from .errors import SegsqlError, UsageError, printable

_SECRETS: list[str] = []


def redact(text: str) -> str:
    for secret in _SECRETS:
        if len(secret) >= 3:
            text = text.replace(secret, "****")
    return text


def parse_as_of(value: str | None) -> datetime | None:
    """ISO date or timestamp, with or without an offset (Airflow's `+00:00`, or `Z`)."""
    if value is None:
        return None
    from .clock import parse_instant

    try:
        return parse_instant(value)
    except (ValueError, OverflowError):
        raise UsageError(
            "--as-of expects an ISO date or timestamp such as 2026-01-01, "
            f"2026-01-01T06:00:00 or 2026-01-01T06:00:00+00:00; got {value!r}"
        ) from None


FUTURE_SLACK_MINUTES = 5  # clock skew between the scheduler and this machine


def refuse_future(when: datetime, now: datetime) -> None:
    """An evaluation time more than a few minutes after now is a usage error: state rows
    at T would make every later run until T refuse to go back in time."""
    from datetime import timedelta

    if when > now + timedelta(minutes=FUTURE_SLACK_MINUTES):
        raise UsageError(
            f"--as-of {when:%Y-%m-%d %H:%M:%S} UTC is in the future (now is "
            f"{now:%Y-%m-%d %H:%M:%S} UTC; up to {FUTURE_SLACK_MINUTES} minutes ahead is "
            "allowed): a run in the future would block every later run until that time, "
            "because runs of a target must go forward in time; nothing was written"
        )


# ---------------------------------------------------------------- shared options


def common(func):
    """Options every command takes, and the translation of errors into exit codes."""

    @click.option(
        "--project-dir",
        type=click.Path(file_okay=False),
        default=None,
        envvar="SEGSQL_PROJECT_DIR",
        help="The segsql project (default: current dir).",
    )
    @click.option(
        "--profiles-dir",
        default=None,
        help="Folder holding profiles.yml (default: $SEGSQL_PROFILES_DIR, else the project dir).",
    )
    @click.option("--profile", default=None, help="Profile in profiles.yml (default: segsql).")
    @click.option(
        "--target", "-t", default=None, help="Target of the profile (default: its `target:`)."
    )
    @click.option("--debug", is_flag=True, help="Show SQL statements and full tracebacks.")
    @functools.wraps(func)
    def wrapper(project_dir, profiles_dir, profile, target, debug, **kwargs):
        from pathlib import Path

        if debug:
            import logging

            logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        ctx = Context(Path(project_dir or ".").resolve(), profiles_dir, profile, target, debug)
        try:
            return func(ctx, **kwargs)
        except SegsqlError as err:
            if debug:
                raise
            click.echo(printable(redact(f"Error: {err}")), err=True)
            sys.exit(err.exit_code)
        except BrokenPipeError:  # `segsql ls | head`: the reader left; that is fine
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as err:  # an engine's own error type, or a bug
            if debug:
                raise
            first = (redact(str(err)).splitlines() or [""])[0]
            click.echo(
                printable(f"Error: {type(err).__name__}: {first}")
                + "\n(run with --debug for the full traceback)",
                err=True,
            )
            sys.exit(1)

    return wrapper


class Context:
    def __init__(self, project_dir, profiles_dir, profile, target, debug):
        self.project_dir, self.profiles_dir = project_dir, profiles_dir
        self.profile, self.target_name, self.debug = profile, target, debug
        self._target = None

    def target(self):
        if self._target is None:
            from .definitions.profiles import load_target

            self._target = load_target(
                self.project_dir, self.profiles_dir, self.profile, self.target_name
            )
            _SECRETS.extend(self._target.secrets())
        return self._target

    def has_profile(self) -> bool:
        from .definitions.profiles import profiles_path

        return profiles_path(self.project_dir, self.profiles_dir).is_file()

    def project(self, sql_dialect: str | None = None):
        from .definitions.project import load_project

        if sql_dialect is None:
            sql_dialect = self.target().type if self.has_profile() else "duckdb"
        return load_project(self.project_dir, sql_dialect)

    def connect(self, lock_timeout: float = 0):
        from .adapters import connect

        return connect(self.target(), lock_timeout)


class GreedyOption(click.Option):
    """A repeatable option that also takes the arguments after its value, up to the next
    option, as dbt's `--select a b` does: `--select a b` is `--select a --select b`.

    Click has no variable `nargs` for options; like dbt's MultiOption, this wraps the
    parser's handler of the option (click's parser is not public API: without the hooks
    this relies on, the option still works with one value per `--select`)."""

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        opts = {**getattr(parser, "_long_opt", {}), **getattr(parser, "_short_opt", {})}
        handler = next((opts[name] for name in self.opts if name in opts), None)
        process = getattr(handler, "process", None)
        if process is None:
            return

        def greedy(value, state) -> None:
            if isinstance(value, str) and value.startswith("-"):  # `--select --all`
                name = self.opts[0]
                raise click.BadOptionUsage(
                    name, f"Option '{name}' requires a selector, not the option '{value}'.", ctx
                )
            process(value, state)
            while state.rargs and not state.rargs[0].startswith("-"):
                process(state.rargs.pop(0), state)

        handler.process = greedy


def select_option(func):
    return click.option(
        "--select",
        "-s",
        "select",
        cls=GreedyOption,
        multiple=True,
        metavar="SELECTOR...",
        help="Segments to pick (default: every enabled one): a name, tag:X, +name (with "
        "the segments it references), name+ (with those referencing it), a,b (both). "
        'Several are a union: --select a b, --select "a b" or --select a --select b.',
    )(func)


def say(message: str) -> None:
    click.echo(f"{datetime.now():%H:%M:%S}  {message}")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="segsql")
def cli() -> None:
    """segsql: dynamic customer segments, compiled to SQL and refreshed in your warehouse.

    \b
    Quick start (embedded DuckDB):
      segsql demo              write a demo warehouse (10k users, 1M events)
      segsql run --all         refresh every segment, record who entered and exited
      segsql compile -s power_users --dialect snowflake
    """


# ---------------------------------------------------------------- compile


@cli.command()
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
    from .compiler import plan_for, view_query
    from .dialects import get_dialect
    from .model.select import select as pick
    from .plan import explain

    if dialect is None:
        dialect = ctx.target().type if ctx.has_profile() else "duckdb"
    d = get_dialect(dialect)
    project = ctx.project()
    segments = pick(project, select)
    if show_plan:
        by_entity: dict[str, dict] = {}
        for seg in segments:
            by_entity.setdefault(seg.entity, {})[seg.name] = seg.where
        for entity, outputs in by_entity.items():
            click.echo(explain(plan_for(project, entity, outputs, d)))
        return
    out_dir = ctx.project_dir / "target" / "compiled"
    out_dir.mkdir(parents=True, exist_ok=True)
    for seg in segments:
        sql = d.sql(view_query(project, seg, d), pretty=True) + ";\n"
        path = out_dir / f"{seg.name}.sql"
        path.write_text(f"-- segment {seg.name} ({dialect})\n{sql}")
        if quiet:
            click.echo(str(path.relative_to(ctx.project_dir)))
        else:
            click.echo(f"-- {seg.name}: {path.relative_to(ctx.project_dir)}\n{sql}")


# ---------------------------------------------------------------- run


@cli.command()
@common
@select_option
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Evaluation time T: ISO date or timestamp, offsets allowed (default: now, UTC); "
    "at most 5 minutes after now.",
)
@click.option(
    "--all", "force", is_flag=True, help="Refresh every selected segment, ignoring `refresh:`."
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first segment that fails.")
@click.option(
    "--lock-timeout",
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another run on the same target to finish, then exit 1 naming it.",
)
def run(ctx: Context, select, as_of, force, fail_fast, lock_timeout) -> None:
    """Refresh the due segments and append membership changes."""
    from .clock import utcnow
    from .errors import RunFailed
    from .model.select import select as pick
    from .runner.run import run_segments

    now = utcnow()
    when = parse_as_of(as_of) or now
    refuse_future(when, now)
    project = ctx.project()
    segments = pick(project, select)
    target = ctx.target()
    say(
        f"segsql run: {len(segments)} segment(s), target '{target.name}' ({target.type}), "
        f"schema '{target.schema}', as of {when:%Y-%m-%d %H:%M:%S} UTC"
    )
    started = time.perf_counter()
    adapter = ctx.connect(lock_timeout)
    tty = sys.stdout.isatty()

    def report(event, result, i, n):
        if event == "start":
            if tty:
                say(f"{i} of {n} START {result.segment} ...")
            return
        if result.status == "success":
            say(
                f"{i} of {n} OK    {result.segment:<28} members {result.members:>8}  "
                f"+{result.entered} -{result.exited}  in {result.seconds:.2f}s"
            )
        else:
            say(f"{i} of {n} ERROR {result.segment:<28} {printable(redact(result.error or ''))}")

    try:
        results = run_segments(
            adapter,
            project,
            segments,
            when,
            force=force,
            fail_fast=fail_fast,
            report=report,
        )
    finally:
        adapter.close()
    ok = sum(r.status == "success" for r in results)
    failed = [r for r in results if r.status == "error"]
    skipped = sum(r.status == "skipped" for r in results)
    not_run = sum(r.status == "not_run" for r in results)  # --fail-fast stopped before them
    say(
        f"Done in {time.perf_counter() - started:.2f}s: {ok} refreshed, {len(failed)} failed, "
        f"{skipped} not due" + (f", {not_run} not run (--fail-fast)" if not_run else "")
    )
    if failed:
        raise RunFailed(
            f"{len(failed)} segment(s) failed: "
            + ", ".join(r.segment for r in failed)
            + (f"; {not_run} not run (--fail-fast)" if not_run else "")
        )


# ---------------------------------------------------------------- validate, ls


@cli.command()
@common
@click.option("--offline", is_flag=True, help="Check the definitions only (no connection).")
def validate(ctx: Context, offline) -> None:
    """Check the definitions, then the warehouse: tables, columns and event names.

    Exits 2 when it finds any problem, in the definitions or in the warehouse."""
    from .errors import DefinitionError
    from .runner.checks import check_warehouse

    project = ctx.project()
    n = len(project.segments)
    click.echo(
        f"Definitions OK: {len(project.sources)} source(s), {n} segment(s), "
        f"{len(project.fixtures)} test(s)."
    )
    if offline:
        return
    adapter = ctx.connect()
    try:
        problems = check_warehouse(adapter, project)
    finally:
        adapter.close()
    for p in problems:
        click.echo(printable(redact(f"Error: {p}")), err=True)
    if problems:  # a definition that does not fit the warehouse: exit 2, like a bad file
        raise DefinitionError(f"{len(problems)} problem(s) found in the warehouse")
    click.echo(
        f"Warehouse OK: every table, column and event name used exists "
        f"(target '{ctx.target().name}')."
    )


@cli.command(name="ls")
@common
@select_option
def ls(ctx: Context, select) -> None:
    """List segments: entity, tags, owner, refresh, last run and size."""
    from .model.select import select as pick
    from .runner.status import segment_status

    project = ctx.project()
    segments = pick(project, select, include_disabled=True)
    status: dict[str, Any] = {}
    if ctx.has_profile():
        try:
            adapter = ctx.connect()
            try:
                status = segment_status(adapter)
            finally:
                adapter.close()
        except SegsqlError as err:
            click.echo(f"(no run state: {printable(redact(str(err)))})", err=True)
    rows = [("SEGMENT", "ENTITY", "TAGS", "OWNER", "REFRESH", "LAST RUN (as of)", "MEMBERS")]
    for s in segments:
        last = status.get(s.name)
        rows.append(
            (
                s.name + ("" if s.enabled else " (disabled)"),
                s.entity,
                ",".join(s.tags) or "-",
                s.owner or "-",
                str(s.refresh or "every run"),
                f"{last[0]:%Y-%m-%d %H:%M}" if last else "never",
                str(last[1]) if last else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


# ---------------------------------------------------------------- test, demo


@cli.command()
@common
@select_option
def test(ctx: Context, select) -> None:
    """Run the `tests:` fixtures, each in a fresh embedded DuckDB."""
    from .errors import RunFailed
    from .model.select import select as pick
    from .runner.fixtures import run_fixtures

    project = ctx.project()
    chosen = {s.name for s in pick(project, select)} if select else None
    results = run_fixtures(project, chosen)
    failed = 0
    for r in results:
        if r.ok:
            click.echo(f"PASS  {r.fixture.name} ({r.fixture.segment})")
        else:
            failed += 1
            click.echo(f"FAIL  {r.fixture.name} ({r.fixture.segment}) at {r.fixture.loc}")
            for line in r.details:
                click.echo(f"      {line}")
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise RunFailed(f"{failed} test(s) failed")


@cli.command()
@common
@click.option("--users", default=10_000, show_default=True)
@click.option("--events", default=1_000_000, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--end", default=None, help="Last day of data (default: today, UTC).")
def demo(ctx: Context, users, events, seed, end) -> None:
    """Write a deterministic demo warehouse (SaaS + e-commerce) into the DuckDB target."""
    from .runner.demo import generate

    target = ctx.target()
    if target.type != "duckdb":
        raise UsageError(
            f"`segsql demo` writes to a DuckDB target; '{target.name}' is {target.type}"
        )
    path = target.options.get("path", "warehouse.duckdb")
    if not os.path.isabs(path):
        path = str(ctx.project_dir / path)
    started = time.perf_counter()
    counts = generate(path, users=users, events=events, seed=seed, end=parse_as_of(end))
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    say(f"Demo warehouse written to {path} in {time.perf_counter() - started:.1f}s: {summary}")


def main() -> None:
    cli(prog_name="segsql")


if __name__ == "__main__":
    main()
