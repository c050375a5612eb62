"""What every command shares: the common options (`--log-format` included), the translation
of errors into exit codes, `--select`, `--as-of` parsing, secret redaction. Printing goes
through `output.py` (`say`, `output`, `warn`, `error`), re-exported here."""

from __future__ import annotations

import functools
import os
import sys
import time
import uuid
from datetime import datetime

import click

from ..errors import SegsqlError, UsageError, printable
from . import output as out
from .output import FORMATS, error, json_mode, line, output, say, warn

__all__ = ["error", "json_mode", "line", "output", "say", "warn"]

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
    from ..clock import parse_instant

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
    @click.option(
        "--log-format",
        type=click.Choice(FORMATS),
        default="text",
        envvar="SEGSQL_LOG_FORMAT",
        show_envvar=True,
        help="json: one JSON object per line on stdout (ts, level, event, msg), errors and "
        "the command's result (event 'output') included; nothing else on stdout.",
    )
    @functools.wraps(func)
    def wrapper(project_dir, profiles_dir, profile, target, debug, log_format, **kwargs):
        from pathlib import Path

        ctx = Context(Path(project_dir or ".").resolve(), profiles_dir, profile, target, debug)
        out.begin(log_format, ctx.invocation_id, debug)
        if debug and log_format == "text":
            import logging

            logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        try:
            return func(ctx, **kwargs)
        except SegsqlError as err:
            if debug and log_format == "text":
                raise
            error(printable(redact(f"Error: {err}")), exit_code=err.exit_code)
            sys.exit(err.exit_code)
        except BrokenPipeError:  # `segsql ls | head`: the reader left; that is fine
            out.end()
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except KeyboardInterrupt:
            error("Interrupted.", exit_code=130)
            sys.exit(130)
        except Exception as err:  # an engine's own error type, or a bug
            if debug and log_format == "text":
                raise
            first = (redact(str(err)).splitlines() or [""])[0]
            text = printable(f"Error: {type(err).__name__}: {first}")
            if json_mode():
                import traceback

                extra = {"traceback": redact(traceback.format_exc())} if debug else {}
                error(text, exit_code=1, error_type=type(err).__name__, **extra)
            else:
                error(text + "\n(run with --debug for the full traceback)")
            sys.exit(1)
        finally:
            out.end()

    return wrapper


class Context:
    def __init__(self, project_dir, profiles_dir, profile, target, debug):
        self.project_dir, self.profiles_dir = project_dir, profiles_dir
        self.profile, self.target_name, self.debug = profile, target, debug
        self._target = None
        self.invocation_id = str(uuid.uuid4())  # of the artifacts and the JSON log lines
        self.started = time.perf_counter()

    def target(self):
        if self._target is None:
            from ..definitions.profiles import load_target

            self._target = load_target(
                self.project_dir, self.profiles_dir, self.profile, self.target_name
            )
            _SECRETS.extend(self._target.secrets())
        return self._target

    def has_profile(self) -> bool:
        from ..definitions.profiles import profiles_path

        return profiles_path(self.project_dir, self.profiles_dir).is_file()

    def project(self, sql_dialect: str | None = None):
        from ..definitions.project import load_project

        if sql_dialect is None:
            sql_dialect = self.target().type if self.has_profile() else "duckdb"
        return load_project(self.project_dir, sql_dialect)

    def connect(self, lock_timeout: float = 0):
        from ..adapters import connect

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


def format_option(func):
    """`--format text|json` (default text): JSON goes to stdout, one document."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output: text for people, json (one document on stdout) for programs.",
    )(func)


def as_of_option(func):
    """`--as-of T` of the commands that read at T (default now, UTC)."""
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        help="Evaluation time T: ISO date or timestamp, offsets allowed (default: now, UTC).",
    )(func)
