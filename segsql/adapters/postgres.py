"""Postgres (psycopg 3). Redshift speaks the same protocol but is compile-only for now."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ..errors import WarehouseError
from .base import Adapter


class PostgresAdapter(Adapter):
    default_schema = "public"

    def __init__(self, target: Any):
        super().__init__(target)
        import psycopg

        o = target.options
        params = {k: o[k] for k in ("host", "port", "user", "password", "dbname", "sslmode")
                  if o.get(k) not in (None, "")}
        params["connect_timeout"] = int(o.get("connect_timeout", 10))
        try:
            self.con = psycopg.connect(autocommit=True, application_name="segsql", **params)
        except psycopg.Error as err:
            raise WarehouseError(f"cannot connect to Postgres at {o.get('host')}:"
                                 f"{o.get('port')}: {str(err).strip().splitlines()[-1]}") from None
        if o.get("statement_timeout"):
            self.con.execute(f"SET statement_timeout = {int(o['statement_timeout'])}")

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)  # no parameters: psycopg sends the text as is (% stays %)

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def close(self) -> None:
        self.con.close()

    def replace_view(self, name: str, query: exp.Select) -> None:
        """CREATE OR REPLACE VIEW refuses to change a view's columns: drop and create in
        one transaction instead."""
        with self.transaction():
            self.execute(exp.Drop(tables=[self.table(name)], kind="VIEW", exists=True))
            self.execute(exp.Create(this=self.table(name), kind="VIEW", expression=query))
