"""Kept run text on disk: byte strings appended to a private temporary file, read back by place.

The queue files' runs of rows (`tc_sync.queues.runs`) keep their text from one build to the
next, compressed: about 30 MB at 60,000 patients, which the daemon held in its memory for its
life (issue 17). On disk the operating system caches what a build reads back, and can drop it
when memory is short. The file is created on the first write, readable by its owner only,
unlinked at once where the system allows (else deleted when closed, or when the process ends,
however it ends), and never in the queue folder that coordinators open. A spool that cannot be
written or read never fails a build: the text is kept in memory instead, or made again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Spooled:
    """Where one byte string lies in its spool."""

    offset: int
    length: int


class Spool:
    """An append-only temporary file of byte strings (made in `folder`, else the system's
    temporary folder)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._file: IO[bytes] | None = None
        self.size = 0
        """Bytes written, live or not."""
        self._failing = False
        """The last write or read failed (logged once, not at every run)."""

    def keep(self, data: bytes) -> Spooled | bytes:
        """Write `data`; where it lies, or `data` itself if the spool cannot be written."""
        try:
            file = self._open()
            file.seek(self.size)
            file.write(data)
            file.flush()        # a full disk says so here, not at a later read
        except OSError as error:
            self._failed("queue_spool_not_written", error)
            return data
        found = Spooled(self.size, len(data))
        self.size += len(data)
        self._failing = False
        return found

    def read(self, where: Spooled) -> bytes | None:
        """The bytes written there; None if they cannot be read back."""
        try:
            if self._file is None:
                raise FileNotFoundError(None, "the spool is closed")
            self._file.seek(where.offset)
            data = self._file.read(where.length)
        except OSError as error:
            self._failed("queue_spool_not_read", error)
            return None
        return data if len(data) == where.length else None

    def rewritten(self, live: Iterable[Spooled]) -> dict[Spooled, Spooled]:
        """Copy what lies at `live` into a new file that replaces this one (the rest is
        dropped); returns where each went. What cannot be copied is left out."""
        live = list(live)
        fresh = Spool(self.folder)
        moved: dict[Spooled, Spooled] = {}
        for where in live:
            data = self.read(where)
            if data is None:
                continue
            copied = fresh.keep(data)
            if not isinstance(copied, Spooled):
                fresh.close()
                return {where: where for where in live}     # keep the old file as it is
            moved[where] = copied
        self.close()
        self._file, self.size = fresh._file, fresh.size
        return moved

    def close(self) -> None:
        """Delete the file; what was written there is gone."""
        if self._file is not None:
            self._file.close()
            self._file, self.size = None, 0

    def _failed(self, event: str, error: OSError) -> None:
        if not self._failing:
            log.warning(event, error_class=type(error).__name__, detail=error.strerror)
        self._failing = True

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(  # noqa: SIM115 (open while kept: closed by close)
                prefix="tc-sync-runs-", dir=self.folder)
            self.size = 0
        return self._file
