"""A stream's cursor kept in the ledger (`cursors` table), committed with each batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import cursors
from tc_sync.ledger.state import now_utc
from tc_sync.pull.cursors import Cursor, Pull
from tc_sync.pull.progress import key_fraction

HINTS_CURSOR = "@hints"
"""The row (in place of a stream name) that keeps where a source's change hints were last
read (`pull.hints`); it is not a stream's."""


def load_cursor(connection: sa.Connection, source_id: str, stream: str) -> Cursor:
    """Where a stream of a source stands: a fresh cursor if it was never pulled."""
    row = connection.execute(
        sa.select(cursors).where(cursors.c.source_id == source_id,
                                 cursors.c.stream == stream)).mappings().first()
    if row is None:
        return Cursor()
    pull = None
    if row["pull_mode"] is not None:
        pull = Pull(mode=row["pull_mode"], since=row["pull_since"],
                    started_at=row["pull_started_at"], after_key=row["pull_after_key"],
                    until_key=row["pull_until_key"])
    return Cursor(since=row["since"], last_full_pull=row["last_full_pull"], pull=pull)


def first_walked(connection: sa.Connection, source_id: str) -> datetime | None:
    """The earliest `since` among a source's streams: every change after it is in the ledger
    or still to be read by a scan."""
    since: datetime | None = connection.execute(sa.select(sa.func.min(cursors.c.since)).where(
        cursors.c.source_id == source_id, cursors.c.stream != HINTS_CURSOR)).scalar()
    return since


def save_cursor(connection: sa.Connection, source_id: str, stream: str, cursor: Cursor) -> None:
    """Record where a stream stands, in the transaction that commits its batch."""
    pull = cursor.pull
    values: dict[str, Any] = {
        "since": cursor.since, "last_full_pull": cursor.last_full_pull,
        "pull_mode": pull.mode if pull else None, "pull_since": pull.since if pull else None,
        "pull_started_at": pull.started_at if pull else None,
        "pull_after_key": pull.after_key if pull else None,
        "pull_until_key": pull.until_key if pull else None,
        "updated_at": now_utc(),
    }
    updated = connection.execute(
        cursors.update().where(cursors.c.source_id == source_id, cursors.c.stream == stream)
        .values(**values))
    if updated.rowcount == 0:
        connection.execute(cursors.insert().values(source_id=source_id, stream=stream, **values))


@dataclass(frozen=True)
class StreamStanding:
    """Where a stream stands within a run, as its committed cursor says."""

    stream: str
    done: bool
    """Its pull finished (or had nothing to read)."""
    fraction: float | None
    """How far through its keys an unfinished pull is (0..1)."""


def standing_since(connection: sa.Connection, source_id: str, since: datetime
                   ) -> list[StreamStanding]:
    """The streams of a source whose cursor moved at or after `since` (a running pull's
    start), in the order they moved: what another process can tell of a pull in progress."""
    rows = connection.execute(
        sa.select(cursors.c.stream, cursors.c.pull_mode, cursors.c.pull_after_key,
                  cursors.c.pull_until_key)
        .where(cursors.c.source_id == source_id, cursors.c.stream != HINTS_CURSOR,
               cursors.c.updated_at >= since)
        .order_by(cursors.c.updated_at)).all()
    return [StreamStanding(stream, mode is None,
                           None if mode is None else key_fraction(0, after, until))
            for stream, mode, after, until in rows]
