"""When each of this process's ledger transactions that are still open began.

Writes stamp the ledger's clock (`state.now_utc`) as they are made, and commit later: a reader
that asks "what changed since my last read began?" (the queue rows kept between builds,
`queues.row_cache`) must look back past any write that was open when that read began, or miss
it. A fixed look-back long enough for the slowest batch (two minutes) re-read each change in
three or four builds while the practice works (issue 17); the oldest open transaction says
exactly how far back to look for this process's writes. Other processes (a coordinator's
`tc-sync items` command) write in short transactions, which a small margin covers.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta

import sqlalchemy as sa

from tc_sync.ledger.state import now_utc

STALE_AFTER = timedelta(hours=1)
"""A transaction open longer than this is taken for one whose end was never seen."""


class OpenTransactions:
    """The start of every transaction open on one engine's connections (in this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._began: dict[int, datetime] = {}

    def began(self, connection: sa.Connection) -> None:
        with self._lock:
            self._began[id(connection)] = now_utc()

    def ended(self, connection: sa.Connection) -> None:
        with self._lock:
            self._began.pop(id(connection), None)

    def oldest(self, within: timedelta = STALE_AFTER) -> datetime | None:
        """When the oldest transaction still open began, of those begun `within` (None: none
        is open). One open longer is taken for lost (a connection dropped mid-transaction
        says nothing): no tc-sync transaction lasts that long."""
        horizon = now_utc() - within
        with self._lock:
            return min((began for began in self._began.values() if began >= horizon),
                       default=None)


_TRACKED: weakref.WeakKeyDictionary[sa.Engine, OpenTransactions] = weakref.WeakKeyDictionary()


def track(engine: sa.Engine) -> OpenTransactions:
    """Follow the engine's transactions from now on (call it before any is opened)."""
    tracked = _TRACKED.get(engine)
    if tracked is None:
        tracked = _TRACKED[engine] = OpenTransactions()
        sa.event.listen(engine, "begin", tracked.began)
        sa.event.listen(engine, "commit", tracked.ended)
        sa.event.listen(engine, "rollback", tracked.ended)
    return tracked


def tracked(engine: sa.Engine) -> OpenTransactions | None:
    """The engine's open transactions, if they have been followed since it was made."""
    return _TRACKED.get(engine)
