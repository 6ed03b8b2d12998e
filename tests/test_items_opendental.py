"""Items open, move and resolve as Open Dental's data changes, end to end on MariaDB.

The demo practice is loaded into MariaDB; each test changes rows the way Open Dental does
(plain UPDATE/INSERT/DELETE: MySQL bumps the timestamps) and runs sync + reconcile.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tc_sync.config import SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.schema import item_events, items
from tc_sync.pull.run import sync_source

pytestmark = pytest.mark.mysql

TODAY = date(2026, 11, 26)
MAPPINGS = load_mappings()


@pytest.fixture
def practice(mysql_server, mysql_database):
    connection = mysql_server.connect(mysql_database)
    write_mysql(connection, PracticeSpec(today=TODAY))
    yield connection
    connection.close()


def cycle(ledger, source, *, full=False, today=TODAY, deletes_each_cycle=True):
    result = sync_source(ledger, "main", source, SyncSettings(
        safety_lag_seconds=0, deletes_each_cycle=deletes_each_cycle), full=full)
    totals = reconcile_source(ledger, "main", MAPPINGS, today,
                              complete_run=result.outcome == "ok", run_id=result.run_id)
    return result, totals


def execute(connection, sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        cursor.execute(sql, params)


def query(connection, sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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


def test_the_first_cycle_opens_items_of_every_kind_and_a_second_writes_no_event(
        practice, source, ledger):
    _, totals = cycle(ledger, source)
    with ledger.connect() as connection:
        per_kind = dict(connection.execute(sa.select(items.c.kind, sa.func.count()).where(
            items.c.status == "open").group_by(items.c.kind)).all())
        count_events = connection.scalar(sa.select(sa.func.count()).select_from(item_events))
    for kind in ("unscheduled_treatment", "predetermination_pending",
                 "predetermination_returned", "claim_unsent", "claim_outstanding",
                 "claim_denied", "claim_underpaid", "planned_appointment_unscheduled",
                 "broken_appointment", "benefits_expiring"):
        assert per_kind.get(kind, 0) > 0, kind
    assert totals.opened == sum(per_kind.values())
    _, again = cycle(ledger, source)
    assert again.by_event == {}
    with ledger.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(item_events)) == (
            count_events)


def test_scheduling_the_treatment_resolves_its_item_as_scheduled(practice, source, ledger):
    cycle(ledger, source)
    key = open_keys(ledger, "unscheduled_treatment")[0]
    patient = int(key.rsplit(":", 1)[1])
    execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
            "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient,
            f"{TODAY + timedelta(days=14)} 09:00:00")
    _, totals = cycle(ledger, source)
    assert item(ledger, key)["status"] == "resolved"
    assert item(ledger, key)["resolution"] == "scheduled"
    assert events(ledger, key)[-1] == ("resolved", {"reason": "scheduled"})
    assert totals.patients < 5          # only the patient who changed was evaluated


def test_a_returned_predetermination_resolves_pending_and_opens_present_to_patient(
        practice, source, ledger):
    cycle(ledger, source)
    waiting_patients = {key.rsplit(":", 1)[1] for key in open_keys(ledger, "unscheduled_treatment")}
    planned_preauths = {str(claim) for claim, patient in query(
        practice, "SELECT c.ClaimNum, c.PatNum FROM claim c JOIN claimproc cp ON cp.ClaimNum = "
        "c.ClaimNum JOIN procedurelog pl ON pl.ProcNum = cp.ProcNum WHERE c.ClaimType = "
        "'PreAuth' AND pl.ProcStatus = 1") if str(patient) in waiting_patients}
    pending = [key for key in open_keys(ledger, "predetermination_pending")
               if key.rsplit(":", 1)[1] in planned_preauths]
    claim_id = int(pending[0].rsplit(":", 1)[1])
    execute(practice, "UPDATE claim SET ClaimStatus = 'R', DateReceived = %s, InsPayEst = 400 "
            "WHERE ClaimNum = %s", str(TODAY), claim_id)
    cycle(ledger, source)
    assert item(ledger, pending[0])["resolution"] == "received"
    returned = item(ledger, f"predetermination_returned:main:{claim_id}")
    assert returned["status"] == "open"


def test_a_call_logged_in_the_contact_log_counts_as_an_attempt(practice, source, ledger):
    cycle(ledger, source)
    key = open_keys(ledger, "unscheduled_treatment")[0]
    patient = int(key.rsplit(":", 1)[1])
    before = item(ledger, key)
    execute(practice, "INSERT INTO commlog (PatNum, CommDateTime, CommType, Note, Mode_, "
            "SentOrReceived) VALUES (%s, %s, 0, '', 3, 1)", patient, f"{TODAY} 10:00:00")
    cycle(ledger, source)
    after = item(ledger, key)
    assert after["attempts"] == before["attempts"] + 1
    assert after["next_follow_up"] > TODAY
    assert events(ledger, key)[-1][0] == "contacted"


def test_a_deleted_claim_resolves_in_the_next_cycle(practice, source, ledger):
    cycle(ledger, source)
    key = open_keys(ledger, "claim_outstanding")[0]
    claim_id = int(key.rsplit(":", 1)[1])
    execute(practice, "DELETE FROM claim WHERE ClaimNum = %s", claim_id)
    cycle(ledger, source)
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "deleted_in_pms")


def test_with_deletes_left_to_the_sweep_a_deleted_claim_waits_for_it(practice, source, ledger):
    cycle(ledger, source)
    key = open_keys(ledger, "claim_outstanding")[0]
    claim_id = int(key.rsplit(":", 1)[1])
    execute(practice, "DELETE FROM claim WHERE ClaimNum = %s", claim_id)
    cycle(ledger, source, deletes_each_cycle=False)
    assert item(ledger, key)["status"] == "open"
    cycle(ledger, source, full=True)
    assert (item(ledger, key)["status"], item(ledger, key)["resolution"]) == (
        "resolved", "deleted_in_pms")


def test_a_partial_pull_resolves_nothing(practice, source, ledger):
    cycle(ledger, source)
    key = open_keys(ledger, "unscheduled_treatment")[0]
    patient = int(key.rsplit(":", 1)[1])
    execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
            "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient,
            f"{TODAY + timedelta(days=14)} 09:00:00")
    execute(practice, "RENAME TABLE clinic TO clinic_away")
    result, _ = cycle(ledger, source)
    assert result.outcome == "partial"
    assert item(ledger, key)["status"] == "open"
    execute(practice, "RENAME TABLE clinic_away TO clinic")
    cycle(ledger, source)
    assert item(ledger, key)["resolution"] == "scheduled"


def test_time_alone_moves_a_claim_into_the_next_aging_bucket(practice, source, ledger):
    cycle(ledger, source)
    key = next(key for key in open_keys(ledger, "claim_outstanding")
               if json.loads(item(ledger, key)["details"])["bucket"] != "90+")
    bucket = json.loads(item(ledger, key)["details"])["bucket"]
    cycle(ledger, source, today=TODAY + timedelta(days=31))
    moved = json.loads(item(ledger, key)["details"])["bucket"]
    assert moved != bucket
    assert events(ledger, key)[-1][0] == "changed"
