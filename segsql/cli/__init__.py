"""The `segsql` command line (dbt conventions: options after the command, exit codes
0 success / 1 a run or test failed / 2 a definition, profile or usage error).

One module per command; heavy modules (duckdb, sqlglot) are imported inside the
commands, so `--help` is fast.
"""

from __future__ import annotations

import click

from .backfill import backfill
from .compile import compile
from .demo import demo
from .diff import diff
from .docs import docs
from .explain import explain
from .lookup import lookup
from .ls import ls
from .prune import prune
from .report import report
from .run import run
from .test import test
from .validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="segsql")
def cli() -> None:
    """segsql: dynamic customer segments, compiled to SQL and refreshed in your warehouse.

    \b
    Quick start (embedded DuckDB):
      segsql demo              write a demo warehouse (10k users, 1M events)
      segsql run --all         refresh every segment, record who entered and exited
      segsql compile -s power_users --dialect snowflake
      segsql docs generate     the catalog site, target/docs/index.html
    """


for command in (
    compile,
    run,
    validate,
    ls,
    test,
    demo,
    report,
    prune,
    docs,
    lookup,
    explain,
    diff,
    backfill,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="segsql")
