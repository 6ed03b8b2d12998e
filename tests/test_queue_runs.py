"""Runs of queue rows: cut where the rows say, so a change moves few of them, and kept per
file from one written build to the next, their text on disk (issue 17). A build that copies
them writes what a build from scratch writes: tests/test_queue_row_cache.py."""

from __future__ import annotations

import hashlib
import random
from itertools import pairwise

import pytest
from structlog.testing import capture_logs

from tc_sync.queues import runs as runs_module
from tc_sync.queues.runs import LONGEST_RUN, FileRuns, compact, cut_runs
from tc_sync.queues.spool import Spool


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


@pytest.fixture
def spool(tmp_path):
    made = Spool(tmp_path)
    yield made
    made.close()


def test_kept_text_lies_in_the_spool_and_is_read_back_from_it(spool, tmp_path):
    runs = FileRuns(spool)
    texts = {f"key{n}".encode(): random.Random(n).randbytes(3000).hex() for n in range(50)}
    for key, text in texts.items():
        runs.text(key, lambda text=text: text)
    runs.keep()
    assert spool.size == runs.size > 0
    assert not any(tmp_path.iterdir())          # no file left in the folder to be found
    for key, text in texts.items():
        assert runs.text(key, lambda: "made again") == text.encode()
    assert runs.made == 0


def test_the_spool_is_rewritten_once_most_of_it_is_text_no_file_keeps(spool, monkeypatch):
    monkeypatch.setattr(runs_module, "SPOOL_SLACK", 0)
    first, second = FileRuns(spool), FileRuns(spool)
    for build in range(6):
        for n in range(20):
            first.text(f"{build}-{n}".encode(), lambda n=n, build=build: f"{build}:{n}:" * 500)
        first.keep()                 # only this build's runs are kept
        second.text(b"always", lambda: "the same" * 500)
        second.keep()
        compact(spool, [first, second])
        kept = first.size + second.size
        assert spool.size <= 2 * kept       # six builds' text would be three times as much
    assert first.text(b"5-7", lambda: "made again") == ("5:7:" * 500).encode()
    assert second.text(b"always", lambda: "made again") == ("the same" * 500).encode()
    assert first.made == second.made == 0


def test_a_spool_that_cannot_be_written_keeps_the_text_in_memory_and_says_so_once(tmp_path):
    runs = FileRuns(Spool(tmp_path / "gone"))       # no such folder: no file can be made
    with capture_logs() as logs:
        assert runs.text(b"a", lambda: "first") == b"first"
        assert runs.text(b"b", lambda: "second") == b"second"
    runs.keep()
    assert runs.text(b"a", lambda: "made again") == b"first" and runs.made == 0
    assert [log["event"] for log in logs] == ["queue_spool_not_written"]
    assert logs[0]["error_class"] == "FileNotFoundError"


def test_text_the_spool_lost_is_made_again(spool):
    runs = FileRuns(spool)
    runs.text(b"a", lambda: "first")
    runs.keep()
    spool.close()                                   # the file is gone
    assert runs.text(b"a", lambda: "made again") == b"made again" and runs.made == 1
