"""Hard deletes found by an incremental pull, not only by the nightly sweep.

Open Dental deletes appointments, claims, coverages and more outright: no timestamp tells an
incremental pull. After pulling such a stream (the adapter marks it `hard_deletes`), tc-sync
compares the PMS's keys with the replica's, window by window of keys: first each window's count
and sum of keys (one indexed row per statement), then, only for windows that differ, the keys
themselves. Replica rows whose key the PMS no longer has are marked deleted, with the pull's
other rows, so the next reconcile sees the delete. Quarantined keys still exist in the PMS.

The comparisons are pure functions over plain data; `check_deletes` does the reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tc_sync.drivers.base import Driver

Tally = Mapping[int, tuple[int, int]]
"""Per window number (key // width): how many keys, and their sum."""


@dataclass(frozen=True)
class DeleteCheck:
    """What one comparison cost and found."""

    windows: int
    windows_read: int
    """Windows whose keys were read because their counts differ."""
    deleted: tuple[int, ...]


def tally(keys: Iterable[int], width: int) -> dict[int, tuple[int, int]]:
    """Count and sum of keys per window of `width` keys."""
    result: dict[int, tuple[int, int]] = {}
    for key in keys:
        count, total = result.get(key // width, (0, 0))
        result[key // width] = (count + 1, total + key)
    return result


def differing_windows(pms: Tally, ledger: Tally) -> list[int]:
    """Windows where the PMS and the ledger do not hold the same keys (by count and sum)."""
    return sorted(w for w in set(pms) | set(ledger) if pms.get(w, (0, 0)) != ledger.get(
        w, (0, 0)))


def gone(ledger_keys: Iterable[int], pms_keys: Iterable[int]) -> list[int]:
    """Keys the ledger holds that the PMS no longer has."""
    present = set(pms_keys)
    return sorted(key for key in ledger_keys if key not in present)


def _window_bounds(window: int, width: int) -> tuple[int, int]:
    """Keys low < key <= high of a window: those with key // width == window."""
    return window * width - 1, (window + 1) * width - 1


class _Ledger:
    """The live keys of one stream's replica table, plus its quarantined keys."""

    def __init__(self, connection: sa.Connection, table: sa.Table, source_id: str,
                 held: set[int]) -> None:
        self.connection = connection
        self.table = table
        self.source_id = source_id
        self.held = held

    def _live(self, low: int, high: int) -> sa.Select[Any]:
        column = self.table.c.pms_id
        return sa.select(column).where(
            self.table.c.source_id == self.source_id, self.table.c.deleted_at.is_(None),
            column > low, column <= high)

    def _sums(self, low: int, high: int) -> tuple[int, int]:
        keys = self._live(low, high).subquery()
        count, total = self.connection.execute(sa.select(
            sa.func.count(), sa.func.sum(keys.c.pms_id))).one()
        return int(count), int(total or 0)

    def tally(self, width: int, until_key: int) -> dict[int, tuple[int, int]]:
        """Per window up to `until_key`'s, one range count on the live-keys index (as the
        PMS side reads them); every key above, in one more (they were all deleted)."""
        result: dict[int, tuple[int, int]] = {}
        windows = until_key // width + 1 if until_key > 0 else 0
        for window in range(windows):
            low, high = _window_bounds(window, width)
            count, total = self._sums(low, high)
            if count:
                result[window] = (count, total)
        above = self.connection.execute(self._live(windows * width - 1, 2**62)).scalars()
        for number, (count, total) in tally(above, width).items():
            result[number] = (count, total)
        if self.held:   # quarantined rows exist in the PMS; some are not live in the replica
            live_held = set(self.connection.execute(self._live(-1, 2**62).where(
                self.table.c.pms_id.in_(sorted(self.held)))).scalars())
            for number, (count, total) in tally(self.held - live_held, width).items():
                had = result.get(number, (0, 0))
                result[number] = (had[0] + count, had[1] + total)
        return result

    def keys(self, low: int, high: int) -> list[int]:
        found: set[int] = set(self.connection.execute(self._live(low, high)).scalars())
        return sorted(found | {k for k in self.held if low < k <= high})


def _pms_tally(driver: Driver, table: str, key: str, width: int,
               until_key: int) -> dict[int, tuple[int, int]]:
    sql = (f"SELECT COUNT(*), SUM({key}) FROM {table} "
           f"WHERE {key} > :after_key AND {key} <= :until_key")
    result: dict[int, tuple[int, int]] = {}
    for window in range(until_key // width + 1):
        low, high = _window_bounds(window, width)
        _, rows = driver.query(sql, {"after_key": low, "until_key": min(high, until_key)})
        count, total = rows[0] if rows else (0, 0)
        if count:
            result[window] = (int(count), int(total))
    return result


def _pms_keys(driver: Driver, table: str, key: str, low: int, high: int) -> list[int]:
    _, rows = driver.query(
        f"SELECT {key} FROM {table} WHERE {key} > :after_key AND {key} <= :until_key",
        {"after_key": low, "until_key": high})
    return [int(row[0]) for row in rows]


def check_deletes(connection: sa.Connection, replica_table: sa.Table, source_id: str,
                  driver: Driver, pms_table: str, key: str, until_key: int, width: int,
                  held: set[int]) -> DeleteCheck:
    """Keys the replica holds that `pms_table` no longer has (to be marked deleted by the
    caller, in the same transaction as `connection`).

    `until_key` is the PMS's highest key when the pull began: the PMS is read up to it, so
    rows added since do not count, and a replica key above it was deleted (keys only grow).
    """
    windows = until_key // width + 1 if until_key > 0 else 0
    pms = _pms_tally(driver, pms_table, key, width, until_key) if windows else {}
    ledger = _Ledger(connection, replica_table, source_id, held)
    stale = differing_windows(pms, ledger.tally(width, until_key))
    deleted: list[int] = []
    for window in stale:
        low, high = _window_bounds(window, width)
        pms_keys = (_pms_keys(driver, pms_table, key, low, min(high, until_key))
                    if low < until_key else [])
        deleted += gone(ledger.keys(low, high), pms_keys)
    return DeleteCheck(windows, len(stale), tuple(k for k in deleted if k not in held))
