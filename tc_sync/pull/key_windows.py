"""Read the key windows of an incremental pull on several PMS connections at once.

Finding the rows changed since the cursor means scanning every key of a table whose cursor
column has no index (Open Dental's DateTStamp): the PMS server's own work, row by row, which
one connection does on one of its cores. A second connection scans the next window at the same
time. Each connection is used by one thread only; the windows' results come back in key order,
so the pull commits them as if read one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import structlog

from tc_sync.drivers.base import Driver, DriverError, StatementStats

log = structlog.get_logger(__name__)

Result = tuple[list[str], Sequence[Sequence[Any]]]


class WindowReader:
    """The source's main connection plus, opened when first needed, its extra scan
    connections (`connections - 1` of them). If an extra connection cannot be opened, the
    reader goes on with the ones it has."""

    def __init__(self, driver: Driver, open_extra: Callable[[], Driver] | None,
                 connections: int) -> None:
        self.driver = driver
        self._open_extra = open_extra
        self._wanted = max(0, connections - 1) if open_extra is not None else 0
        self._extras: list[Driver] = []
        self._executor: ThreadPoolExecutor | None = None

    @property
    def width(self) -> int:
        """How many windows one `read` takes at most."""
        return 1 + self._wanted

    def read(self, sql: str, windows: Sequence[tuple[int, int]],
             params: Mapping[str, Any]) -> list[Result]:
        """Each window's columns and rows, in the order given; `params` completes the
        statement's parameters (`after_key` and `until_key` come from the window)."""
        extras = self._extras_for(len(windows) - 1)
        futures: list[Future[Result]] = []
        for extra, (low, high) in zip(extras, windows[1:], strict=False):
            assert self._executor is not None
            futures.append(self._executor.submit(
                extra.query, sql, {**params, "after_key": low, "until_key": high}))
        low, high = windows[0]
        try:
            first = self.driver.query(sql, {**params, "after_key": low, "until_key": high})
        finally:
            wait(futures)   # never leave a connection in the middle of a statement
        return [first, *(future.result() for future in futures)]

    def _extras_for(self, needed: int) -> list[Driver]:
        while len(self._extras) < min(needed, self._wanted):
            assert self._open_extra is not None
            try:
                self._extras.append(self._open_extra())
            except DriverError as error:
                log.warning("scan_connection_unavailable", error_class=type(error).__name__)
                self._wanted = len(self._extras)
                break
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._wanted,
                                                    thread_name_prefix="tc-sync-scan")
        return self._extras[:needed]

    def stats(self) -> StatementStats:
        """Statements run on every connection of this reader, and the longest of them."""
        total = StatementStats()
        for driver in [self.driver, *self._extras]:
            total.merge(driver.stats)
        return total

    def close(self) -> None:
        """Close the extra connections (the main one belongs to the caller)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        for extra in self._extras:
            extra.close()
        self._extras = []
