"""Dentrix- and Eaglesoft-shaped databases read through real ODBC drivers (tests' helpers).

The PMS side is PostgreSQL holding the fixture schemas (admin, ppm) read through Debian's
psqlODBC driver as a role granted SELECT only, or a SQLite file read through libsqliteodbc after
an ATTACH. Rows are changed the way the front desk would, as the database owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from tc_sync.config import SourceSettings
from tc_sync.demo import dentrix, eaglesoft
from tc_sync.demo.odbcfixture import (
    Fixture,
    grant_read_only,
    write_postgres,
    write_sqlite_fixture,
)
from tc_sync.demo.practice import PracticeSpec, Row

from .conftest import unavailable

TODAY = date(2026, 11, 26)
PG_DRIVER = "PostgreSQL Unicode"
SQLITE_DRIVER = "SQLite3"
MODULES = {"dentrix": dentrix, "eaglesoft": eaglesoft}


def require_odbc_driver(name: str) -> None:
    """Skip (fail under CI) unless pyodbc loads and unixODBC has the driver registered."""
    try:
        import pyodbc
    except ImportError as error:
        unavailable(f"pyodbc cannot be loaded ({error}): pip install 'tc-sync[odbc]'")
        return
    if name not in pyodbc.drivers():
        unavailable(f"the ODBC driver '{name}' is not registered (apt-get install "
                    "odbc-postgresql libsqliteodbc)")


@cache
def practice_rows(kind: str) -> dict[str, list[Row]]:
    """The test practice in one PMS's tables (built once per session; never changed)."""
    return MODULES[kind].build(PracticeSpec(today=TODAY))


def fixture_of(kind: str) -> Fixture:
    fixture: Fixture = MODULES[kind].FIXTURE
    return fixture


@dataclass
class PmsDatabase:
    """A PostgreSQL database holding one PMS's schema, and its read-only role."""

    kind: str
    name: str
    role: str
    owner: psycopg.Connection[Any]
    host: str
    port: int

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL as the database owner (the front desk); rows if it returns any."""
        with self.owner.cursor() as cursor:
            cursor.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, sql: str, *params: Any) -> Any:
        rows = self.execute(sql, *params)
        return rows[0][0] if rows else None

    def connection_string(self, user: str | None = None) -> str:
        return (f"DRIVER={{{PG_DRIVER}}};Server={self.host};Port={self.port};"
                f"Database={self.name};UID={user or self.role}")

    def source(self, **odbc: Any) -> SourceSettings:
        """A source reading this database as the read-only role."""
        return SourceSettings(kind=self.kind, connection={
            "driver": "odbc", "connect_timeout": 5,
            "odbc": {"connection_string": self.connection_string(), **odbc}})


@contextmanager
def pms_database(postgres_admin: sa.Engine, kind: str) -> Iterator[PmsDatabase]:
    """A fresh database with `kind`'s fixture schema and a SELECT-only role; dropped after."""
    url = postgres_admin.url
    name = f"tc_test_{uuid.uuid4().hex[:10]}"
    role = f"{name}_ro"
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    owner_url = url.set(database=name, drivername="postgresql").render_as_string(
        hide_password=False)
    owner = psycopg.connect(owner_url, autocommit=True)
    try:
        write_postgres(owner, fixture_of(kind), practice_rows(kind))
        grant_read_only(owner, fixture_of(kind), role, name)
        yield PmsDatabase(kind, name, role, owner, url.host or "127.0.0.1", url.port or 5432)
    finally:
        owner.close()
        with postgres_admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


def sqlite_source(tmp_path: Path, kind: str) -> SourceSettings:
    """A source reading the fixture from a SQLite file through libsqliteodbc.

    BigInt=1 makes the driver report SQLite integers as 64-bit (two-column keys need it).
    """
    path = tmp_path / f"{kind}.db"
    write_sqlite_fixture(path, fixture_of(kind), practice_rows(kind))
    return SourceSettings(kind=kind, connection={"driver": "odbc", "odbc": {
        "connection_string": f"DRIVER={{{SQLITE_DRIVER}}};Database=:memory:;BigInt=1",
        "session": [f"ATTACH DATABASE '{path}' AS {fixture_of(kind).schema}"]}})
