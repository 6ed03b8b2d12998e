"""What the queues are built from, as one cheap digest read before any row.

A build whose fingerprint matches the last one's (kept in the folder's list) has nothing new
to show, so it reads no rows at all: the daemon rebuilds after every cycle, and most cycles of
a quiet practice change nothing. The fingerprint covers the sources' items (how many are open,
how many there are, the latest change: every write of an item stamps `updated_at`, a move by
the follow-up plan `planned_at`), the
replica (the latest sync run that may have changed a row: any run but a clean one with no row
inserted, updated or deleted), and what the build is given (day, colours, settings, version).
A few index look-ups per build, whatever the size of the practice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from tc_sync import __version__
from tc_sync.ledger.schema import items, sync_runs


def ledger_state(connection: sa.Connection, source_ids: Sequence[str]) -> list[object]:
    """Per source: open items, all items, their latest change and plan, the latest run that
    may have changed the replica."""
    clean = sa.and_(sync_runs.c.outcome == "ok", sync_runs.c.rows_inserted == 0,
                    sync_runs.c.rows_updated == 0, sync_runs.c.rows_deleted == 0)
    runs = dict(connection.execute(
        sa.select(sync_runs.c.source_id, sa.func.max(sync_runs.c.run_id))
        .where(sync_runs.c.source_id.in_(source_ids), sa.not_(clean))
        .group_by(sync_runs.c.source_id)).all())
    return [(source, tuple(connection.execute(_items_state(source)).one()), runs.get(source))
            for source in source_ids]


def _items_state(source_id: str) -> sa.Select[tuple[int, int, object, object]]:
    """A source's open items, all its items, their latest change and plan: each from an index
    (the counts from the index's entries alone, the latest from its end), not the rows."""
    mine = items.c.source_id == source_id
    return sa.select(
        sa.select(sa.func.count()).where(mine, items.c.status == "open").scalar_subquery(),
        sa.select(sa.func.count()).where(mine).scalar_subquery(),
        sa.select(sa.func.max(items.c.updated_at)).where(mine).scalar_subquery(),
        sa.select(sa.func.max(items.c.planned_at)).where(mine).scalar_subquery())


def fingerprint(state: Sequence[object], day: date, colours: Sequence[tuple[str, str]],
                shaping: Sequence[object]) -> str:
    """The digest of a build's inputs: the ledger's `state`, the practice's day, each
    source's colour, and the settings that shape the files (`shaping`)."""
    shown = (__version__, list(state), day.isoformat(), list(colours), list(shaping))
    return hashlib.sha256(repr(shown).encode("utf-8")).hexdigest()
