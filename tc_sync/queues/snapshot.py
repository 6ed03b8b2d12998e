"""What one set of queue files shows: the queues' rows, their totals, and data freshness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tc_sync.items.model import ItemKind
from tc_sync.queues.columns import Column, columns_for
from tc_sync.queues.patients import dollars_once
from tc_sync.queues.rows import KIND_LABELS, QueueRow


@dataclass(frozen=True)
class Freshness:
    """A source's data freshness as the files show it."""

    source_id: str
    colour: str
    """green, amber or red (`tc_sync.health.Colour`) when the files were built."""
    reason: str
    last_success_at: datetime | None
    """Aware, in the practice's time zone."""


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

    def columns(self, queue: str) -> list[Column]:
        """The columns of one queue."""
        return columns_for(self.queues[queue], clinics=self.clinics, sources=self.sources)

    def tally(self, rows: list[QueueRow]) -> Tally:
        """Counts of some rows' items and their dollars, each counted once."""
        items = [part for row in rows for part in row.parts or (row,)]
        return Tally(len(items), sum(1 for r in items if r.next_follow_up <= self.today),
                     sum(1 for r in items if r.escalated), dollars_once(rows), len(rows))

    def by_kind(self, queue: str) -> list[tuple[str, Tally]]:
        """One queue's items counted per kind (in the order of `ItemKind`)."""
        per_kind: dict[ItemKind, list[QueueRow]] = {}
        for row in self.queues[queue]:
            for part in row.parts or (row,):
                per_kind.setdefault(part.kind, []).append(part)
        return [(KIND_LABELS[kind], self.tally(per_kind[kind]))
                for kind in ItemKind if kind in per_kind]
