"""The work queues re-read only the patients that changed since the last build, and make again
only the runs of rows that changed (issue 17); the files they write are the ones a build from
scratch writes."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from tc_sync.config.mappings_file import load_mappings
from tc_sync.config.observability import LoggingSettings
from tc_sync.items.reconcile import plan_follow_ups, reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.items import update_item
from tc_sync.ledger.schema import items, replica, sync_runs
from tc_sync.ledger.state import now_utc
from tc_sync.observability import logs
from tc_sync.queues import row_cache as row_cache_module
from tc_sync.queues.build import MANIFEST, build_queues
from tc_sync.queues.row_cache import row_cache
from tc_sync.records import Claim, Patient, Procedure, ProcedureStatus
from tests import observed
from tests.test_queues import TODAY, practice_settings, synced_an_hour_ago, synced_practice


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("practice")
    synced_practice(folder).dispose()
    return folder


@pytest.fixture
def ledger(practice: Path, tmp_path: Path) -> sa.Engine:
    """A copy of the practice's ledger, synced an hour ago."""
    with sqlite3.connect(practice / "ledger.db") as source, \
            sqlite3.connect(tmp_path / "ledger.db") as copy:
        source.backup(copy)
        synced_an_hour_ago(copy)
    engine = open_ledger(practice_settings(tmp_path).ledger.url)
    yield engine
    engine.dispose()


def digests(folder: Path) -> dict[str, str]:
    return dict(json.loads((folder / MANIFEST).read_text("utf-8"))["digests"])


def shows(folder: Path, key: str) -> bool:
    """Whether the page lists the item `key` in a row."""
    page = (folder / "queues.html").read_text("utf-8")
    return re.search(rf'data-key="[^"]*(?<![\w:]){re.escape(key)}(?![\w:])', page) is not None


def first_open(connection: sa.Connection, kind: str, skip: set[int]) -> tuple[str, int]:
    key, patient = connection.execute(sa.select(items.c.item_key, items.c.patient_id).where(
        items.c.status == "open", items.c.kind == kind, items.c.patient_id.not_in(skip))
        .order_by(items.c.item_key).limit(1)).one()
    return key, patient


def a_sync_changes_three_patients(engine: sa.Engine) -> dict[str, str]:
    """As a sync and its reconcile would: one patient's phone, another's planned treatment
    done, a third's claim deleted in the PMS. Returns the items it touched."""
    moment = now_utc()
    procedures, claims, patients = replica[Procedure], replica[Claim], replica[Patient]
    with engine.begin() as connection:
        phone_key, phone_patient = first_open(connection, "claim_outstanding", set())
        treatment_key, treated = first_open(connection, "unscheduled_treatment", {phone_patient})
        claim_key, _ = first_open(connection, "claim_outstanding",
                                              {phone_patient, treated})
        connection.execute(patients.update().where(patients.c.pms_id == phone_patient).values(
            preferred_contact="mobile_phone", mobile_phone="(555)555-0999",
            last_changed=moment))
        connection.execute(procedures.update().where(
            procedures.c.patient_id == treated,
            procedures.c.status == ProcedureStatus.PLANNED.value).values(
            status=ProcedureStatus.COMPLETE.value, last_changed=moment))
        claim_id = connection.scalar(sa.select(items.c.claim_id).where(
            items.c.item_key == claim_key))
        connection.execute(claims.update().where(claims.c.pms_id == claim_id).values(
            deleted_at=moment, last_changed=moment))
        connection.execute(sync_runs.insert().values(
            source_id="main", mode="incremental", started_at=moment, finished_at=moment,
            outcome="ok", rows_read=3, rows_inserted=0, rows_updated=2, rows_deleted=1,
            rows_quarantined=0, statements=3, longest_statement_ms=0))
    reconcile_source(engine, "main", load_mappings(), TODAY, complete_run=True)
    return {"phone": phone_key, "treatment": treatment_key, "claim": claim_key}


def test_a_build_after_a_sync_rereads_only_the_patients_it_changed(ledger, tmp_path):
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    first = build_queues(ledger, settings, folder=share, today=TODAY)
    everyone = row_cache(ledger, ["main"]).last_read
    assert everyone is not None and everyone.whole and everyone.patients > 100

    touched = a_sync_changes_three_patients(ledger)
    second = build_queues(ledger, settings, folder=share, today=TODAY)
    read = row_cache(ledger, ["main"]).last_read
    # the three patients, and those whose follow-ups the reconcile's planning moved
    assert read is not None and not read.whole and 3 <= read.patients <= 12
    with ledger.connect() as connection:
        resolved = dict(connection.execute(sa.select(items.c.item_key, items.c.status).where(
            items.c.item_key.in_([touched["treatment"], touched["claim"]]))).all())
        still_open = connection.scalar(sa.select(sa.func.count()).where(
            items.c.status == "open"))
    assert resolved == {touched["treatment"]: "resolved", touched["claim"]: "resolved"}
    assert sum(second.queues.values()) == still_open < sum(first.queues.values())

    # What a coordinator opens is what a build from scratch writes (a new engine: no rows kept).
    fresh_engine = open_ledger(settings.ledger.url)
    fresh = tmp_path / "fresh"
    build_queues(fresh_engine, settings, folder=fresh, today=TODAY)
    fresh_engine.dispose()
    assert digests(share) == digests(fresh)
    assert "(555)555-0999" in (share / "queues.html").read_text("utf-8")
    assert shows(share, touched["phone"])
    assert not shows(share, touched["claim"]) and not shows(share, touched["treatment"])


def test_items_written_just_before_a_build_are_not_read_again_by_the_next(ledger, tmp_path):
    """The day's first reconcile stamps every patient's items moments before the build: the
    next build re-reads the patients changed since, not those thousands again."""
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    with ledger.begin() as connection:
        connection.execute(items.update().values(updated_at=now_utc()))
    build_queues(ledger, settings, folder=share, today=TODAY)
    assert row_cache(ledger, ["main"]).last_read.whole

    touched = a_sync_changes_three_patients(ledger)
    build_queues(ledger, settings, folder=share, today=TODAY)
    read = row_cache(ledger, ["main"]).last_read
    assert read is not None and not read.whole and 3 <= read.patients <= 12
    fresh_engine = open_ledger(settings.ledger.url)
    build_queues(fresh_engine, settings, folder=tmp_path / "fresh", today=TODAY)
    fresh_engine.dispose()
    assert digests(share) == digests(tmp_path / "fresh")
    assert not shows(share, touched["claim"])


def test_a_new_day_rereads_every_row(ledger, tmp_path):
    settings = practice_settings(tmp_path)
    build_queues(ledger, settings, folder=tmp_path / "share", today=TODAY)
    build_queues(ledger, settings, folder=tmp_path / "share", today=TODAY + timedelta(days=1))
    read = row_cache(ledger, ["main"]).last_read
    assert read is not None and read.whole


def test_an_item_changed_without_its_stamp_is_caught_by_the_count_and_everything_reread(
        ledger, tmp_path):
    """A write that did not stamp `updated_at` (nothing in tc-sync does that; a hand edit of
    the ledger might) still reaches the files: the open items no longer match the rows."""
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    build_queues(ledger, settings, folder=share, today=TODAY)
    with ledger.begin() as connection:
        key, _ = first_open(connection, "claim_outstanding", set())
        connection.execute(items.update().where(items.c.item_key == key).values(
            status="resolved"))                             # updated_at left as it was
        moment = now_utc()
        connection.execute(sync_runs.insert().values(       # (the fingerprint moves)
            source_id="main", mode="incremental", started_at=moment, finished_at=moment,
            outcome="ok", rows_read=1, rows_inserted=0, rows_updated=1, rows_deleted=0,
            rows_quarantined=0, statements=1, longest_statement_ms=0))
    with capture_logs() as logs:
        build_queues(ledger, settings, folder=share, today=TODAY)
    read = row_cache(ledger, ["main"]).last_read
    assert read is not None and read.whole
    assert any(entry["event"] == "queue_rows_reread" for entry in logs)
    assert not shows(share, key)


def test_a_write_still_open_when_a_build_read_is_in_the_next_build_however_long_it_took(
        ledger, tmp_path, monkeypatch):
    """A reconcile's chunk stamps its items, then commits after a build began reading: the
    next build looks back to when that transaction began (`ledger.open_transactions`), not a
    fixed time before the read, so a slow write is never missed and a change is not re-read
    by build after build."""
    monkeypatch.setattr(row_cache_module, "LAG", timedelta(0))   # no margin to hide behind
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    build_queues(ledger, settings, folder=share, today=TODAY)
    with ledger.begin() as connection:          # something committed for the next build
        done, _ = first_open(connection, "claim_outstanding", set())
        update_item(connection, done, {"owner": "Dana"})
    with ledger.connect() as writer, writer.begin():
        slow, _ = first_open(writer, "unscheduled_treatment", set())
        update_item(writer, slow, {"owner": "Morgan"})      # stamped now, committed later
        build_queues(ledger, settings, folder=share, today=TODAY)
        assert row_cache(ledger, ["main"]).last_read.patients >= 1
    assert "Morgan" not in (share / "queues.html").read_text("utf-8")

    build_queues(ledger, settings, folder=share, today=TODAY)
    read = row_cache(ledger, ["main"]).last_read
    assert read is not None and not read.whole and read.patients >= 1
    fresh_engine = open_ledger(settings.ledger.url)
    build_queues(fresh_engine, settings, folder=tmp_path / "fresh", today=TODAY)
    fresh_engine.dispose()
    assert digests(share) == digests(tmp_path / "fresh")
    assert "Morgan" in (share / "queues.html").read_text("utf-8")


def test_rows_kept_for_one_ledger_are_never_another_ledgers(practice, tmp_path):
    """Tests and a group's daemons open several ledgers in one process."""
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        with sqlite3.connect(practice / "ledger.db") as source, \
                sqlite3.connect(folder / "ledger.db") as copy:
            source.backup(copy)
    with sqlite3.connect(two / "ledger.db") as copy:
        copy.execute("UPDATE items SET status = 'resolved' WHERE kind = 'claim_outstanding'")
    engines = [open_ledger(practice_settings(folder).ledger.url) for folder in (one, two)]
    built = [build_queues(engine, practice_settings(folder), folder=folder / "share",
                          today=TODAY)
             for engine, folder in zip(engines, (one, two), strict=True)]
    for engine in engines:
        engine.dispose()
    assert sum(built[1].queues.values()) < sum(built[0].queues.values())


def test_the_log_file_says_how_many_patients_a_build_read_and_its_cpu(ledger, tmp_path):
    logs.configure(0)
    logs.log_to_file(tmp_path / "tc-sync.log", LoggingSettings())
    try:
        settings = practice_settings(tmp_path)
        build_queues(ledger, settings, folder=tmp_path / "share", today=TODAY)
        a_sync_changes_three_patients(ledger)
        build_queues(ledger, settings, folder=tmp_path / "share", today=TODAY)
        build_queues(ledger, settings, folder=tmp_path / "share", today=TODAY)
        built = [entry for entry in observed.json_lines(tmp_path)
                 if entry["event"] == "queues_built"]
    finally:
        observed.reset()
    whole, changed, quiet = built
    assert whole["read_all"] is True and whole["patients_read"] > 100
    assert changed["read_all"] is False and 3 <= changed["patients_read"] <= 12
    assert quiet["quiet"] is True and quiet["files"] == 0
    assert all(isinstance(entry["cpu_seconds"], float) for entry in built)  # for IT, not PHI


def test_a_plan_that_moves_follow_ups_changes_their_days_without_rereading_anyone(
        ledger, tmp_path):
    """The scan's plan can move thousands of items by a day: their rows' days change, no
    patient is read again, and the files are those a build from scratch writes."""
    settings = practice_settings(tmp_path)
    share = tmp_path / "share"
    build_queues(ledger, settings, folder=share, today=TODAY)
    (tmp_path / "mappings.yaml").write_text("workload:\n  capacity_per_day: 1\n")
    moved = plan_follow_ups(ledger, "main", load_mappings(tmp_path / "mappings.yaml"), TODAY)
    assert moved > 20

    build_queues(ledger, settings, folder=share, today=TODAY)
    read = row_cache(ledger, ["main"]).last_read
    assert read is not None and not read.whole and read.patients == 0 and read.moved > 10
    with ledger.begin() as connection:                     # anything new: a staff change
        key, _ = first_open(connection, "claim_outstanding", set())
        update_item(connection, key, {"owner": "Rosa"})
    build_queues(ledger, settings, folder=share, today=TODAY)
    again = row_cache(ledger, ["main"]).last_read          # the plan's moves, looked at again
    assert again is not None and again.patients == 1 and again.moved == 0
    fresh_engine = open_ledger(settings.ledger.url)
    build_queues(fresh_engine, settings, folder=tmp_path / "fresh", today=TODAY)
    fresh_engine.dispose()
    assert digests(share) == digests(tmp_path / "fresh")


BUILT = datetime(2026, 3, 2, 16, 30, tzinfo=ZoneInfo("America/Chicago"))
"""When the builds compared byte for byte say they were built."""


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
