"""Items open, move and resolve as Eaglesoft's data changes, end to end through real ODBC.

The Eaglesoft-shaped synthetic practice sits in PostgreSQL (owner PPM) and is read through
psqlODBC as a role granted SELECT only. Eaglesoft has no change timestamp tc-sync knows of, so
every cycle reads each stream whole and compares it with the ledger: changes and deletions
are both seen at the next cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tc_sync.config import SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.pull.run import sync_source
from tc_sync.records import Appointment, Claim, ClaimProcedure, Patient, Procedure

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
EAGLESOFT_KINDS = ("unscheduled_treatment", "predetermination_pending",
                   "predetermination_returned", "claim_outstanding", "broken_appointment")
NOT_FROM_EAGLESOFT = ("claim_unsent", "claim_denied", "claim_underpaid",
                      "planned_appointment_unscheduled", "benefits_expiring")


@pytest.fixture
def eaglesoft(postgres_admin) -> Iterator[PmsDatabase]:
    require_odbc_driver(PG_DRIVER)
    with pms_database(postgres_admin, "eaglesoft") as database:
        yield database


@pytest.fixture
def ledger(tmp_path) -> Iterator[sa.Engine]:
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


def cycle(ledger, source, *, full=False, today=TODAY):
    result = sync_source(ledger, "main", source, SyncSettings(safety_lag_seconds=0), full=full)
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


def test_a_first_sync_reads_every_row_of_every_stream(eaglesoft, ledger):
    result, _ = cycle(ledger, eaglesoft.source())
    assert result.outcome == "ok", result.error
    assert result.rows_quarantined == 0
    rows = practice_rows("eaglesoft")
    assert live_count(ledger, Patient) == len(rows["patient"])
    assert live_count(ledger, Procedure) == len(rows["planned_services"])
    assert live_count(ledger, Appointment) == len(rows["appointment"])
    assert live_count(ledger, Claim) == len(rows["insurance_claim"])
    assert live_count(ledger, ClaimProcedure) == sum(
        1 for row in rows["treatment_plan_items"] if row[3])


def test_the_first_cycle_opens_every_kind_eaglesoft_data_allows_and_a_second_writes_nothing(
        eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    with ledger.connect() as connection:
        per_kind = dict(connection.execute(sa.select(items.c.kind, sa.func.count()).where(
            items.c.status == "open").group_by(items.c.kind)).all())
    for kind in EAGLESOFT_KINDS:
        assert per_kind.get(kind, 0) > 0, kind
    for kind in NOT_FROM_EAGLESOFT:        # docs/ODBC.md says why each cannot be told
        assert per_kind.get(kind, 0) == 0, kind
    again, totals = cycle(ledger, eaglesoft.source())
    assert {s.mode for s in again.streams} == {"full"}
    assert sum(s.rows_inserted + s.rows_updated + s.rows_deleted for s in again.streams) == 0
    assert totals.by_event == {}


def test_booking_the_planned_services_resolves_unscheduled_treatment_as_scheduled(
        eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    patient = subject(key)
    apt = eaglesoft.scalar("SELECT MAX(appointment_id) + 1 FROM PPM.appointment")
    starts = datetime.combine(TODAY + timedelta(days=14), datetime.min.time()).replace(hour=9)
    eaglesoft.execute(
        "INSERT INTO PPM.appointment (appointment_id, patient_id, start_time, end_time, "
        "location_id, classification, arrival_status, date_appointed, description) VALUES "
        "(%s, %s, %s, %s, 1, 1, 0, %s, 'Crown')", apt, patient, starts,
        starts + timedelta(hours=1), datetime.combine(TODAY, datetime.min.time()))
    eaglesoft.execute("UPDATE PPM.planned_services SET appt_id = %s, status = 'A' "
                      "WHERE patient_id = %s", apt, patient)
    result, _ = cycle(ledger, eaglesoft.source())
    assert {s.stream: s.rows_inserted for s in result.streams}["appointments"] == 1
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "scheduled")
    with ledger.connect() as connection:
        booked = connection.execute(sa.select(replica[Procedure].c.appointment_id).where(
            replica[Procedure].c.patient_id == patient)).scalars().all()
    assert set(booked) == {apt}


def test_an_answer_recorded_on_a_predetermination_resolves_pending_and_opens_returned(
        eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    waiting = {subject(key) for key in open_keys(ledger, "unscheduled_treatment")}
    linked = {claim for claim, patient in eaglesoft.execute(
        "SELECT DISTINCT i.claim_id, i.patient_id FROM PPM.treatment_plan_items i "
        "WHERE i.claim_id > 0") if patient in waiting}
    key = next(key for key in open_keys(ledger, "predetermination_pending")
               if subject(key) in linked)
    claim = subject(key)
    eaglesoft.execute("UPDATE PPM.insurance_claim SET prim_total_paid = 400 "
                      "WHERE claim_id = %s", claim)
    cycle(ledger, eaglesoft.source())
    assert item(ledger, key)["resolution"] == "received"
    assert item(ledger, f"predetermination_returned:main:{claim}")["status"] == "open"


def test_a_deleted_claim_resolves_at_the_next_cycle_without_waiting_for_the_sweep(
        eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    key = open_keys(ledger, "claim_outstanding")[0]
    eaglesoft.execute("DELETE FROM PPM.insurance_claim WHERE claim_id = %s", subject(key))
    result, _ = cycle(ledger, eaglesoft.source())
    assert {s.stream: s.rows_deleted for s in result.streams}["claims"] == 1
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "deleted_in_pms")


def test_treatment_done_leaves_planned_services_and_its_item_resolves(eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    eaglesoft.execute("DELETE FROM PPM.treatment_plan_items WHERE patient_id = %s", subject(key))
    eaglesoft.execute("DELETE FROM PPM.planned_services WHERE patient_id = %s", subject(key))
    cycle(ledger, eaglesoft.source())
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "no_longer_eligible")


def test_a_booking_moved_to_the_unscheduled_list_opens_a_broken_appointment_item(
        eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    apt, patient = eaglesoft.execute(
        "SELECT a.appointment_id, a.patient_id FROM PPM.appointment a JOIN PPM.patient p "
        "ON p.patient_id = a.patient_id WHERE a.start_time > %s AND a.classification = 1 "
        "AND p.status = 'A' AND p.patient_status = 'Y' AND (SELECT COUNT(*) FROM "
        "PPM.appointment b WHERE b.patient_id = a.patient_id AND b.start_time > %s "
        "AND b.classification = 1) = 1 ORDER BY a.appointment_id LIMIT 1", TODAY, TODAY)[0]
    eaglesoft.execute("UPDATE PPM.appointment SET classification = 4 WHERE appointment_id = %s",
                      apt)
    cycle(ledger, eaglesoft.source())
    broken = item(ledger, f"broken_appointment:main:{apt}")
    assert (broken["status"], broken["patient_id"]) == ("open", patient)


def test_an_unknown_status_letter_is_quarantined_naming_the_code_map(eaglesoft, ledger):
    patient, line = eaglesoft.execute(
        "SELECT patient_id, line_number FROM PPM.planned_services ORDER BY 1, 2 LIMIT 1")[0]
    eaglesoft.execute("UPDATE PPM.planned_services SET status = 'X' WHERE patient_id = %s "
                      "AND line_number = %s", patient, line)
    result, _ = cycle(ledger, eaglesoft.source())
    assert result.outcome == "ok"
    assert {s.stream: s.rows_quarantined for s in result.streams}["procedures"] == 1
    with ledger.connect() as connection:
        reason = connection.execute(sa.text("SELECT reason FROM quarantine")).scalar_one()
    assert "code 'X' is not in the code map procedures.status" in reason


def test_both_odbc_drivers_produce_the_same_ledger(eaglesoft, ledger, tmp_path):
    require_odbc_driver(SQLITE_DRIVER)
    other = open_ledger(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert cycle(ledger, eaglesoft.source())[0].outcome == "ok"
        result, _ = cycle(other, sqlite_source(tmp_path, "eaglesoft"))
        assert result.outcome == "ok", result.error
        for record in (Patient, Procedure, Appointment, Claim, ClaimProcedure):
            table = replica[record]
            fields = [c for c in table.c if c.name not in (
                "source_id", "first_seen", "last_changed", "deleted_at")]
            query = sa.select(*fields).order_by(table.c.pms_id)
            with ledger.connect() as one, other.connect() as two:
                assert one.execute(query).all() == two.execute(query).all(), record
    finally:
        other.dispose()
