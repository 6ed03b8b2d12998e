"""Runs of queue rows, and each file's text for them kept from one build to the next.

After a look (a couple of hundred of 60,000 patients changed) a build made every row of every
queue again in three formats: about 5 s of processor time at 60,000 patients, every half
minute while the practice works (issue 17). So a queue's rows are cut into runs of a few rows,
and each file keeps what it made of each run, compressed, until its next build, which makes
only the runs whose rows changed and copies the rest.

Runs end where a row's own digest says (content-defined, as backup tools cut files): a row
changed, added or removed changes its own run and at most the next, wherever it falls in the
queue, rather than shifting every run after it. A run's key is the digest of its rows'
digests; each format adds what else shapes its text (the queue's columns, the day).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tc_sync.queues.deflate import DEFLATE

RUN_ROWS = 16
"""Rows in a run, on average: a run ends after a row whose digest's first byte is below
256 / RUN_ROWS. Smaller runs make fewer rows again after a change, at more keys per build."""
LONGEST_RUN = 256
"""A run never holds more rows than this, whatever the digests say."""
_LEVEL = 1
"""zlib's fastest level: the kept text of a 60,000-patient practice's files (about 100 MB as
written) is a few MB. Kept text is compressed by zlib, whose output is sized as it grows:
ISA-L's (`tc_sync.queues.deflate`), three times as fast, left the process 14 MB larger at
that size by fragmenting the heap. It is read back by the fastest inflate installed."""
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
    """

    def __init__(self) -> None:
        self._last: dict[bytes, object] = {}
        self._now: dict[bytes, object] = {}
        self.made = 0
        """Runs made (not found) since the last `keep` or `discard`."""

    def text(self, key: bytes, make: Callable[[], str]) -> bytes:
        """The run's text, as UTF-8."""
        found = self._find(key)
        if isinstance(found, bytes):
            return DEFLATE.decompress(found)  # type: ignore[no-any-return]
        text = make().encode("utf-8")
        self._now[key] = zlib.compress(text, _LEVEL)
        self.made += 1
        return text

    def value(self, key: bytes, make: Callable[[], _T]) -> _T:
        """A small value worked out from the run (widths, counts): kept as it is."""
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
        """Bytes of text kept (compressed)."""
        return sum(len(value) for value in self._last.values() if isinstance(value, bytes))


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
