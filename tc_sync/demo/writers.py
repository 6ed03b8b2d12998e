"""Writes the demo practice into a SQLite file or a MySQL/MariaDB database, creating the tables
of ``odschema`` first."""

from __future__ import annotations

import queue
import sqlite3
import threading
from pathlib import Path

import pymysql

from tc_sync.demo.context import Row
from tc_sync.demo.generator import iter_rows
from tc_sync.demo.odschema import TABLES, Table, mysql_ddl, sqlite_ddl
from tc_sync.demo.spec import PracticeSpec

__all__ = ["load_mysql", "write_mysql", "write_sqlite"]


def write_sqlite(path: Path, spec: PracticeSpec, version: str = "24.3.10.0") -> None:
    """Create a SQLite database at ``path`` (replacing any file there) holding the practice."""
    path = Path(path)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    try:
        for statement in sqlite_ddl(version):
            conn.execute(statement)
        inserts = {
            t.name: f'INSERT INTO "{t.name}" VALUES ({",".join("?" * len(t.columns_for(version)))})'
            for t in TABLES
            if t.in_version(version)
        }
        batch: dict[str, list[Row]] = {name: [] for name in inserts}
        for name, row in iter_rows(spec, version):
            rows = batch[name]
            rows.append(row)
            if len(rows) >= 5000:
                conn.executemany(inserts[name], rows)
                rows.clear()
        for name, rows in batch.items():
            if rows:
                conn.executemany(inserts[name], rows)
        conn.commit()
    finally:
        conn.close()


_MYSQL_ROWS_PER_INSERT = 4000
_MYSQL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\0": "\\0", "\n": "\\n", "\r": "\\r",
                                "\x1a": "\\Z"})


def _mysql_literal(value: int | float | str | None) -> str:
    if value.__class__ is str:
        text: str = value
        if "'" in text or "\\" in text or "\n" in text or "\r" in text or "\0" in text \
                or "\x1a" in text:
            text = text.translate(_MYSQL_ESCAPES)
        return "'" + text + "'"
    if value is None:
        return "NULL"
    return repr(value)


class _MySQLValues:
    """Formats one table's rows as the VALUES list of a multi-row INSERT.

    Numbers are written as Python writes them, the generator's date and datetime strings are
    quoted as they are, and text (or anything that may be NULL) goes through
    :func:`_mysql_literal`, which escapes it.
    """

    def __init__(self, table: Table, version: str) -> None:
        parts: list[str] = []
        self.convert: list[int] = []
        for i, col in enumerate(table.columns_for(version)):
            if col.nullable or col.kind == "text":
                parts.append("%s")
                self.convert.append(i)
            elif col.kind in ("int", "real"):
                parts.append("%r")
            else:
                parts.append("'%s'")
        self.template = "(" + ",".join(parts) + ")"

    def __call__(self, rows: list[Row]) -> str:
        template, convert, lit = self.template, self.convert, _mysql_literal
        out: list[str] = []
        for row in rows:
            values = list(row)
            for i in convert:
                values[i] = lit(values[i])
            out.append(template % tuple(values))
        return ",".join(out)


class _Sender(threading.Thread):
    """Runs SQL statements on the connection while the main thread generates the next ones."""

    def __init__(self, cursor: pymysql.cursors.Cursor) -> None:
        super().__init__(name="tc-demo-mysql-loader", daemon=True)
        self.cursor = cursor
        self.jobs: queue.Queue[str | None] = queue.Queue(maxsize=6)
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            sql = self.jobs.get()
            if sql is None:
                return
            if self.error is None:
                try:
                    self.cursor.execute(sql)
                except BaseException as exc:  # reported to the caller by put()/finish()
                    self.error = exc

    def put(self, sql: str) -> None:
        """Queue a statement; raise the loader's error if one failed already."""
        if self.error is not None:
            raise self.error
        self.jobs.put(sql)

    def stop(self) -> None:
        """Let the queued statements run (or be skipped after an error) and end the thread."""
        self.jobs.put(None)
        self.join()

    def finish(self) -> None:
        """Stop, and raise the loader's error if a statement failed."""
        self.stop()
        if self.error is not None:
            raise self.error


def _create_mysql_tables(cur: pymysql.cursors.Cursor, engine: str, version: str) -> None:
    for t in TABLES:
        cur.execute(f"DROP TABLE IF EXISTS `{t.name}`")
    for statement in mysql_ddl(version, engine):
        cur.execute(statement)


def _stream_mysql_rows(
    conn: pymysql.connections.Connection, spec: PracticeSpec, version: str
) -> dict[str, int]:
    """Send the rows as multi-row INSERTs, formatting the next batch while one is loading."""
    tables = [t for t in TABLES if t.in_version(version)]
    heads = {
        t.name: f"INSERT INTO `{t.name}` ({','.join(f'`{c}`' for c in t.column_names(version))}) "
        "VALUES "
        for t in tables
    }
    formats = {t.name: _MySQLValues(t, version) for t in tables}
    counts = {t.name: 0 for t in tables}
    batch: dict[str, list[Row]] = {t.name: [] for t in tables}
    sender = _Sender(conn.cursor())
    sender.start()
    try:
        for name, row in iter_rows(spec, version, zero_dates=True):
            rows = batch[name]
            rows.append(row)
            if len(rows) >= _MYSQL_ROWS_PER_INSERT:
                sender.put(heads[name] + formats[name](rows))
                counts[name] += len(rows)
                batch[name] = []
        for name, rows in batch.items():
            if rows:
                sender.put(heads[name] + formats[name](rows))
                counts[name] += len(rows)
    except BaseException:
        sender.stop()
        raise
    sender.finish()
    return counts


def load_mysql(
    conn: pymysql.connections.Connection, spec: PracticeSpec, engine: str, version: str
) -> dict[str, int]:
    """Create the tables and load the rows (see :func:`write_mysql`); return the rows per
    table."""
    cur = conn.cursor()
    cur.execute("SELECT @@SESSION.sql_mode")
    previous = cur.fetchone()
    cur.execute("SET SESSION sql_mode=''")
    tables = [t.name for t in TABLES if t.in_version(version)]
    # MyISAM (and Aria) rebuild their secondary indexes in one sort pass after the load.
    rebuild_keys = engine.lower() in ("myisam", "aria")
    try:
        _create_mysql_tables(cur, engine, version)
        if rebuild_keys:
            for name in tables:
                cur.execute(f"ALTER TABLE `{name}` DISABLE KEYS")
        else:
            cur.execute("SET SESSION unique_checks=0, foreign_key_checks=0")
            conn.begin()
        try:
            counts = _stream_mysql_rows(conn, spec, version)
        except BaseException:
            if not rebuild_keys:
                conn.rollback()
            raise
        if rebuild_keys:
            for name in tables:
                cur.execute(f"ALTER TABLE `{name}` ENABLE KEYS")
        else:
            conn.commit()
            cur.execute("SET SESSION unique_checks=1, foreign_key_checks=1")
    finally:
        cur.execute("SET SESSION sql_mode=%s", (previous[0] if previous else "",))
    counts["preference"] += 1  # the DataBaseVersion row of mysql_ddl()
    return counts


def write_mysql(
    conn: pymysql.connections.Connection,
    spec: PracticeSpec,
    *,
    engine: str = "MyISAM",
    version: str = "24.3.10.0",
) -> None:
    """Load the practice into the connection's current database.

    Drops the fixture tables there first, creates them with :func:`odschema.mysql_ddl`, then
    streams the rows in multi-row INSERTs (with ``sql_mode=''``, as Open Dental runs, so the few
    zero dates load; MyISAM indexes are disabled during the load and rebuilt at the end).
    """
    load_mysql(conn, spec, engine, version)

