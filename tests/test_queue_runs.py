"""A build after a small change makes only the runs of rows that changed and copies the rest
from the last build's text (issue 17), and what it writes is byte for byte what a build from
scratch writes."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import zipfile
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import open_ledger
from tc_sync.queues.build import build_queues
from tc_sync.queues.runs import LONGEST_RUN, FileRuns, cut_runs
from tests.test_queue_row_cache import a_sync_changes_three_patients
from tests.test_queues import TODAY, practice_settings, synced_an_hour_ago, synced_practice

BUILT = datetime(2026, 3, 2, 16, 30, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("practice")
    synced_practice(folder).dispose()
    return folder


@pytest.fixture
def ledger(practice: Path, tmp_path: Path) -> sa.Engine:
    with sqlite3.connect(practice / "ledger.db") as source, \
            sqlite3.connect(tmp_path / "ledger.db") as copy:
        source.backup(copy)
        synced_an_hour_ago(copy)
    engine = open_ledger(practice_settings(tmp_path).ledger.url)
    yield engine
    engine.dispose()


def contents(folder: Path) -> dict[str, bytes]:
    """Every queue file's bytes; a workbook's as each of its parts'."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                found.update({f"{path.name}:{name}": book.read(name)
                              for name in book.namelist()})
        elif path.suffix in (".csv", ".html"):
            found[path.name] = path.read_bytes()
    return found


def test_a_build_after_a_sync_copies_the_unchanged_runs_and_writes_what_a_fresh_build_does(
        ledger, tmp_path):
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    first = build_queues(ledger, settings, folder=share, today=TODAY, now=BUILT)
    a_sync_changes_three_patients(ledger)
    second = build_queues(ledger, settings, folder=share, today=TODAY, now=BUILT)
    assert second.written and 0 < second.runs_made <= first.runs_made // 3

    fresh_engine = open_ledger(settings.ledger.url)      # nothing kept: every run made
    fresh = build_queues(fresh_engine, settings, folder=tmp_path / "fresh", today=TODAY,
                         now=BUILT)
    fresh_engine.dispose()
    assert fresh.runs_made > second.runs_made
    made, copied = contents(tmp_path / "fresh"), contents(share)
    assert made.keys() == copied.keys() and len(made) > 5
    assert [name for name in made if made[name] != copied[name]] == []


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
