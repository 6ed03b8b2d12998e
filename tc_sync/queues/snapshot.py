"""What one set of queue files shows: the queues' rows, their totals, and data freshness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import chain
from operator import attrgetter

from tc_sync.config.mappings import AGED_QUEUE
from tc_sync.items.model import ItemKind
from tc_sync.queues.columns import Column, ColumnValues, columns_for
from tc_sync.queues.rows import KIND_LABELS, QueueRow
from tc_sync.queues.runs import FileRuns, Run, cut_runs, run_key

_ESCALATED = attrgetter("escalated")
_NEXT_FOLLOW_UP = attrgetter("next_follow_up")


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
    counted: FileRuns | None = field(default=None, compare=False, repr=False)
    """Each run's counts from the last build, kept for the next (None: count every row)."""
    _columns: dict[str, list[Column]] = field(default_factory=dict, compare=False, repr=False)
    _runs: dict[str, list[Run]] = field(default_factory=dict, compare=False, repr=False)
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

    def values(self, queue: str, run: Run | None = None) -> ColumnValues:
        """Each of the queue's `columns` as a run's rows' values (None: every row's), one
        list per column, rows in order, each column worked out when a format first asks.
        Not kept between formats: at 60,000 patients a build that made every run held
        about 40 MB of them until its last file; working them out again, each pass only its
        own columns, costs a whole build about 0.2 s of its 14 s (issue 17)."""
        rows = self.queues[queue]
        return ColumnValues(self.columns(queue),
                            rows if run is None else rows[run.start:run.end])

    @property
    def counted_now(self) -> bool:
        """Whether this snapshot has counted any queue (so `counted` holds its runs' counts)."""
        return bool(self._tallies)

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
        """The queue's counts and dollars, whole and per kind, worked out once (nothing in the
        aged queue is due: it is reported, not worked day by day). With `counted`, each run
        of rows is counted once while its rows stay as they are, and its counts are added up
        at each build: counting every row at every build was a tenth of a build after a look
        (issue 17)."""
        found = self._tallies.get(queue)
        if found is None:
            rows = self.queues[queue]
            today = self.today if queue != AGED_QUEUE else None
            if self.counted is None:
                parts = [_counted(rows, today)]
            else:
                context = repr(("tallies", today)).encode("utf-8")
                parts = [self.counted.value(run_key(context, run),
                                            partial(_counted, rows[run.start:run.end], today))
                         for run in self.runs(queue)]
            kinds = dict[ItemKind, _Sum]()
            priced = dict[tuple[ItemKind, str], list[_Pricings]]()
            for part in parts:
                for counted in part:
                    total = kinds.get(counted.kind)
                    if total is None:
                        total = kinds[counted.kind] = _Sum()
                    total.add(counted)
                    if counted.priced:
                        priced.setdefault((counted.kind, counted.source_id), []).append(
                            counted.priced)
            for (kind, source_id), pricings in priced.items():
                kinds[kind].procedures[source_id] = dict(
                    chain.from_iterable(chain.from_iterable(pricings)))
            whole = _Sum()
            for kind in (kind for kind in ItemKind if kind in kinds):
                whole.merge(kinds[kind])
            whole.rows = len(rows)
            found = self._tallies[queue] = (whole, kinds)
        return found


_Pricings = tuple[tuple[tuple[int, Decimal], ...], ...]
"""Priced items' `QueueRow.priced`, the rows' own tuples."""


@dataclass(frozen=True, slots=True)
class _Counted:
    """Some rows' items of one kind and source, counted: what a run keeps for the next build
    (small: its priced procedures are the rows' own tuples, not copied)."""

    kind: ItemKind
    source_id: str
    items: int
    due: int
    escalated: int
    other: Decimal
    """Dollars that are no sum of planned procedures (a claim's fee)."""
    priced: _Pricings


def _counted(rows: list[QueueRow], today: date | None) -> tuple[_Counted, ...]:
    """Some rows' items counted per kind and source, due if their next follow-up is `today`
    or earlier (None: none is due)."""
    grouped = dict[tuple[ItemKind, str], list[QueueRow]]()
    for row in rows:
        for item in row.parts or (row,):
            key = (item.kind, item.source_id)
            group = grouped.get(key)
            if group is None:
                group = grouped[key] = []
            group.append(item)
    return tuple(_Counted(
        kind, source_id, items=len(items),
        due=0 if today is None else sum(
            1 for when in map(_NEXT_FOLLOW_UP, items) if when <= today),
        escalated=sum(map(_ESCALATED, items)),
        other=sum((item.amount for item in items
                   if item.priced is None and item.amount is not None), Decimal(0)),
        priced=tuple(item.priced for item in items if item.priced is not None))
        for (kind, source_id), items in grouped.items())


class _Sum:
    """Counts and dollars of items, each planned procedure's dollars once (by source: a
    procedure's dollars are the same whichever row names it), as `dollars_once` adds them up."""

    __slots__ = ("due", "escalated", "items", "other", "procedures", "rows")

    def __init__(self) -> None:
        self.items = self.due = self.escalated = self.rows = 0
        self.other = Decimal(0)
        """Dollars that are no sum of planned procedures (a claim's fee)."""
        self.procedures: dict[str, dict[int, Decimal]] = {}
        """Each planned procedure's dollars, by source and procedure id."""

    def add(self, counted: _Counted) -> None:
        """Some items' counts (their procedures' dollars are the caller's to add)."""
        self.items += counted.items
        self.rows += counted.items
        self.due += counted.due
        self.escalated += counted.escalated
        self.other += counted.other

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
