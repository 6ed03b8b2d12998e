"""Runs of queue rows, and each file's text for them kept from one build to the next.

After a look (a couple of hundred of 60,000 patients changed) a build made every row of every
queue again in three formats: about 5 s of processor time at 60,000 patients, every half
minute while the practice works (issue 17). So a queue's rows are cut into runs of a few rows,
and each file keeps what it made of each run, compressed, until its next build, which makes
only the runs whose rows changed and copies the rest. The text is kept on disk, in a spool
(`tc_sync.queues.spool`) the files of a folder share, not in the process's memory,
compressed with LZ4: every build reads back the text of every run it did not make (about
110 MB at 60,000 patients), which LZ4 does about six times as fast as zlib's fastest level, for
about a third more bytes kept (about 30 MB).

Runs end where a row's own digest says (content-defined, as backup tools cut files): a row
changed, added or removed changes its own run and at most the next, wherever it falls in the
queue, rather than shifting every run after it. A run's key is the digest of its rows'
digests; each format adds what else shapes its text (the queue's columns, the day).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import lz4.block

from tc_sync.queues.spool import Spool, Spooled

RUN_ROWS = 16
"""Rows in a run, on average: a run ends after a row whose digest's first byte is below
256 / RUN_ROWS. Smaller runs make fewer rows again after a change, at more keys per build."""
LONGEST_RUN = 256
"""A run never holds more rows than this, whatever the digests say."""
SPOOL_SLACK = 8 << 20
"""Bytes of text no file keeps any more that a spool may hold before it is rewritten (and
never more than the text kept)."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Run:
    """Rows `start` to `end` (exclusive) of a queue, in the order shown."""

    start: int
    end: int
    key: bytes
    """The digest of its rows' digests."""


def cut_runs(digests: Sequence[bytes]) -> list[Run]:
    """A queue's rows (by their digests, in order) cut into runs."""
    runs: list[Run] = []
    start = 0
    threshold = 256 // RUN_ROWS
    for index, digest in enumerate(digests):
        end = index + 1
        if digest[0] < threshold or end - start >= LONGEST_RUN or end == len(digests):
            runs.append(Run(start, end, hashlib.sha256(b"".join(digests[start:end])).digest()))
            start = end
    return runs


def run_key(context: bytes, run: Run, *extra: str) -> bytes:
    """A run's key in one format: its rows, what shapes the format's text (`context`), and
    anything of the run's own that is not in its rows' digests (`extra`)."""
    digest = hashlib.sha256(context)
    digest.update(run.key)
    for text in extra:
        digest.update(text.encode("utf-8"))
    return digest.digest()


class FileRuns:
    """What one file made of each run at its last build, for the next.

    A build asks for each run's text by key (`text`, `value`): found, it is the one kept;
    otherwise `make` makes it. Once the file is written, `keep` keeps this build's runs and
    forgets the others; a build that failed (`discard`) leaves the last one's as they were.
    Text is kept in `spool`, or in memory without one (a file made once).
    """

    def __init__(self, spool: Spool | None = None) -> None:
        self.spool = spool
        self._last: dict[bytes, object] = {}
        self._now: dict[bytes, object] = {}
        self.made = 0
        """Runs made (not found) since the last `keep` or `discard`."""

    def text(self, key: bytes, make: Callable[[], str]) -> bytes:
        """The run's text, as UTF-8."""
        found = self._find(key)
        if isinstance(found, Spooled):
            found = self.spool.read(found) if self.spool is not None else None
        if isinstance(found, bytes):    # in memory: no spool, or it could not be written
            return lz4.block.decompress(found)  # type: ignore[no-any-return]
        text = make().encode("utf-8")
        packed = lz4.block.compress(text)
        self._now[key] = self.spool.keep(packed) if self.spool is not None else packed
        self.made += 1
        return text

    def value(self, key: bytes, make: Callable[[], _T]) -> _T:
        """A small value worked out from the run (widths, counts): kept as it is, in memory."""
        found = self._find(key)
        if found is None:
            found = self._now[key] = make()
        return found  # type: ignore[return-value]

    def _find(self, key: bytes) -> object | None:
        found = self._now.get(key)
        if found is None:
            found = self._last.get(key)
            if found is not None:
                self._now[key] = found
        return found

    def keep(self) -> None:
        """This build's file was written: keep its runs for the next, and only those."""
        self._last, self._now, self.made = self._now, {}, 0

    def discard(self) -> None:
        """This build's file was not written: the next build starts from the last one's."""
        self._now, self.made = {}, 0

    @property
    def size(self) -> int:
        """Bytes of text kept (compressed), in the spool or in memory."""
        return sum(value.length if isinstance(value, Spooled) else len(value)
                   for value in self._last.values() if isinstance(value, Spooled | bytes))

    def spooled(self) -> list[Spooled]:
        """Where the text kept lies in the spool."""
        return [value for value in self._last.values() if isinstance(value, Spooled)]

    def moved(self, where: dict[Spooled, Spooled]) -> None:
        """The spool was rewritten: text kept lies `where` says now (or was lost, and is made
        again when asked for)."""
        self._last = {key: where[value] if isinstance(value, Spooled) else value
                      for key, value in self._last.items()
                      if not isinstance(value, Spooled) or value in where}


def compact(spool: Spool, files: Iterable[FileRuns]) -> None:
    """Rewrite the spool with only the text these files keep (between builds: each file
    written, discarded or left alone), when what no file keeps outgrows `SPOOL_SLACK` and
    the text kept."""
    files = [file for file in files if file.spool is spool]
    live = [where for file in files for where in file.spooled()]
    kept = sum(where.length for where in live)
    if spool.size - kept <= max(SPOOL_SLACK, kept):
        return
    where = spool.rewritten(live)
    for file in files:
        file.moved(where)


BATCH_BYTES = 1 << 18
"""Runs' text put together before it is written: a few hundred KB, not a write per run."""


def batched(texts: Iterable[bytes]) -> Iterator[bytes]:
    """Runs' texts, joined into pieces of about `BATCH_BYTES`."""
    pending: list[bytes] = []
    size = 0
    for text in texts:
        pending.append(text)
        size += len(text)
        if size >= BATCH_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)
