"""Everything a command prints goes through here, so that `--log-format json` (env
`SEGSQL_LOG_FORMAT`) holds for every command, also those added later:

- `say(msg, event=..., **fields)`: a progress line (text: `HH:MM:SS  msg`; json: one
  object with `ts`, `level`, `event`, `msg` and the fields); `line(...)` the same
  without the time in text;
- `output(data)`: the command's result (compiled SQL, a `--format json` document): text
  as is, or one object with `event` "output" and `data`;
- `warn(msg)` / `error(msg)`: on stderr as text; in json, objects on stdout.

In json mode stdout carries JSON lines only: whatever else a command writes there
(a stray `click.echo`) is collected and emitted as one "output" object at the end, and
the `segsql` loggers' records become objects too.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

import click

FORMATS = ("text", "json")


class _State:
    format = "text"
    invocation_id: str | None = None
    stdout: Any = None  # the real stdout while json mode collects stray writes


_state = _State()


def json_mode() -> bool:
    return _state.format == "json"


def _stream():
    return _state.stdout if _state.stdout is not None else sys.stdout


def _emit(level: str, event: str, msg: str, fields: dict[str, Any]) -> None:
    record = {
        "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "event": event,
        "msg": msg,
        "invocation_id": _state.invocation_id,
        **fields,
    }
    stream = _stream()
    stream.write(json.dumps(record, default=str) + "\n")
    stream.flush()


def say(message: str, *, event: str = "info", level: str = "info", **fields: Any) -> None:
    """A progress line: text on stdout with the local time, or one JSON object."""
    if json_mode():
        _emit(level, event, message, fields)
    else:
        click.echo(f"{datetime.now():%H:%M:%S}  {message}")


def line(message: str, *, event: str = "info", level: str = "info", **fields: Any) -> None:
    """Like `say`, without the time in text (lines of a report, such as `segsql test`'s)."""
    if json_mode():
        _emit(level, event, message, fields)
    else:
        click.echo(message)


def output(data: Any, *, msg: str = "", **fields: Any) -> None:
    """The command's result: text (or a JSON document, printed indented) on stdout; in json
    mode one object with event "output" and `data`."""
    if json_mode():
        _emit("info", "output", msg, {**fields, "data": data})
    elif isinstance(data, str):
        if data:  # an empty result (lookup of an id without history) prints nothing
            click.echo(data, nl=not data.endswith("\n"))
    else:
        click.echo(json.dumps(data, indent=2, default=str))


def warn(message: str, *, event: str = "warning", **fields: Any) -> None:
    if json_mode():
        _emit("warn", event, message, fields)
    else:
        click.echo(message, err=True)


def error(message: str, *, event: str = "error", **fields: Any) -> None:
    if json_mode():
        _emit("error", event, message, fields)
    else:
        click.echo(message, err=True)


class _JsonLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = {"WARNING": "warn", "CRITICAL": "error"}.get(record.levelname, record.levelname)
        _emit(level.lower(), record.name, record.getMessage(), {})


_handler = _JsonLogHandler()


def begin(log_format: str, invocation_id: str, debug: bool) -> None:
    """Set the format for this command (the `common` wrapper calls it first)."""
    _state.format, _state.invocation_id = log_format, invocation_id
    logger = logging.getLogger("segsql")
    if log_format == "json":
        _state.stdout = sys.stdout
        sys.stdout = io.StringIO()  # stray writes, emitted by `end` as one "output"
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        logger.setLevel(logging.DEBUG if debug else logging.INFO)
        logger.propagate = False


def end() -> None:
    """Undo `begin`; in json mode, emit what was written to stdout past these functions."""
    if _state.stdout is not None:
        stray = sys.stdout.getvalue() if isinstance(sys.stdout, io.StringIO) else ""
        sys.stdout = _state.stdout
        _state.stdout = None
        if stray:
            _emit("info", "output", "", {"data": stray})
        logger = logging.getLogger("segsql")
        logger.removeHandler(_handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    _state.format = "text"
