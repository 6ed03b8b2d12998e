"""Runs of queue rows: cut where the rows say, so a change moves few of them, and kept per
file from one written build to the next (issue 17). A build that copies them writes what a
build from scratch writes: tests/test_queue_row_cache.py."""

from __future__ import annotations

import hashlib
import random
from itertools import pairwise

from tc_sync.queues.runs import LONGEST_RUN, FileRuns, cut_runs


def digests(count: int, seed: int) -> list[bytes]:
    generator = random.Random(seed)
    return [hashlib.sha256(generator.randbytes(8)).digest() for _ in range(count)]


def test_a_row_added_or_changed_changes_only_the_runs_around_it():
    rows = digests(5000, 1)
    before = cut_runs(rows)
    assert before[0].start == 0 and before[-1].end == len(rows)
    assert all(a.end == b.start for a, b in pairwise(before))
    assert all(run.end - run.start <= LONGEST_RUN for run in before)
    added = rows[:2500] + digests(1, 2) + rows[2500:]
    changed = rows[:1000] + digests(1, 3) + rows[1001:]
    for after in (cut_runs(added), cut_runs(changed)):
        kept = {run.key for run in before} & {run.key for run in after}
        assert len(before) - len(kept) <= 2 and len(after) - len(kept) <= 2


def test_a_file_keeps_the_runs_of_its_last_written_build_only():
    runs = FileRuns()
    assert runs.text(b"a", lambda: "first") == b"first" and runs.made == 1
    runs.keep()
    assert runs.text(b"a", lambda: "made again") == b"first" and runs.made == 0
    assert runs.text(b"b", lambda: "second") == b"second"
    runs.discard()          # that build's file was not written: "b" is not kept
    assert runs.text(b"b", lambda: "made again") == b"made again" and runs.made == 1
    runs.keep()             # "a" was not asked for by this build: gone
    assert runs.text(b"a", lambda: "new") == b"new"
