"""Fixture databases shaped like Dentrix and Eaglesoft, for tests, demos and benchmarks.

The synthetic practice is the Open Dental one (`tc_sync.demo.practice`): the same
`PracticeSpec` is generated into a scratch SQLite file, then `tc_sync.demo.dentrix` and
`tc_sync.demo.eaglesoft` rewrite it into the tables and views their PMS has. This module holds
what both share: a small table description and writers for PostgreSQL (a schema, with a
read-only role granted SELECT only) and SQLite (a file an ODBC session ATTACHes under the
schema's name). A table's change-timestamp column, if it has one, is set by the server on every
insert and update, as c-treeACE does.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tc_sync.demo.context import Row
from tc_sync.demo.spec import PracticeSpec
from tc_sync.demo.writers import write_sqlite

NONE_DATE = "0001-01-01"

_PG_TYPES = {"int": "integer", "bigint": "bigint", "text": "varchar(120)", "date": "date",
             "timestamp": "timestamp", "money": "numeric(12,2)"}
_SQLITE_TYPES = {"int": "INTEGER", "bigint": "INTEGER", "text": "VARCHAR(120)", "date": "DATE",
                 "timestamp": "DATETIME", "money": "REAL"}
# REAL, not NUMERIC: SQLite stores a NUMERIC 0.0 as the integer 0, and libsqliteodbc types a
# computed column (a SUM) by its first value, so later amounts would lose their cents.


@dataclass(frozen=True)
class Table:
    """A fixture table: columns as (name, type), where type is int, bigint, text, char(n),
    date, timestamp or money."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    touched: str | None = None
    """A change-timestamp column the server sets on insert and update."""
    hidden: bool = False
    """A base table behind a view: the read-only role is not granted it."""
    indexes: tuple[str, ...] = ()
    """Columns with an index of their own (foreign keys the adapter's SQL joins on)."""

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


@dataclass(frozen=True)
class Fixture:
    """A PMS schema: its tables, and views written with {s} before every table name."""

    schema: str
    tables: tuple[Table, ...]
    views: tuple[tuple[str, str], ...] = ()

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)


def _type(kind: str, types: Mapping[str, str]) -> str:
    if kind.startswith("char("):
        return f"char({int(kind[5:-1])})"
    return types[kind]


@contextmanager
def open_practice(spec: PracticeSpec) -> Iterator[sqlite3.Connection]:
    """The synthetic practice in Open Dental's tables, in a scratch SQLite database."""
    with tempfile.TemporaryDirectory(prefix="tc-sync-practice-") as folder:
        path = Path(folder) / "practice.db"
        write_sqlite(path, spec)
        connection = sqlite3.connect(path)
        try:
            yield connection
        finally:
            connection.close()


def day(value: Any) -> str | None:
    """An Open Dental date as the PMS writes it: None for Open Dental's "no date"."""
    if value is None or str(value) < "1900":
        return None
    return str(value)[:10]


def moment(value: Any) -> str | None:
    """An Open Dental date-time, or None for "no date"."""
    if value is None or str(value) < "1900":
        return None
    return str(value)


# --- PostgreSQL -------------------------------------------------------------------------------


def write_postgres(connection: Any, fixture: Fixture, rows: Mapping[str, Sequence[Row]]) -> None:
    """Create the schema, its tables (loaded with COPY), views and change-time triggers.

    `connection` is a psycopg 3 connection in autocommit to the target database. Unquoted,
    the schema name folds to lower case, as the adapters' unquoted SQL expects.
    """
    schema = fixture.schema
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute(
            f"CREATE FUNCTION {schema}.tc_touch() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], "
            "clock_timestamp()::timestamp)); RETURN NEW; END $$")
        for table in fixture.tables:
            columns = ", ".join(
                f"{name} {_type(kind, _PG_TYPES)}"
                + (" DEFAULT clock_timestamp()::timestamp" if name == table.touched else "")
                for name, kind in table.columns)
            cursor.execute(f"CREATE TABLE {schema}.{table.name} ({columns}, "
                           f"PRIMARY KEY ({', '.join(table.key)}))")
            with cursor.copy(f"COPY {schema}.{table.name} ({', '.join(table.names)}) "
                             "FROM STDIN") as copy:
                for row in rows.get(table.name, ()):
                    copy.write_row(row)
            for column in table.indexes:
                cursor.execute(f"CREATE INDEX {table.name}_{column} "
                               f"ON {schema}.{table.name} ({column})")
            if table.touched:
                cursor.execute(
                    f"CREATE TRIGGER {table.name}_touch BEFORE UPDATE ON {schema}.{table.name} "
                    f"FOR EACH ROW EXECUTE FUNCTION {schema}.tc_touch('{table.touched}')")
        for name, sql in fixture.views:
            cursor.execute(f"CREATE VIEW {schema}.{name} AS {sql.format(s=schema + '.')}")
        cursor.execute("ANALYZE")


def grant_read_only(connection: Any, fixture: Fixture, role: str, database: str) -> None:
    """Create a login role that may only SELECT what the PMS vendor's read-only user may:
    the views and the tables that are not hidden behind one."""
    schema = fixture.schema
    objects = [f"{schema}.{t.name}" for t in fixture.tables if not t.hidden]
    objects += [f"{schema}.{name}" for name, _ in fixture.views]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN")
        cursor.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        cursor.execute(f"GRANT SELECT ON {', '.join(objects)} TO {role}")


# --- SQLite -----------------------------------------------------------------------------------


def write_sqlite_fixture(path: Path, fixture: Fixture, rows: Mapping[str, Sequence[Row]]
                         ) -> None:
    """Write the fixture as a SQLite file (replacing one there); an ODBC session reads it
    after ``ATTACH DATABASE 'path' AS <schema>``."""
    if path.exists():
        path.unlink()
    connection = sqlite3.connect(path)
    try:
        for table in fixture.tables:
            columns = ", ".join(
                f"{name} {_type(kind, _SQLITE_TYPES)}"
                + (" DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now', 'localtime'))"
                   if name == table.touched else "")
                for name, kind in table.columns)
            connection.execute(f"CREATE TABLE {table.name} ({columns}, "
                               f"PRIMARY KEY ({', '.join(table.key)}))")
            marks = ", ".join("?" * len(table.columns))
            connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES ({marks})",
                rows.get(table.name, ()))
            for column in table.indexes:
                connection.execute(f"CREATE INDEX {table.name}_{column} "
                                   f"ON {table.name} ({column})")
            if table.touched:
                connection.execute(
                    f"CREATE TRIGGER {table.name}_touch AFTER UPDATE ON {table.name} "
                    f"FOR EACH ROW WHEN NEW.{table.touched} IS OLD.{table.touched} BEGIN "
                    f"UPDATE {table.name} SET {table.touched} = strftime('%Y-%m-%d %H:%M:%f', "
                    "'now', 'localtime') WHERE rowid = NEW.rowid; END")
        for name, sql in fixture.views:
            connection.execute(f"CREATE VIEW {name} AS {sql.format(s='')}")
        connection.commit()
    finally:
        connection.close()


def fixture_main(argv: Sequence[str] | None, *, pms: str, schema: str,
                 write: Callable[[Path, PracticeSpec], None]) -> int:
    """The command line of a PMS-shaped fixture module: write the practice to a SQLite file."""
    parser = argparse.ArgumentParser(prog=f"python -m tc_sync.demo.{pms.lower()}",
                                     description=f"A {pms}-shaped synthetic practice.")
    parser.add_argument("--sqlite", type=Path, required=True)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    write(args.sqlite, PracticeSpec(patients=args.patients, today=args.today or date.today()))
    sys.stdout.write(f"wrote {args.sqlite}: ATTACH it AS {schema}\n")
    return 0
