"""What one set of queue files shows: the queues' rows, their totals, and data freshness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tc_sync.items.model import ItemKind
from tc_sync.queues.columns import Column, columns_for
from tc_sync.queues.patients import dollars_once
from tc_sync.queues.rows import KIND_LABELS, QueueRow, row_digest
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
    """Next follow-up today or earlier."""
    escalated: int
    amount: Decimal
    """Each dollar once: a planned procedure several items name counts once."""
    rows: int = 0
    """Rows listed: a patient's treatment follow-ups are one."""


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
    known: Mapping[int, bytes] = field(default_factory=dict, compare=False, repr=False)
    """`row_digest` of rows, by the row's id, where already made (the rows kept between
    builds carry theirs)."""
    _columns: dict[str, list[Column]] = field(default_factory=dict, compare=False, repr=False)
    _runs: dict[str, list[Run]] = field(default_factory=dict, compare=False, repr=False)
    _values: dict[tuple[str, int], list[list[Any]]] = field(default_factory=dict,
                                                            compare=False, repr=False)
    _tallies: dict[str | None, Tally] = field(default_factory=dict, compare=False, repr=False)
    _kinds: dict[str, list[tuple[str, Tally]]] = field(default_factory=dict, compare=False,
                                                      repr=False)

    def columns(self, queue: str) -> list[Column]:
        """The columns of one queue."""
        found = self._columns.get(queue)
        if found is None:
            found = self._columns[queue] = columns_for(self.queues[queue], clinics=self.clinics,
                                                       sources=self.sources)
        return found

    def digests(self, queue: str) -> list[bytes]:
        """Each of the queue's rows' `row_digest`, in order."""
        known = self.known
        return [known.get(id(row)) or row_digest(row) for row in self.queues[queue]]

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

    def tally(self, rows: list[QueueRow]) -> Tally:
        """Counts of some rows' items and their dollars, each counted once."""
        items = [part for row in rows for part in row.parts or (row,)]
        return Tally(len(items), sum(1 for r in items if r.next_follow_up <= self.today),
                     sum(1 for r in items if r.escalated), dollars_once(rows), len(rows))

    def queue_tally(self, queue: str | None = None) -> Tally:
        """A queue's counts and dollars (None: every queue's), worked out once."""
        found = self._tallies.get(queue)
        if found is None:
            rows = self.queues[queue] if queue is not None else [
                row for rows in self.queues.values() for row in rows]
            found = self._tallies[queue] = self.tally(rows)
        return found

    def by_kind(self, queue: str) -> list[tuple[str, Tally]]:
        """One queue's items counted per kind (in the order of `ItemKind`), worked out once."""
        if queue not in self._kinds:
            self._kinds[queue] = self._by_kind(queue)
        return self._kinds[queue]

    def _by_kind(self, queue: str) -> list[tuple[str, Tally]]:
        per_kind: dict[ItemKind, list[QueueRow]] = {}
        for row in self.queues[queue]:
            for part in row.parts or (row,):
                per_kind.setdefault(part.kind, []).append(part)
        return [(KIND_LABELS[kind], self.tally(per_kind[kind]))
                for kind in ItemKind if kind in per_kind]
