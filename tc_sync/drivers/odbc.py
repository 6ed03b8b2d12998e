"""ODBC driver for Dentrix (c-treeACE SQL) and Eaglesoft (SQL Anywhere), through pyodbc.

Sessions are autocommit and ask for read-only access, with the login and query timeouts the
configuration sets. Every statement runs on a worker thread under a hang guard: one still
running after `statement_limit` seconds is cancelled (SQLCancel) and its connection abandoned
for a fresh one, and the caller gets a DriverError, so the stream stops at its last committed
batch and the run reports it. Rows are fetched in chunks and shaped by the dialect layer
(`tc_sync.drivers.dialect`): text trimmed, split date-times joined. Lost connections (SQLSTATE
class 08) are retried with jittered backoff on a new connection (`tc_sync.drivers.retrying`).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog

from tc_sync.config import ConnectionSettings, OdbcSettings
from tc_sync.drivers.base import DriverError
from tc_sync.drivers.dialect import DIALECTS, Dialect, detect, plan_shape, prepare, shape_rows
from tc_sync.drivers.retrying import RetryingDriver

log = structlog.get_logger(__name__)
T = TypeVar("T")

_CANCEL_GRACE_SECONDS = 5.0
_TEXT_SQLSTATE_CLASSES = ("42", "3F", "28", "08", "IM", "57", "HYT")
"""Error classes whose text names SQL, objects or the connection, never row values."""
_HINTS = {
    "IM002": "the DSN or the ODBC driver is not registered on this machine (odbcinst -q -s, "
             "odbcinst -q -d)",
    "28000": "the user or password was refused",
    "28P01": "the user or password was refused",
    "08001": "nothing answered (server down, firewall, wrong host or port)",
    "HYT00": "no answer within connect_timeout",
}
_SAFE_KEYS = ("DSN", "DRIVER", "SERVER", "HOST", "DATABASE", "DBN", "ENGINENAME")
_NO_READ_ONLY_MODE = ("HYC00", "HY092", "HY024")
"""A driver that does not implement SQL_ATTR_ACCESS_MODE answers with one of these."""


class StatementAbandoned(DriverError):
    """A statement outran the hang guard; it was cancelled and its connection dropped."""


def _import_pyodbc() -> Any:
    try:
        import pyodbc
    except ImportError as error:  # the odbc extra, or unixODBC itself, is missing
        raise DriverError(
            "pyodbc cannot be loaded: pip install 'tc-sync[odbc]' (on Linux it needs "
            f"unixODBC: apt-get install unixodbc) ({error})") from None
    return pyodbc


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a pyodbc error, or ''."""
    args = getattr(error, "args", ())
    return str(args[0]) if args and isinstance(args[0], str) else ""


def _clean(message: str) -> str:
    text = re.sub(r"\[[^\]]*\]", "", message)
    text = re.sub(r"\s*\((?:\d+|SQL\w+)\)", "", text)
    return " ".join(text.replace(";", " ").split()).strip(" .")


def describe_error(error: BaseException) -> str:
    """An ODBC error as a sentence: class and SQLSTATE, plus the driver's text when that text
    can only name SQL, objects or the connection (never row values, which may be PHI)."""
    state = sqlstate(error)
    summary = f"ODBC {type(error).__name__} {state}".rstrip()
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    if state.startswith(_TEXT_SQLSTATE_CLASSES) and len(args) > 1:
        return f"{summary}: {_clean(str(args[1]))}"
    return summary


def _odbc_escape(value: str) -> str:
    return "{" + value.replace("}", "}}") + "}" if re.search(r"[;{}=\s]", value) else value


def connection_string(settings: ConnectionSettings) -> str:
    """The ODBC connection string: the configured one, or DSN plus user and password."""
    odbc = settings.odbc
    assert odbc is not None
    if odbc.connection_string is not None:
        return odbc.connection_string.get_secret_value()
    password = settings.password.get_secret_value() if settings.password else ""
    parts = [f"DSN={_odbc_escape(odbc.dsn or '')}", f"UID={_odbc_escape(settings.user)}"]
    if password:
        parts.append(f"PWD={_odbc_escape(password)}")
    return ";".join(parts)


def where(settings: ConnectionSettings) -> str:
    """Where the connection goes, without its credentials: for messages."""
    text = connection_string(settings)
    shown = [part.strip() for part in text.split(";")
             if part.split("=", 1)[0].strip().upper() in _SAFE_KEYS]
    user = f" as {settings.user}" if settings.odbc and settings.odbc.dsn else ""
    return (";".join(shown) or "the configured connection string") + user


class _Call:
    """One statement on a worker thread; the hang guard may give up on it."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.abandoned = False
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True,
                                        name="tc-sync-odbc")

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            self.result = work()
        except BaseException as error:  # handed to the waiting thread
            self.error = error
        finally:
            self.done.set()

    def start(self) -> None:
        self._thread.start()


class OdbcDriver(RetryingDriver):
    """A read-only, autocommit ODBC session on a PMS database (lost connections retried on a
    new one: `RetryingDriver`)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        if settings.odbc is None:
            raise DriverError("connection.odbc is not configured")
        self._odbc: OdbcSettings = settings.odbc
        self._pyodbc = _import_pyodbc()
        self.errors = (self._pyodbc.Error,)
        self._dialect: Dialect | None = (
            None if self._odbc.dialect == "auto" else DIALECTS[self._odbc.dialect])
        self.name = "odbc"
        self._start()
        self.name = f"odbc ({self.dialect.title})"

    @property
    def dialect(self) -> Dialect:
        assert self._dialect is not None
        return self._dialect

    # --- connections ---

    def _is_transient(self, error: BaseException) -> bool:
        return sqlstate(error).startswith("08")

    def _describe_connect_error(self, error: BaseException) -> str:
        hint = _HINTS.get(sqlstate(error))
        detail = f"{hint} ({sqlstate(error)})" if hint else describe_error(error)
        return f"cannot connect to {where(self._settings)}: {detail}"

    def _describe_query_error(self, error: BaseException) -> str:
        return describe_error(error)

    def _error_label(self, error: BaseException) -> str:
        return describe_error(error).split(":")[0]

    def _connect(self) -> Any:
        """A logged-in connection with its query timeout, dialect and session statements."""
        connection = self._log_in()
        try:
            # SQL_ATTR_QUERY_TIMEOUT where the driver supports it; the hang guard regardless.
            connection.timeout = self._settings.read_timeout
        except self._pyodbc.Error:
            log.debug("odbc_query_timeout_unsupported")
        try:
            if self._dialect is None:
                self._dialect = self._detect(connection)
            self._start_session(connection)
        except BaseException:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        return connection

    def _log_in(self) -> Any:
        """Log in, within connect_timeout even where the driver ignores its login timeout."""
        limit = self._settings.connect_timeout

        def log_in() -> Any:
            try:
                connection = self._pyodbc.connect(
                    connection_string(self._settings), autocommit=True, readonly=True,
                    timeout=limit)
            except self._pyodbc.Error as error:
                if sqlstate(error) not in _NO_READ_ONLY_MODE:
                    raise
                # The driver cannot mark the session read-only: the read-only user still is.
                connection = self._pyodbc.connect(
                    connection_string(self._settings), autocommit=True, timeout=limit)
            if call.abandoned:
                with contextlib.suppress(Exception):
                    connection.close()
            return connection

        call = _Call(log_in)
        call.start()
        if not call.done.wait(limit + _CANCEL_GRACE_SECONDS):
            call.abandoned = True
            raise DriverError(f"cannot connect to {where(self._settings)}: "
                              f"no answer within {limit} s (connect_timeout)")
        if call.error is not None:
            raise call.error
        return call.result

    def _detect(self, connection: Any) -> Dialect:
        dbms = str(connection.getinfo(self._pyodbc.SQL_DBMS_NAME) or "")
        dialect = detect(dbms)
        if dialect is None:
            raise DriverError(f"the ODBC driver reports a '{dbms}' server, whose SQL dialect "
                              "tc-sync does not know: set connection.odbc.dialect")
        return dialect

    def _start_session(self, connection: Any) -> None:
        for number, statement in enumerate(self._odbc.session, start=1):
            cursor = connection.cursor()
            try:
                cursor.execute(statement)
            except self._pyodbc.Error as error:
                # The server's text may quote the statement, which may hold a credential.
                raise DriverError(f"session statement {number} failed: ODBC "
                                  f"{type(error).__name__} {sqlstate(error)}") from None
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()

    # --- the hang guard ---

    def _guarded(self, work: Callable[[Any], T]) -> T:
        """Run `work(cursor)` on a worker thread; cancel and abandon it past the limit."""
        self._ensure_connected()
        connection = self._connection
        cursor = connection.cursor()

        def run() -> T:
            try:
                return work(cursor)
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()
                if call.abandoned:
                    with contextlib.suppress(Exception):
                        connection.close()

        call = _Call(run)
        call.start()
        limit = self._odbc.statement_limit
        if not call.done.wait(limit):
            call.abandoned = True
            with contextlib.suppress(Exception):
                cursor.cancel()
            call.done.wait(_CANCEL_GRACE_SECONDS)
            self._connection = None  # a fresh connection for the next statement
            log.error("pms_statement_abandoned", seconds=limit)
            raise StatementAbandoned(
                f"a statement ran longer than {limit} s (connection.odbc.statement_limit) and "
                "was cancelled; the pull stopped at its last committed batch")
        if call.error is not None:
            raise call.error
        result: T = call.result
        return result

    def _fetch(self, sql: str, values: tuple[Any, ...]
               ) -> Callable[[Any], tuple[Any, list[Any]]]:
        fetch_rows = self._odbc.fetch_rows

        def work(cursor: Any) -> tuple[Any, list[Any]]:
            if values:
                cursor.execute(sql, values)
            else:
                cursor.execute(sql)
            description = cursor.description
            rows: list[Any] = []
            if description is None:
                return description, rows
            while chunk := cursor.fetchmany(fetch_rows):
                rows.extend(chunk)
            return description, rows

        return work

    # --- the driver contract ---

    def _execute(self, sql: str, params: Mapping[str, Any]
                 ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        try:
            statement = prepare(sql, params, self.dialect)
        except ValueError as error:
            raise DriverError(f"cannot prepare the statement: {error}") from None
        description, rows = self._guarded(self._fetch(statement.sql, statement.values))
        columns = [str(column[0]).lower() for column in description or ()]
        shape = plan_shape(columns, [column[1] is str for column in description or ()])
        return list(shape.columns), shape_rows(shape, rows)

    def server_now(self) -> datetime:
        value = self.scalar(self.dialect.now_sql)
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DriverError("the server's clock could not be read") from None

    # --- the catalog, for `tc-sync check` ---

    def catalog_tables(self) -> list[str]:
        """Every table and view the session can see, as ``schema.table``."""
        if self.dialect.catalog == "sqlite":
            schemas = [str(row[1]) for row in self.query("PRAGMA database_list")[1]]
            return [f"{schema}.{row[0]}" for schema in schemas for row in self.query(
                f'SELECT name FROM "{schema}".sqlite_master WHERE type IN (\'table\', \'view\')'
            )[1]]

        def tables(cursor: Any) -> list[str]:
            return [f"{row.table_schem}.{row.table_name}" if row.table_schem else
                    str(row.table_name) for row in cursor.tables()
                    if str(row.table_type).upper() in ("TABLE", "VIEW", "SYSTEM TABLE",
                                                        "SYSTEM VIEW", "SYNONYM")]

        return self._catalog(tables)

    def catalog_columns(self, table: str) -> list[str]:
        """The columns of one table or view, named as `catalog_tables` names it."""
        schema, _, name = table.rpartition(".")
        if self.dialect.catalog == "sqlite":
            return [str(row[1]) for row in self.query(
                f'PRAGMA "{schema or "main"}".table_info("{name}")')[1]]

        def columns(cursor: Any) -> list[str]:
            return [str(row.column_name) for row in cursor.columns(
                table=name, schema=schema or None)]

        return self._catalog(columns)

    def _catalog(self, work: Callable[[Any], list[str]]) -> list[str]:
        try:
            return self._with_retries(lambda: self._guarded(work))
        except self.errors as error:
            raise DriverError(describe_error(error)) from error
