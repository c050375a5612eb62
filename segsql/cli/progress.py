"""Progress of a long command: on a terminal a bar under the lines (click's own
`progressbar`: no new dependency, and it already knows terminals and widths), elsewhere
(cron, Airflow logs, `--log-format json`) only the lines."""

from __future__ import annotations

import sys

import click

from .output import json_mode, say


class Progress:
    """`line(msg, **fields)` prints a line (above the bar); `advance(label)` moves the bar
    one step. The total is set by `start(total)`, when the command knows it."""

    def __init__(self, label: str, *, bar: bool | None = None) -> None:
        self.label = label
        self.show_bar = (sys.stdout.isatty() and not json_mode()) if bar is None else bar
        self._bar = None
        self._current = ""

    def start(self, total: int) -> None:
        if self.show_bar and self._bar is None and total > 1:
            self._bar = click.progressbar(
                length=total,
                label=self.label,
                show_pos=True,
                show_eta=False,
                item_show_func=lambda _: self._current or None,
                file=sys.stdout,
            )
            self._bar.__enter__()

    def line(self, message: str, **fields) -> None:
        if self._bar is not None:
            click.echo("\r\033[K", nl=False)  # clear the bar, print the line, draw it again
            say(message, **fields)
            self._bar.render_progress()
        else:
            say(message, **fields)

    def current(self, text: str) -> None:
        """What is being worked on (shown beside the bar)."""
        self._current = text
        if self._bar is not None:
            self._bar.render_progress()

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
