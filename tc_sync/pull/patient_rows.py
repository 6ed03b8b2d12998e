"""Re-read one stream for a few patients: what a change hint (`pull.hints`) asks for.

One indexed statement on the stream's `patient` column lists the patients' keys, with whether
each row's own timestamp moved since the stream's last scan; those rows are read through the
stream's own SQL in narrow key windows and written like any pull's. Replica rows of these
patients whose key the PMS no longer has are marked deleted (after asking the PMS for exactly
those keys, so a row moved to another patient is not taken for deleted).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tc_sync.drivers.base import Driver
from tc_sync.ledger.replica import BatchChanges
from tc_sync.ledger.state import HINTED, StreamTotals, hold, now_utc, open_quarantine, release
from tc_sync.pull.cursor_store import load_cursor
from tc_sync.pull.stream import StreamPuller

MODE = HINTED
WINDOW_KEYS = 256
"""Changed keys this close together are read by one statement (it walks the keys between)."""


def key_windows(keys: Sequence[int], width: int = WINDOW_KEYS) -> list[tuple[int, int]]:
    """Windows (low, high] covering sorted `keys`, none wider than `width` keys."""
    windows: list[tuple[int, int]] = []
    for key in keys:
        if windows and key - windows[-1][0] <= width:
            windows[-1] = (windows[-1][0], key)
        else:
            windows.append((key - 1, key))
    return windows


def in_list(name: str, values: Sequence[int]) -> tuple[str, dict[str, int]]:
    """`:name0, :name1, ...` and their parameters, for an IN list."""
    params = {f"{name}{number}": int(value) for number, value in enumerate(values)}
    return ", ".join(f":{param}" for param in params), params


class PatientRows:
    """One stream of one source, re-read for the patients given to `pull`."""

    def __init__(self, engine: sa.Engine, driver: Driver, puller: StreamPuller,
                 batch_size: int) -> None:
        self.engine = engine
        self.driver = driver
        self.puller = puller
        self.batch_size = batch_size
        self.stream = puller.stream
        self.spec = puller.stream.spec

    def pull(self, patients: Sequence[int], run_id: int) -> StreamTotals:
        """Read these patients' changed rows and find their deleted ones; one transaction."""
        started = time.perf_counter()
        totals = StreamTotals(self.stream.name, MODE)
        with self.engine.connect() as connection:
            since = load_cursor(connection, self.puller.source_id, self.stream.name).since
            held = open_quarantine(connection, self.puller.source_id, self.stream.name)
        present, changed = self._keys(patients, since)
        columns, rows = self._rows(changed, since)
        good, bad = ((self.puller.convert(rows, columns, self.puller.positions(columns)))
                     if rows else ([], []))
        writer = self.puller.writer
        with self.engine.begin() as connection:
            changes: BatchChanges = writer.apply(connection, good, now=now_utc(),
                                                 also_present=[b.key for b in bad])
            if bad:
                hold(connection, self.puller.source_id, self.stream.name, self.spec.table,
                     bad, run_id, held)
            if held:
                release(connection, self.puller.source_id, self.stream.name,
                        [values[0] for values in good if values[0] in held], held)
            deleted = self._deleted(connection, patients, present | held) if (
                self.spec.hard_deletes) else []
            writer.mark_deleted(connection, deleted, now=now_utc())
        totals.rows_read = len(rows)
        totals.rows_inserted = len(changes.inserted)
        totals.rows_updated = len(changes.updated)
        totals.rows_deleted = len(deleted)
        totals.rows_quarantined = len(bad)
        totals.completed = True
        totals.seconds = time.perf_counter() - started
        return totals

    def _keys(self, patients: Sequence[int], since: datetime | None
              ) -> tuple[set[int], list[int]]:
        """Every key the PMS has for these patients, and those changed since `since`."""
        spec = self.spec
        assert spec.patient is not None
        marks, params = in_list("patient", patients)
        moved = "1" if spec.cursor is None or since is None else f"{spec.cursor} >= :since"
        _, rows = self.driver.query(
            f"SELECT {spec.key}, {moved} FROM {spec.table} WHERE {spec.patient} IN ({marks})",
            {**params, "since": since})
        present = {int(row[0]) for row in rows}
        return present, sorted(int(row[0]) for row in rows if row[1])

    def _rows(self, keys: list[int], since: datetime | None
              ) -> tuple[list[str], list[Sequence[Any]]]:
        """The stream's own rows for these keys, window by window."""
        columns: list[str] = []
        found: list[Sequence[Any]] = []
        for first, high in key_windows(keys):
            low = first
            while True:
                columns, rows = self.driver.query(self.stream.sql, {
                    "after_key": low, "until_key": high, "since": since,
                    "batch_size": self.batch_size})
                found += rows
                if len(rows) < self.batch_size:
                    break
                low = int(rows[-1][self.puller.positions(columns)[0]])
        return columns, found

    def _deleted(self, connection: sa.Connection, patients: Sequence[int],
                 present: set[int]) -> list[int]:
        """Live replica keys of these patients that the PMS does not have (asked by key)."""
        table = self.puller.writer.table
        column = table.c.pms_id if self.spec.patient == self.spec.key else table.c.patient_id
        known = connection.execute(sa.select(table.c.pms_id).where(
            table.c.source_id == self.puller.source_id, table.c.deleted_at.is_(None),
            column.in_(list(patients)))).scalars()
        missing = sorted(set(known) - present)
        if not missing:
            return []
        marks, params = in_list("key", missing)
        _, rows = self.driver.query(
            f"SELECT {self.spec.key} FROM {self.spec.table} WHERE {self.spec.key} IN ({marks})",
            params)
        still_there = {int(row[0]) for row in rows}
        return [key for key in missing if key not in still_there]
