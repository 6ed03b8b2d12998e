"""Cursor arithmetic for incremental pulls: pure functions over plain values.

A stream's cursor says which rows the next pull must read: those changed at or after `since`
(inclusive, so re-read rows are harmless; the upsert is by PMS key). A pull walks the PMS key
from `after_key` up to `until_key`, frozen when the pull starts, in windows; its progress is
committed with each batch, so a pull cut short resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

PullMode = Literal["incremental", "full"]


@dataclass(frozen=True)
class Pull:
    """An unfinished pull of one stream."""

    mode: PullMode
    since: datetime | None
    """Rows changed at or after this are read; None reads every row (a full pull)."""
    started_at: datetime
    """The PMS clock when the pull began."""
    after_key: int
    """Every key up to and including this one has been read and committed."""
    until_key: int
    """The highest key when the pull began: the pull ends here."""

    @property
    def done(self) -> bool:
        return self.after_key >= self.until_key


@dataclass(frozen=True)
class Cursor:
    """A stream's saved position."""

    since: datetime | None = None
    """The next incremental pull reads rows changed at or after this; None: never pulled."""
    last_full_pull: datetime | None = None
    pull: Pull | None = None


def begin_pull(
    cursor: Cursor, *, full: bool, incremental_stream: bool, now: datetime, max_key: int,
) -> Pull:
    """The pull to run now: resume an unfinished one when it fits, else start afresh.

    A stream without a cursor column, a stream never pulled and an explicit `full` request get
    a full pull (every row, which also finds rows deleted in the PMS).
    """
    mode: PullMode = "full" if full or not incremental_stream or cursor.since is None else (
        "incremental")
    unfinished = cursor.pull
    if unfinished is not None and not unfinished.done and (
            unfinished.mode in (mode, "full")):
        return unfinished
    since = None if mode == "full" else cursor.since
    return Pull(mode=mode, since=since, started_at=now, after_key=0, until_key=max_key)


def window(pull: Pull, window_keys: int) -> tuple[int, int]:
    """The key range (exclusive, inclusive) of the next statement.

    A full pull reads consecutive keys and lets LIMIT cut the batch; an incremental pull also
    filters on the unindexed cursor column, so it bounds how many keys one statement scans.
    """
    if pull.mode == "full":
        return pull.after_key, pull.until_key
    return pull.after_key, min(pull.after_key + window_keys, pull.until_key)


def windows(pull: Pull, window_keys: int, count: int) -> list[tuple[int, int]]:
    """Up to `count` consecutive windows from where the pull stands, to read side by side.

    Only an incremental pull's windows are known in advance; a full pull's next statement
    starts where the LIMIT cut the last one, so it reads one window at a time.
    """
    if pull.mode == "full" or pull.done:
        return [window(pull, window_keys)]
    ahead: list[tuple[int, int]] = []
    low = pull.after_key
    while len(ahead) < max(1, count) and low < pull.until_key:
        high = min(low + window_keys, pull.until_key)
        ahead.append((low, high))
        low = high
    return ahead


def batch_end(pull: Pull, window_end: int, rows_returned: int, batch_size: int,
              last_key: int | None) -> int:
    """Up to which key a statement's result covers every row of the PMS."""
    if rows_returned >= batch_size and last_key is not None:
        return last_key
    return window_end


def advance(pull: Pull, covered_to: int) -> Pull:
    """The pull after every key up to `covered_to` has been committed."""
    return replace(pull, after_key=max(pull.after_key, covered_to))


def finish(cursor: Cursor, pull: Pull, safety_lag: timedelta) -> Cursor:
    """The cursor after `pull` completed: the next pull starts shortly before this one did."""
    since = pull.started_at - safety_lag
    if cursor.since is not None and pull.mode == "incremental":
        since = max(since, cursor.since)
    last_full = pull.started_at if pull.mode == "full" else cursor.last_full_pull
    return Cursor(since=since, last_full_pull=last_full, pull=None)
