"""Queue rows kept between builds, so that a build re-reads only the patients that changed.

Reading every open item with what the replica adds to it was a third of a build at 60,000
patients (issue 17), and the daemon rebuilds the files every half minute while the practice
works. So each build's rows are kept, by source and patient, and the next build asks the
ledger which patients changed since the last read began (`tc_sync.items.changed`: their
records, what they lean on, staff's changes; and any item of theirs written since), looking
back past the writes still open then (`ledger.open_transactions`; `LAG` more for other
processes' short ones), and re-reads only those. Looking back would re-read, build after
build, the patients whose items were written just before the last read (after the day's first
reconcile, thousands); so each read first notes the items written in that stretch as it sees
them (`_Kept.seen`), and an item found changed that is still as noted is left alone: the read
that noted it read what it shows. An item the follow-up plan
moved (it stamps `planned_at`, and can move thousands at once) only has its row's day
changed. Everything is read again:

* on the first build, and when the sources built together differ;
* when the practice's day changed (rows show ages);
* when a record every patient shares changed (a procedure code, a clinic, a provider...);
* when the open items the ledger counts differ from the rows kept (a change nothing named);
* at least every `WHOLE_READ_SECONDS`, whatever else happened.

Each patient's row of treatment follow-ups (`per_patient`) is kept with the rows, and each
row keeps its digest (for the files' content digests), made again only for the patients
re-read. The tables that let rows share equal values (`SharedValues`) last one read: kept,
they held more (~6 MB at 60,000 patients, mostly reasons no other row gives) than they saved.
Rows are kept per ledger engine and set of sources for the life of the process: the
daemon's builds share them; a one-shot command reads once.
"""

from __future__ import annotations

import threading
import time
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeAlias

import sqlalchemy as sa
import structlog

from tc_sync.items.changed import changed_since, patients_changed
from tc_sync.ledger.open_transactions import tracked
from tc_sync.ledger.schema import items, replica
from tc_sync.ledger.state import now_utc
from tc_sync.queues.patients import per_patient
from tc_sync.queues.rows import QueueRow, source_rows
from tc_sync.queues.shared import SharedValues
from tc_sync.records import Clinic, Provider

log = structlog.get_logger(__name__)

LAG = timedelta(seconds=15)
"""How far before the last read (or the oldest of this process's transactions open then) a
change is looked for: another process's write (a coordinator's `tc-sync items` command)
stamped before that read began may have committed after it."""
UNTRACKED_LAG = timedelta(seconds=120)
"""The same, for a ledger engine whose transactions are not followed: long enough for the
slowest of a sync's batches or a reconcile's chunks."""
WHOLE_READ_SECONDS = 3600.0
"""At least this often every row is read again, whatever the ledger says changed."""
_LABELS = (Clinic, Provider)
"""Records without a patient that rows show (their names): a change re-reads everyone."""


@dataclass
class _Kept:
    sources: tuple[str, ...]
    day: date
    look_from: datetime
    """Where the next read looks for changes from: when the last one began, less what was
    still open then (`_read_began`)."""
    whole_at: float
    """`time.monotonic()` when every row was last read."""
    seen: _Versions = field(default_factory=lambda: array("q"))
    """The items written after `look_from` that the last read saw before reading its rows,
    each as `_version` of its key and its `updated_at`, in order (8 bytes each: after the
    day's first reconcile there are tens of thousands, kept through a whole read)."""
    rows: dict[str, dict[int, _Listed]] = field(default_factory=dict)
    """Open items' rows by source and patient."""


_Versions: TypeAlias = "array[int]"
"""Signed 64-bit numbers (typecode "q"), in order (`_versions`)."""
_Listed = tuple[QueueRow, ...]
"""One patient's rows as the files list them (`per_patient`). Its items' own rows are the
listed rows' parts (a row of one item: the row itself), so they are not kept twice."""


def _items(listed: _Listed) -> Iterator[QueueRow]:
    """One row per open item of a patient's listed rows."""
    for row in listed:
        yield from row.parts or (row,)


@dataclass(frozen=True)
class QueueRows:
    """The rows of a build."""

    items: list[QueueRow]
    """One row per open item, in no particular order."""
    listed: list[QueueRow]
    """`per_patient(items)`: each patient's treatment follow-ups one row."""


@dataclass
class RowRead:
    """What a build's read did: rows re-read and whether it read every one."""

    whole: bool
    patients: int
    """Patients whose rows were read."""
    moved: int = 0
    """Patients whose rows only had a follow-up day moved by the plan (not re-read)."""


class RowCache:
    """One set of sources' queue rows, kept from build to build."""

    def __init__(self) -> None:
        self._kept: _Kept | None = None
        self.last_read: RowRead | None = None

    def forget(self) -> None:
        """Read every row next time."""
        self._kept = None

    def rows(self, connection: sa.Connection, source_ids: Sequence[str],
             today: date) -> QueueRows:
        """Every open item of these sources as a queue row: the patients changed since the
        last call re-read, the others' rows as they were."""
        started = _read_began(connection.engine)
        seen = _versions(connection, source_ids, started)   # before any row is read
        kept = self._kept
        if (kept is None or kept.sources != tuple(source_ids) or kept.day != today
                or time.monotonic() - kept.whole_at >= WHOLE_READ_SECONDS
                or not self._refresh(connection, kept, today)):
            self._kept = kept = None        # not held while every row is read again
            kept = self._read_all(connection, source_ids, today)
        kept.look_from, kept.seen = started, seen
        self._kept = kept
        patients = [patient for by_patient in kept.rows.values()
                    for patient in by_patient.values()]
        return QueueRows([row for patient in patients for row in _items(patient)],
                         [row for patient in patients for row in patient])

    def _read_all(self, connection: sa.Connection, source_ids: Sequence[str],
                  today: date) -> _Kept:
        kept = _Kept(tuple(source_ids), today, now_utc(), time.monotonic())
        shared = SharedValues()         # for this read only: its tables would outweigh the
        for source_id in source_ids:    # sharing between reads (issue 17)
            kept.rows[source_id] = _by_patient(
                source_rows(connection, source_id, today, shared))
        self.last_read = RowRead(True, sum(map(len, kept.rows.values())))
        return kept

    def _refresh(self, connection: sa.Connection, kept: _Kept, today: date) -> bool:
        """Re-read the patients changed since the last read; False if every row must be."""
        since = kept.look_from
        changed: dict[str, set[int]] = {}
        for source_id in kept.sources:
            patients = _changed(connection, source_id, since, kept.seen)
            if patients is None:
                return False
            changed[source_id] = patients
        read = moved = 0
        shared = SharedValues()
        for source_id, patients in changed.items():
            by_patient = kept.rows[source_id]
            days = _planned(connection, source_id, since, patients)
            reread = patients | (days.keys() - by_patient.keys())   # not kept: read, to be sure
            for patient in reread:
                by_patient.pop(patient, None)
            if reread:
                by_patient.update(_by_patient(
                    source_rows(connection, source_id, today, shared, reread)))
            for patient, moves in days.items():
                changed_days = None if patient in reread else _moved(by_patient[patient], moves)
                if changed_days is not None:
                    by_patient[patient] = changed_days
                    moved += 1
            read += len(reread)
        self.last_read = RowRead(False, read, moved)
        if _open_items(connection, kept.sources) != {
                source_id: sum(1 for patient in by_patient.values() for _ in _items(patient))
                for source_id, by_patient in kept.rows.items() if by_patient}:
            log.warning("queue_rows_reread", reason="open items differ from the rows kept")
            return False
        return True


def _read_began(engine: sa.Engine) -> datetime:
    """When a read beginning now began, for the next one's "changed since": now, or when the
    oldest of this process's transactions still open began (they may commit what they stamped
    after this read), less `LAG` for other processes'."""
    now = now_utc()
    transactions = tracked(engine)
    if transactions is None:
        return now - UNTRACKED_LAG
    oldest = transactions.oldest()
    return min(now, oldest or now) - LAG


def _changed(connection: sa.Connection, source_id: str, since: datetime,
             seen: _Versions) -> set[int] | None:
    """The source's patients whose rows may differ since `since` (an item still as the last
    read `seen` it does not count); None: maybe everyone's."""
    if any(changed_since(connection, replica[record], source_id, since) for record in _LABELS):
        return None
    patients, everyone = patients_changed(connection, source_id, since)
    if everyone:
        return None
    patients.update(patient for patient, key, stamp in connection.execute(sa.select(
        items.c.patient_id, items.c.item_key, items.c.updated_at).where(
        items.c.source_id == source_id, items.c.updated_at > since))
        if not _among(_version(key, stamp), seen))
    return patients


def _versions(connection: sa.Connection, source_ids: Sequence[str], since: datetime
              ) -> _Versions:
    """The items of these sources written after `since`, as `_version`s, in order."""
    return array("q", sorted(_version(key, stamp) for key, stamp in connection.execute(
        sa.select(items.c.item_key, items.c.updated_at).where(
            items.c.source_id.in_(source_ids), items.c.updated_at > since))))


def _among(version: int, versions: _Versions) -> bool:
    at = bisect_left(versions, version)
    return at < len(versions) and versions[at] == version


def _version(item_key: str, updated_at: datetime) -> int:
    """An item as written at one time, as a number (for this process only)."""
    return hash((item_key, updated_at))


def _planned(connection: sa.Connection, source_id: str, since: datetime,
             reread: set[int]) -> dict[int, dict[str, date]]:
    """Open items the follow-up plan moved since `since`, by patient, with their new day (the
    patients in `reread` left out: their rows are read again anyway)."""
    found: dict[int, dict[str, date]] = {}
    for patient, key, day in connection.execute(sa.select(
            items.c.patient_id, items.c.item_key, items.c.next_follow_up).where(
            items.c.source_id == source_id, items.c.planned_at > since,
            items.c.status == "open")):
        if patient not in reread:
            found.setdefault(patient, {})[key] = day
    return found


def _moved(patient: _Listed, days: dict[str, date]) -> _Listed | None:
    """The patient's rows with the plan's new follow-up days, listed again; None when the
    rows kept already show them (a move seen by the last build, looked at again)."""
    rows = list(_items(patient))
    if all(days.get(row.item_key, row.next_follow_up) == row.next_follow_up for row in rows):
        return None
    moved = [replace(row, next_follow_up=days.get(row.item_key, row.next_follow_up))
             for row in rows]
    return _by_patient(moved)[moved[0].patient_id]


def _open_items(connection: sa.Connection, source_ids: Sequence[str]) -> dict[str, int]:
    return {source_id: count for source_id, count in connection.execute(
        sa.select(items.c.source_id, sa.func.count()).where(
            items.c.source_id.in_(source_ids), items.c.status == "open")
        .group_by(items.c.source_id))}


def _by_patient(rows: Iterable[QueueRow]) -> dict[int, _Listed]:
    found: dict[int, list[QueueRow]] = {}
    for row in rows:
        found.setdefault(row.patient_id, []).append(row)
    return {patient: tuple(per_patient(items)) for patient, items in found.items()}


_CACHES: weakref.WeakKeyDictionary[sa.Engine, dict[tuple[str, ...], RowCache]] = (
    weakref.WeakKeyDictionary())
_CACHES_LOCK = threading.Lock()


def row_cache(engine: sa.Engine, source_ids: Sequence[str]) -> RowCache:
    """The rows kept for these sources of this ledger (made empty on first use)."""
    with _CACHES_LOCK:
        return _CACHES.setdefault(engine, {}).setdefault(tuple(source_ids), RowCache())
