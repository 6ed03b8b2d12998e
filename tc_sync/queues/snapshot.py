"""What one set of queue files shows: the queues' rows, their totals, and data freshness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tc_sync.config.mappings import AGED_QUEUE
from tc_sync.items.model import ItemKind
from tc_sync.queues.columns import Column, columns_for
from tc_sync.queues.rows import KIND_LABELS, QueueRow
from tc_sync.queues.runs import Run, cut_runs


@dataclass(frozen=True)
class Freshness:
    """A source's data freshness as the files show it."""

    source_id: str
    colour: str
    """green, amber or red (`tc_sync.observability.health.Colour`) when the files were built."""
    reason: str
    last_success_at: datetime | None
    """Aware, in the practice's time zone."""
    aged: bool = False
    """The reason only says how long ago `last_success_at` was, as of the build."""


@dataclass(frozen=True)
class Tally:
    """Counts and dollars of some rows."""

    items: int
    """Open items (a patient's row of treatment follow-ups counts each of them)."""
    due: int
    """Next follow-up today or earlier (never one in the aged queue: not the day's work)."""
    escalated: int
    amount: Decimal
    """Each dollar once: a planned procedure several items name counts once."""
    rows: int = 0
    """Rows listed: a patient's treatment follow-ups are one."""


def is_due(row: QueueRow, today: date) -> bool:
    """Whether a row counts as due now: its next follow-up today or earlier, and not in the
    aged queue (reported, not worked day by day)."""
    return row.queue != AGED_QUEUE and row.next_follow_up <= today


@dataclass(frozen=True)
class Snapshot:
    """Everything one set of files (the practice's, or one clinic's) shows."""

    site_id: str
    scope: str
    """"All clinics", or the clinic's short name."""
    built_at: datetime
    """Aware, in the practice's time zone."""
    today: date
    queues: dict[str, list[QueueRow]]
    """Rows per queue, in the order to work them."""
    freshness: list[Freshness]
    amber_after_minutes: int
    red_after_minutes: int
    clinics: bool
    """Show the clinic column."""
    sources: bool
    """Show the Practice column (the files show several sources)."""
    _columns: dict[str, list[Column]] = field(default_factory=dict, compare=False, repr=False)
    _runs: dict[str, list[Run]] = field(default_factory=dict, compare=False, repr=False)
    _values: dict[tuple[str, int], list[list[Any]]] = field(default_factory=dict,
                                                            compare=False, repr=False)
    _tallies: dict[str, tuple[_Sum, dict[ItemKind, _Sum]]] = field(
        default_factory=dict, compare=False, repr=False)

    def columns(self, queue: str) -> list[Column]:
        """The columns of one queue."""
        found = self._columns.get(queue)
        if found is None:
            found = self._columns[queue] = columns_for(self.queues[queue], clinics=self.clinics,
                                                       sources=self.sources)
        return found

    def digests(self, queue: str) -> list[bytes]:
        """Each of the queue's rows' `QueueRow.digest`, in order."""
        return [row.digest for row in self.queues[queue]]

    def runs(self, queue: str) -> list[Run]:
        """The queue's rows cut into runs (`tc_sync.queues.runs`), worked out once."""
        found = self._runs.get(queue)
        if found is None:
            found = self._runs[queue] = cut_runs(self.digests(queue))
        return found

    def values(self, queue: str, run: Run | None = None) -> list[list[Any]]:
        """Each of the queue's `columns` as a run's rows' values (None: every row's), one
        list per column, rows in order: worked out once for every format (a "why now" or a
        row's follow-ups is a few string operations per row)."""
        key = (queue, run.start if run is not None else -1)
        table = self._values.get(key)
        if table is None:
            rows = self.queues[queue]
            if run is not None:
                rows = rows[run.start:run.end]
            table = self._values[key] = [column.values(rows) for column in self.columns(queue)]
        return table

    def queue_tally(self, queue: str | None = None) -> Tally:
        """A queue's counts and dollars (None: every queue's), worked out once."""
        if queue is not None:
            return self._sums(queue)[0].tally()
        whole = _Sum()
        for name in self.queues:
            whole.merge(self._sums(name)[0])
        return whole.tally()

    def by_kind(self, queue: str) -> list[tuple[str, Tally]]:
        """One queue's items counted per kind (in the order of `ItemKind`), worked out once."""
        kinds = self._sums(queue)[1]
        return [(KIND_LABELS[kind], kinds[kind].tally()) for kind in ItemKind if kind in kinds]

    def _sums(self, queue: str) -> tuple[_Sum, dict[ItemKind, _Sum]]:
        """The queue's counts and dollars, whole and per kind, in one pass over its rows
        (nothing in the aged queue is due: it is reported, not worked day by day)."""
        found = self._tallies.get(queue)
        if found is None:
            kinds = dict[ItemKind, _Sum]()
            today, worked = self.today, queue != AGED_QUEUE
            rows = self.queues[queue]
            for row in rows:
                for item in row.parts or (row,):
                    kind = kinds.get(item.kind)
                    if kind is None:
                        kind = kinds[item.kind] = _Sum()
                    kind.add(item, worked and item.next_follow_up <= today)
            whole = _Sum()
            for kind in kinds.values():
                whole.merge(kind)
            whole.rows = len(rows)
            found = self._tallies[queue] = (whole, kinds)
        return found


class _Sum:
    """Counts and dollars of items as they are added, each planned procedure's dollars once
    (by source: a procedure's dollars are the same whichever row names it), as
    `dollars_once` adds them up."""

    __slots__ = ("due", "escalated", "items", "other", "procedures", "rows")

    def __init__(self) -> None:
        self.items = self.due = self.escalated = self.rows = 0
        self.other = Decimal(0)
        """Dollars that are no sum of planned procedures (a claim's fee)."""
        self.procedures: dict[str, dict[int, Decimal]] = {}
        """Each planned procedure's dollars, by source and procedure id."""

    def add(self, item: QueueRow, due: bool) -> None:
        """One item (a row of one item, or one of a patient's row's parts)."""
        self.items += 1
        self.rows += 1
        self.due += due
        self.escalated += item.escalated
        if item.priced is None:
            self.other += item.amount or 0
            return
        source = self.procedures.get(item.source_id)
        if source is None:
            source = self.procedures[item.source_id] = {}
        source.update(item.priced)

    def merge(self, other: _Sum) -> None:
        """Add another's items."""
        self.items += other.items
        self.due += other.due
        self.escalated += other.escalated
        self.rows += other.rows
        self.other += other.other
        for source, procedures in other.procedures.items():
            self.procedures.setdefault(source, {}).update(procedures)

    def tally(self) -> Tally:
        dollars = sum((sum(procedures.values(), Decimal(0))
                       for procedures in self.procedures.values()), Decimal(0))
        return Tally(self.items, self.due, self.escalated, self.other + dollars, self.rows)
