"""`tc-sync check` for an ODBC source: every configured PMS name looked up in the catalog.

Dentrix and Eaglesoft schemas differ by version and are only partly public, so before any
stream is read the check lists the tables and columns the adapter is configured to read that
the server does not have, the nearest names it does have, and the streams therefore off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from tc_sync.adapter.manifest import Adapter
from tc_sync.config import SourceSettings
from tc_sync.drivers.base import DriverError
from tc_sync.drivers.catalog import compare_names


@runtime_checkable
class CatalogDriver(Protocol):
    """A driver that can list the server's tables and columns (the ODBC driver)."""

    def catalog_tables(self) -> list[str]: ...

    def catalog_columns(self, table: str) -> list[str]: ...


def check_catalog(source_id: str, source: SourceSettings, adapter: Adapter,
                  driver: CatalogDriver) -> tuple[int, set[str]]:
    """Print what the catalog lacks; return (problems, the streams and "version" now off)."""
    pulled = set(source.streams) if source.streams else None
    needs = {"version": adapter.version_reads}
    for stream in adapter.streams(adapter.manifest.version.newest):
        if pulled is None or stream.name in pulled:
            needs[stream.name] = stream.reads
    try:
        tables = driver.catalog_tables()
        report = compare_names(needs, tables, driver.catalog_columns)
    except DriverError as error:
        print(f"{source_id}: PROBLEM: the server's catalog cannot be read: {error}")
        return 1, set()
    if not report.missing:
        count = len({name for reads in needs.values() for name in reads})
        print(f"{source_id}: catalog: all {count} configured tables and columns found")
        return 0, set()
    print(f"{source_id}: catalog: {len(report.missing)} configured name(s) missing")
    for missing in report.missing:
        print(f"  PROBLEM: {missing.kind} {missing.name} does not exist"
              f"{_nearest(missing.nearest)}; needed by {', '.join(missing.needed_by)}")
    off = report.off
    print(f"  streams off: {', '.join(sorted(set(off) - {'version'})) or 'none'}")
    if "version" in off:
        print("  the schema version cannot be read, so no stream can run")
    where = f"sources.{source_id}"
    print(f"  fix: write this site's names in its overrides file ({where}.overrides: "
          f"{source.overrides or 'not set yet'}; see docs/ODBC.md), or leave those streams "
          f"out ({where}.streams)")
    return len(report.missing), set(off)


def _nearest(names: Sequence[str]) -> str:
    return f" (nearest: {', '.join(names)})" if names else " (nothing similar)"
