"""Items open, move and resolve as Dentrix's data changes, end to end through real ODBC.

The Dentrix-shaped synthetic practice sits in PostgreSQL (schema admin: the Developer
Program's views over base tables, and the base tables integrators read), read through
psqlODBC as a role granted SELECT only. The front desk changes rows as the owner; the
server sets each row's change timestamp, as c-treeACE does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tc_sync.config import SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.pull.run import sync_source
from tc_sync.records import Claim, Patient, Procedure

from .odbc_support import (
    PG_DRIVER,
    SQLITE_DRIVER,
    TODAY,
    PmsDatabase,
    pms_database,
    practice_rows,
    require_odbc_driver,
    sqlite_source,
)

pytestmark = pytest.mark.postgres
MAPPINGS = load_mappings()
DENTRIX_KINDS = ("unscheduled_treatment", "predetermination_pending",
                 "predetermination_returned", "claim_unsent", "claim_outstanding",
                 "claim_denied", "broken_appointment", "benefits_expiring")


@pytest.fixture
def dentrix(postgres_admin) -> Iterator[PmsDatabase]:
    require_odbc_driver(PG_DRIVER)
    with pms_database(postgres_admin, "dentrix") as database:
        yield database


@pytest.fixture
def ledger(tmp_path) -> Iterator[sa.Engine]:
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


def cycle(ledger, source, *, full=False, today=TODAY, deletes_each_cycle=True):
    result = sync_source(ledger, "main", source, SyncSettings(
        safety_lag_seconds=0, deletes_each_cycle=deletes_each_cycle), full=full)
    totals = reconcile_source(ledger, "main", MAPPINGS, today,
                              complete_run=result.outcome == "ok", run_id=result.run_id)
    return result, totals


def item(ledger, key: str) -> dict:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items).where(items.c.item_key == key))
                    .mappings().one())


def events(ledger, key: str) -> list[tuple[str, dict]]:
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(item_events.c.event, item_events.c.detail).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id))
        return [(event, json.loads(detail)) for event, detail in rows]


def open_keys(ledger, kind: str) -> list[str]:
    with ledger.connect() as connection:
        return sorted(connection.execute(sa.select(items.c.item_key).where(
            items.c.kind == kind, items.c.status == "open")).scalars())


def subject(key: str) -> int:
    return int(key.rsplit(":", 1)[1])


def live_count(ledger, record) -> int:
    table = replica[record]
    with ledger.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table).where(
            table.c.deleted_at.is_(None))))


def book(dentrix: PmsDatabase, patient: int, days_ahead: int) -> int:
    """The front desk books the patient an appointment (status: the practice's own)."""
    apt = dentrix.scalar("SELECT MAX(apptid) + 1 FROM admin.appt")
    dentrix.execute(
        "INSERT INTO admin.appt (apptid, patid, apptdate, timehr, timemin, apptlen, provid, "
        "opid, status, broken, apptreason, createdate) VALUES (%s, %s, %s, 9, 30, 60, 1, 1, "
        "1003, 0, 'Crown', %s)", apt, patient, TODAY + timedelta(days=days_ahead), TODAY)
    return int(apt)


def test_a_first_sync_reads_every_row_the_adapter_reads_and_skips_ledger_rows(dentrix, ledger):
    result, _ = cycle(ledger, dentrix.source())
    assert result.outcome == "ok", result.error
    assert result.rows_quarantined == 0
    rows = practice_rows("dentrix")
    assert live_count(ledger, Patient) == len(rows["patient"])
    assert live_count(ledger, Claim) == len(rows["claim"])
    payments = dentrix.scalar("SELECT COUNT(*) FROM admin.fullproclog WHERE chartstatus = 90")
    assert payments > 0
    assert live_count(ledger, Procedure) == len(rows["fullproclog"]) - payments


def test_the_first_cycle_opens_every_kind_dentrix_data_allows_and_a_second_writes_nothing(
        dentrix, ledger):
    _, totals = cycle(ledger, dentrix.source())
    with ledger.connect() as connection:
        per_kind = dict(connection.execute(sa.select(items.c.kind, sa.func.count()).where(
            items.c.status == "open").group_by(items.c.kind)).all())
    for kind in DENTRIX_KINDS:
        assert per_kind.get(kind, 0) > 0, kind
    assert totals.opened == sum(per_kind.values())
    again, totals = cycle(ledger, dentrix.source())
    assert totals.by_event == {}
    modes = {s.stream: s.mode for s in again.streams}
    assert modes["procedures"] == modes["appointments"] == "incremental"
    assert sum(s.rows_read for s in again.streams if s.mode == "incremental") == 0


def test_booking_the_patient_resolves_unscheduled_treatment_as_scheduled(dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    book(dentrix, subject(key), 14)
    result, totals = cycle(ledger, dentrix.source())
    assert {s.stream: s.rows_read for s in result.streams}["appointments"] == 1
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "scheduled")
    assert events(ledger, key)[-1] == ("resolved", {"reason": "scheduled"})
    assert totals.patients < 5          # only the patient who changed was evaluated


def test_a_returned_pre_treatment_estimate_resolves_pending_and_opens_returned(
        dentrix, ledger):
    cycle(ledger, dentrix.source())
    waiting = {subject(key) for key in open_keys(ledger, "unscheduled_treatment")}
    estimates = {claim for claim, patient in dentrix.execute(
        "SELECT DISTINCT c.claimid, c.patid FROM admin.claim c JOIN admin.fullproclog f "
        "ON f.claimid = c.claimid WHERE c.claimtype = 2 AND f.chartstatus IN (101, 105)")
        if patient in waiting}
    key = next(key for key in open_keys(ledger, "predetermination_pending")
               if subject(key) in estimates)
    claim = subject(key)
    dentrix.execute("UPDATE admin.claim SET datereceived = %s WHERE claimid = %s", TODAY, claim)
    dentrix.execute("UPDATE admin.fullproclog SET amtpreauth = amt * 0.5 WHERE claimid = %s",
                    claim)
    cycle(ledger, dentrix.source())
    assert item(ledger, key)["resolution"] == "received"
    returned = item(ledger, f"predetermination_returned:main:{claim}")
    assert returned["status"] == "open"
    assert json.loads(returned["details"])["estimate"] > 0


def test_a_call_logged_in_the_office_journal_counts_as_an_attempt(dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    before = item(ledger, key)
    contact = dentrix.scalar("SELECT MAX(contactid) + 1 FROM admin.contact")
    dentrix.execute("INSERT INTO admin.contact (contactid, patid, contactdate, contacttype, "
                    "title) VALUES (%s, %s, %s, 5, 'Call')", contact, subject(key),
                    f"{TODAY} 10:00:00")
    cycle(ledger, dentrix.source())
    after = item(ledger, key)
    assert after["attempts"] == before["attempts"] + 1
    assert after["next_follow_up"] > TODAY
    assert events(ledger, key)[-1][0] == "contacted"


def test_breaking_the_only_booking_opens_a_broken_appointment_item(dentrix, ledger):
    cycle(ledger, dentrix.source())
    apt, patient = dentrix.execute(
        "SELECT a.apptid, a.patid FROM admin.appt a JOIN admin.patient p ON p.patid = a.patid "
        "WHERE a.apptdate > %s AND a.broken = 0 AND a.status <> -106 AND p.status = 1 "
        "AND (SELECT COUNT(*) FROM admin.appt b WHERE b.patid = a.patid "
        "AND b.apptdate > %s AND b.broken = 0) = 1 ORDER BY a.apptid LIMIT 1", TODAY, TODAY)[0]
    dentrix.execute("UPDATE admin.appt SET broken = 1 WHERE apptid = %s", apt)
    cycle(ledger, dentrix.source())
    broken = item(ledger, f"broken_appointment:main:{apt}")
    assert (broken["status"], broken["patient_id"]) == ("open", patient)


def test_a_deleted_claim_resolves_in_the_next_cycle(dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "claim_outstanding")[0]
    dentrix.execute("DELETE FROM admin.claim WHERE claimid = %s", subject(key))
    cycle(ledger, dentrix.source())
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "deleted_in_pms")


def test_with_deletes_left_to_the_sweep_a_deleted_claim_waits_for_it(dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "claim_outstanding")[0]
    dentrix.execute("DELETE FROM admin.claim WHERE claimid = %s", subject(key))
    cycle(ledger, dentrix.source(), deletes_each_cycle=False)
    assert item(ledger, key)["status"] == "open"
    cycle(ledger, dentrix.source(), full=True)
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "deleted_in_pms")


def test_a_table_the_reader_may_no_longer_read_makes_a_partial_pull_that_resolves_nothing(
        dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    book(dentrix, subject(key), 10)
    dentrix.execute(f"REVOKE SELECT ON admin.contact FROM {dentrix.role}")
    result, _ = cycle(ledger, dentrix.source())
    assert result.outcome == "partial"
    assert "contact_log" in (result.error or "") and "permission denied" in (result.error or "")
    assert item(ledger, key)["status"] == "open"
    dentrix.execute(f"GRANT SELECT ON admin.contact TO {dentrix.role}")
    result, _ = cycle(ledger, dentrix.source())
    assert result.outcome == "ok"
    assert item(ledger, key)["resolution"] == "scheduled"


def test_time_alone_moves_a_claim_into_the_next_aging_bucket(dentrix, ledger):
    cycle(ledger, dentrix.source())
    key = next(key for key in open_keys(ledger, "claim_outstanding")
               if json.loads(item(ledger, key)["details"])["bucket"] != "90+")
    bucket = json.loads(item(ledger, key)["details"])["bucket"]
    cycle(ledger, dentrix.source(), today=TODAY + timedelta(days=31))
    assert json.loads(item(ledger, key)["details"])["bucket"] != bucket
    assert events(ledger, key)[-1][0] == "changed"


def test_a_locked_table_trips_the_hang_guard_the_run_says_so_and_the_next_one_completes(
        dentrix, ledger, postgres_admin):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    book(dentrix, subject(key), 7)
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        url = postgres_admin.url.set(database=dentrix.name)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("LOCK TABLE admin.claim IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(60)
        engine.dispose()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(30)
        result, _ = cycle(ledger, dentrix.source(statement_limit=2))
    finally:
        release.set()
        holder.join()
    modes = {s.stream: s.mode for s in result.streams}
    assert result.outcome == "partial"
    assert modes["claims"] == modes["claim_procedures"] == "failed"
    assert modes["appointments"] == "incremental"
    assert "ran longer than 2 s" in (result.error or "")
    assert item(ledger, key)["status"] == "open"       # a partial run resolves nothing
    result, _ = cycle(ledger, dentrix.source(statement_limit=2))
    assert result.outcome == "ok"
    assert item(ledger, key)["resolution"] == "scheduled"


def test_both_odbc_drivers_produce_the_same_ledger(dentrix, ledger, tmp_path):
    require_odbc_driver(SQLITE_DRIVER)
    other = open_ledger(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert cycle(ledger, dentrix.source())[0].outcome == "ok"
        result, _ = cycle(other, sqlite_source(tmp_path, "dentrix"))
        assert result.outcome == "ok", result.error
        for record in (Patient, Procedure, Claim):
            table = replica[record]
            fields = [c for c in table.c if c.name not in (
                "source_id", "first_seen", "last_changed", "deleted_at")]
            query = sa.select(*fields).order_by(table.c.pms_id)
            with ledger.connect() as one, other.connect() as two:
                assert one.execute(query).all() == two.execute(query).all(), record
        with ledger.connect() as one, other.connect() as two:
            query = sa.select(items.c.item_key, items.c.amount).order_by(items.c.item_key)
            assert one.execute(query).all() == two.execute(query).all()
    finally:
        other.dispose()
