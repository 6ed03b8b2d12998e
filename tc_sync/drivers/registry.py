"""Which driver reads a source: a table from `connection.driver` to the driver class.

As APScheduler names its executors, the table holds each class by reference ("module:Class"),
imported only when a source uses it, so pyodbc and mysqlclient stay optional. A new driver is
a new module and a new row here, not a branch in the pull.
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass

from tc_sync.config import ConnectionSettings, SourceSettings
from tc_sync.drivers.base import Driver


@dataclass(frozen=True)
class DriverEntry:
    """One value of `connection.driver`: its class, and the adapters' SQL it runs."""

    reference: str
    """The class, as "module:Class"."""
    runs: frozenset[str]
    """The adapter families (a manifest's `driver:`) whose SQL this driver runs as written."""
    title: str
    """How messages name it."""

    def load(self) -> type[Driver]:
        """The driver class (its module is imported now)."""
        loaded = pkgutil.resolve_name(self.reference)
        assert isinstance(loaded, type) and issubclass(loaded, Driver), self.reference
        return loaded


_MYSQL = "tc_sync.drivers.mysql:MysqlDriver"
DRIVERS: dict[str, DriverEntry] = {
    "auto": DriverEntry(_MYSQL, frozenset({"mysql"}), "auto (MySQL)"),
    "pymysql": DriverEntry(_MYSQL, frozenset({"mysql"}), "pymysql"),
    "mysqlclient": DriverEntry(_MYSQL, frozenset({"mysql"}), "mysqlclient"),
    # The demo practice: a SQLite file given MySQL's GREATEST(), so MySQL adapters run on it.
    "sqlite": DriverEntry("tc_sync.drivers.sqlite:SqliteDriver", frozenset({"mysql", "sqlite"}),
                          "sqlite"),
    "odbc": DriverEntry("tc_sync.drivers.odbc:OdbcDriver", frozenset({"odbc"}), "odbc"),
}
"""Every `connection.driver` the configuration accepts."""


def open_driver(source: SourceSettings) -> Driver:
    """Connect to a source's PMS database with the driver its configuration names."""
    return connect(source.connection)


def connect(connection: ConnectionSettings) -> Driver:
    """A session on the database a `connection:` section names; raises DriverError."""
    return DRIVERS[connection.driver].load().open(connection)


def drivers_running(family: str) -> list[str]:
    """How the drivers that run an adapter of `family` (its manifest's `driver:`) are named
    in messages, in the table's order."""
    return list(dict.fromkeys(entry.title for entry in DRIVERS.values() if family in entry.runs))


def runs(driver: str, family: str) -> bool:
    """True when `connection.driver` `driver` runs the SQL of an adapter of `family`."""
    entry = DRIVERS.get(driver)
    return entry is not None and family in entry.runs
