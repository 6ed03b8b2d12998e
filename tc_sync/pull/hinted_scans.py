"""Which streams a scan may leave to the change hints, and for how long.

A scan of a large table walks every key (Open Dental's timestamps carry no index): most of the
PMS server's work for tc-sync. A stream the change hints re-read (one with a `patient` column)
needs that walk only for changes the PMS does not log, so while the hints keep up the daemon's
scans read such a stream once every `schedule.hinted_scan_seconds` instead of every scan. Each
stream has its own phase in that period, so the walks are spread over the scans rather than
falling due together. A stream is always read when the hints are behind (a look failing, or not
run), when its last pull was cut short, after a scan that did not complete (`pull.run`), in
a daemon's first scan after it starts (`runtime.daemon`), and by a full sweep.
`left_to_hints` puts those rules together for a scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tc_sync.adapter.manifest import Stream
from tc_sync.ledger.schema import sync_runs
from tc_sync.ledger.state import HINTED
from tc_sync.pull.cursor_store import HINTS_CURSOR, load_cursor
from tc_sync.pull.cursors import Cursor

HINTS_KEEPING_UP = timedelta(minutes=2)
"""The hints are keeping up when their last look read the audit trail up to this long ago
(a look every `hint_seconds`, 15 by default, reads up to `HINT_LAG`, 30 s, before its time)."""
_EPOCH = datetime(2000, 1, 1)


def is_hinted(stream: Stream) -> bool:
    """Whether the change hints re-read this stream (it has a patient column)."""
    return stream.spec.patient is not None


@dataclass(frozen=True)
class HintedScans:
    """One scan's view: how often hinted streams are walked, and how far the hints have read."""

    every: timedelta
    hints_read_to: datetime | None
    """The hints cursor: the audit trail has been read from every earlier look up to here."""
    now: datetime
    """The PMS clock as the scan began."""
    safety_lag: timedelta = timedelta(0)
    """How far a cursor's `since` stands before its pull began (`sync.safety_lag_seconds`)."""

    def keeping_up(self) -> bool:
        return self.hints_read_to is not None and self.hints_read_to >= self.now - (
            HINTS_KEEPING_UP)

    def defers(self, stream: Stream, cursor: Cursor, phase: float) -> bool:
        """Whether this scan may leave `stream` to the hints: it is hinted, its last walk
        (`cursor.since`) finished, and its next is not due. `phase` (0 to 1) places its walk
        within the period. (The looks have read the audit trail without a gap from before any
        walk but the first sync's, which the first look reads from: `pull.hints`.)"""
        since = cursor.since
        if not is_hinted(stream) or since is None or self.every <= timedelta(0):
            return False
        if cursor.pull is not None and not cursor.pull.done:
            return False                        # finish what was cut short
        if not self.keeping_up():
            return False
        walked = since + self.safety_lag
        return _period(self.now, self.every, phase) == _period(walked, self.every, phase)


def left_to_hints(engine: sa.Engine, source_id: str, streams: Sequence[Stream],
                  every: timedelta, now: datetime, safety_lag: timedelta) -> set[str]:
    """The names of the streams a scan beginning at `now` (the PMS clock) leaves to the
    change hints: none while the hints are behind, none after a scan that did not complete
    (the one a hints overflow ran, say, whose changes no look re-read), otherwise each
    hinted stream whose walk is not due (`HintedScans.defers`)."""
    with engine.connect() as connection:
        scans = HintedScans(every, load_cursor(connection, source_id, HINTS_CURSOR).since,
                            now, safety_lag)
        if not scans.keeping_up() or not _last_scan_complete(connection, source_id):
            return set()
        watched = [stream for stream in streams if is_hinted(stream)]
        cursors = [load_cursor(connection, source_id, stream.name) for stream in watched]
    return {stream.name for index, (stream, cursor) in enumerate(zip(watched, cursors,
                                                                     strict=True))
            if scans.defers(stream, cursor, index / len(watched))}


def _last_scan_complete(connection: sa.Connection, source_id: str) -> bool:
    """Whether the source's last finished scan (not a look at the hints) read what it set
    out to."""
    outcome = connection.execute(sa.select(sync_runs.c.outcome).where(
        sync_runs.c.source_id == source_id, sync_runs.c.mode != HINTED,
        sync_runs.c.outcome != "running").order_by(sync_runs.c.run_id.desc()).limit(1)).scalar()
    return outcome == "ok"


def _period(moment: datetime, every: timedelta, phase: float) -> int:
    """Which of the stream's periods `moment` falls in (each begins `phase` of a period later
    than the last's round multiple)."""
    seconds = (moment - _EPOCH).total_seconds() - phase * every.total_seconds()
    return int(seconds // every.total_seconds())
