"""MySQL/MariaDB driver for Open Dental: pymysql, or mysqlclient (the C client) when installed.

Both speak the same SQL through the same code path. Sessions are read-only and autocommit, so
no statement holds a read view or a lock longer than it runs; every statement is bounded by
the adapter's key window and LIMIT, and each has a read timeout.
"""

from __future__ import annotations

import contextlib
import importlib
import socket
import ssl
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

from tc_sync.config import ConnectionSettings
from tc_sync.drivers.base import DriverError, to_pyformat
from tc_sync.drivers.retrying import RetryingDriver


def available_client(preference: str = "auto") -> tuple[str, ModuleType]:
    """The MySQL client module to use: mysqlclient when installed (fast), else pymysql."""
    candidates = {"auto": ["MySQLdb", "pymysql"], "mysqlclient": ["MySQLdb"],
                  "pymysql": ["pymysql"]}[preference]
    for module_name in candidates:
        try:
            return module_name, importlib.import_module(module_name)
        except ImportError:
            continue
    raise DriverError(
        "mysqlclient is not installed: pip install 'tc-sync[fast]' (it needs libmariadb-dev), "
        "or set connection.driver to pymysql")


def _text_temporal_conversions(module_name: str, module: ModuleType) -> dict[Any, Any]:
    """The client's type conversions, but dates and times arrive as ISO text: `adapter.convert`
    parses them (in C), which is several times cheaper per value, and a SQLite ledger keeps
    the text. pymysql decodes a value it has no conversion for; mysqlclient would hand over
    bytes, unless told `str` (which it decodes in C)."""
    converters = importlib.import_module(f"{module_name}.converters")
    field_type = importlib.import_module(f"{module_name}.constants.FIELD_TYPE")
    conversions = dict(converters.conversions)
    for temporal in ("DATE", "DATETIME", "TIMESTAMP", "NEWDATE"):
        code = getattr(field_type, temporal, None)
        if code is None:
            continue
        if module_name == "MySQLdb":
            conversions[code] = str
        else:
            conversions.pop(code, None)
    return conversions


def _ssl_options(settings: ConnectionSettings, module_name: str) -> dict[str, Any]:
    tls = settings.tls
    if tls.mode == "disabled":
        return {"ssl_disabled": True} if module_name == "pymysql" else {"ssl_mode": "DISABLED"}
    if tls.mode == "preferred":
        return {}
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file else None)
    if tls.mode == "required":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if module_name == "pymysql":
        return {"ssl": context}
    options: dict[str, Any] = {"ssl_mode": "VERIFY_IDENTITY" if tls.mode == "verify"
                               else "REQUIRED"}
    if tls.ca_file:
        options["ssl"] = {"ca": str(tls.ca_file), "cert": str(tls.cert_file or ""),
                          "key": str(tls.key_file or "")}
    return options


_TRANSIENT = {1205, 1213, 2002, 2003, 2006, 2013, 2055}
"""Lock wait timeout, deadlock, cannot connect, server gone away, lost connection."""


def _error_number(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class MysqlDriver(RetryingDriver):
    """A read-only, autocommit session on the PMS database.

    Transient failures (the server restarting, a dropped connection, a lock wait or deadlock)
    are retried with jittered backoff on a new connection (`RetryingDriver`).
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        self.client, self._module = available_client(
            "auto" if settings.driver == "auto" else settings.driver)
        self.name = f"mysql ({self.client})"
        self.concurrent_reads = True
        self.errors = (self._module.Error,)
        check_host_resolves(settings.host, settings.port)
        self._start()

    def _is_transient(self, error: BaseException) -> bool:
        return _error_number(error) in _TRANSIENT

    def _connect(self) -> Any:
        settings = self._settings
        password = settings.password.get_secret_value() if settings.password else ""
        return self._module.connect(
            host=settings.host, port=settings.port, user=settings.user,
            password=password, database=settings.database, charset="utf8mb4",
            connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
            write_timeout=settings.write_timeout, autocommit=True,
            init_command="SET SESSION TRANSACTION READ ONLY",
            conv=_text_temporal_conversions(self.client, self._module),
            **_ssl_options(settings, self.client))

    def _execute(self, sql: str, params: Mapping[str, Any]
                 ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        self._ensure_connected()
        cursor = self._connection.cursor()
        try:
            cursor.execute(to_pyformat(sql), dict(params))
            rows = cursor.fetchall()
            columns = [column[0].lower() for column in cursor.description or ()]
        finally:
            with contextlib.suppress(Exception):
                cursor.close()
        return columns, rows

    def _describe_connect_error(self, error: BaseException) -> str:
        return _describe(error, self._settings)

    def _describe_query_error(self, error: BaseException) -> str:
        return _describe_query_error(error)

    def _error_label(self, error: BaseException) -> str:
        return f"{type(error).__name__} {_error_code(error)}"

    def server_now(self) -> datetime:
        value = self.scalar("SELECT NOW()")
        try:
            text = value.decode() if isinstance(value, bytes) else str(value)
            return datetime.fromisoformat(text)
        except ValueError:
            raise DriverError("the server's clock could not be read") from None

    def write_times(self, tables: Sequence[str]) -> dict[str, datetime]:
        """From information_schema UPDATE_TIME, in one statement, keyed by lower-case name:
        exact for MyISAM; for InnoDB kept in memory (unknown after a server restart until the
        next write)."""
        if not tables:
            return {}
        names = ", ".join(f":t{i}" for i in range(len(tables)))
        _, rows = self.query(
            "SELECT TABLE_NAME, UPDATE_TIME FROM information_schema.TABLES"
            f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({names})",
            {f"t{i}": table for i, table in enumerate(tables)})
        times: dict[str, datetime] = {}
        for name, written in rows:
            if written is not None:
                text = written.decode() if isinstance(written, bytes) else str(written)
                table = name.decode() if isinstance(name, bytes) else str(name)
                times[table.lower()] = datetime.fromisoformat(text)
        return times


def _error_code(error: BaseException) -> str:
    args = getattr(error, "args", ())
    return f"({args[0]})" if args and isinstance(args[0], int) else ""


_SCHEMA_ERRORS = {1054, 1064, 1142, 1143, 1146}
"""Unknown column, syntax, denied, no such table: their text names SQL, never row values."""


def _describe_query_error(error: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    summary = f"MySQL {type(error).__name__} {_error_code(error)}".rstrip()
    if code in _SCHEMA_ERRORS and len(args) > 1:
        return f"{summary}: {args[1]}"
    return summary


def check_host_resolves(host: str, port: int) -> None:
    """Raise DriverError at once when DNS says `host` does not exist (rather than retrying a
    connection that cannot be made); a DNS server that does not answer is left to the retries."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise DriverError(f"cannot resolve host '{host}': the name is not known to DNS; "
                              "correct connection.host, or use the server's IP address"
                              ) from None
    except UnicodeError:
        raise DriverError(f"cannot resolve host '{host}': it is not a valid host name; "
                          "correct connection.host") from None


def _describe(error: BaseException, settings: ConnectionSettings) -> str:
    code = _error_code(error)
    where = f"{settings.host}:{settings.port}/{settings.database} as {settings.user}"
    hints = {
        "(1045)": "the user or password is wrong",
        "(1049)": "the database does not exist",
        "(2002)": "nothing answers at that host and port (server down, firewall, wrong port)",
        "(2003)": "nothing answers at that host and port (server down, firewall, wrong port)",
        "(2005)": "the host name is unknown",
        "(2013)": "the connection was lost (timeout or network)",
    }
    hint = hints.get(code, type(error).__name__)
    return f"cannot connect to MySQL at {where}: {hint} {code}".rstrip()
