"""Progress of a long pull, per stream: rows so far, rows a second, and how far through the keys.

The pull calls a `Progress` after each committed batch and once when a stream ends. Two
reporters: `TerminalProgress` redraws one line per stream on a terminal (only when stdout is
one), `LogProgress` logs `stream_progress` at most every `interval` seconds (the daemon).
Neither carries anything but the stream's name and counts.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StreamProgress:
    """Where one stream's pull stands."""

    source_id: str
    stream: str
    mode: str
    rows: int
    seconds: float
    fraction: float | None
    """How far through the keys the pull is (0..1), when the pull walks them all (full)."""
    done: bool = False
    batches: int = 0
    after_key: int = 0
    until_key: int = 0

    @property
    def rate(self) -> float:
        """Rows a second so far."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[StreamProgress], None]


def key_fraction(first_key: int, after_key: int, until_key: int) -> float | None:
    """How far a pull from `first_key` to `until_key` is once `after_key` is read (0..1)."""
    span = until_key - first_key
    if span <= 0:
        return None
    return min(1.0, max(0.0, (after_key - first_key) / span))


def describe(event: StreamProgress, verbose: bool = False) -> str:
    """One line: `  procedures   full  1,230,000 rows  41,000 rows/s  62%`."""
    share = f"  {100 * event.fraction:3.0f}%" if event.fraction is not None else ""
    line = (f"  {event.stream:<17} {event.mode:<11} {event.rows:>10,} rows  "
            f"{event.rate:>8,.0f} rows/s{share}")
    if event.done:
        line += f"  done in {event.seconds:.1f} s"
    if verbose:
        line += f"  [{event.batches} batches, key {event.after_key:,} of {event.until_key:,}]"
    return line


class TerminalProgress:
    """Redraws the current stream's line in place on a terminal, at most 4 times a second."""

    def __init__(self, out: TextIO | None = None, *, verbose: bool = False,
                 interval: float = 0.25) -> None:
        self.out = out or sys.stdout
        self.verbose = verbose
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()

    @classmethod
    def if_terminal(cls, verbose: bool = False) -> TerminalProgress | None:
        """A reporter when stdout is a terminal, else None (a pipe or a log gets no redraws)."""
        return cls(verbose=verbose) if sys.stdout.isatty() else None

    def __call__(self, event: StreamProgress) -> None:
        now = time.monotonic()
        with self._lock:
            if not event.done and now - self._last < self.interval:
                return
            self._last = now
            end = "\n" if event.done else ""
            self.out.write(f"\r{describe(event, self.verbose):<100}{end}")
            self.out.flush()


class LogProgress:
    """Logs `stream_progress` for a stream still running after each `interval` seconds."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self._next: dict[tuple[str, str], float] = {}

    def __call__(self, event: StreamProgress) -> None:
        key = (event.source_id, event.stream)
        due = self._next.setdefault(key, event.seconds + self.interval)
        if event.done:
            self._next.pop(key, None)
            return
        if event.seconds < due:
            return
        self._next[key] = event.seconds + self.interval
        log.info("stream_progress", source=event.source_id, stream=event.stream,
                 mode=event.mode, rows=event.rows, rows_per_second=round(event.rate),
                 percent=None if event.fraction is None else round(100 * event.fraction, 1),
                 seconds=round(event.seconds, 1))


def both(*reporters: Progress | None) -> Progress | None:
    """One `Progress` calling each reporter given (None when none is)."""
    present = [reporter for reporter in reporters if reporter is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def report(event: StreamProgress) -> None:
        for reporter in present:
            reporter(event)

    return report
