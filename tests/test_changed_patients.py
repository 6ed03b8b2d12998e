"""Which patients a reconcile (and a queue build) re-reads: those whose own rows changed, and
those a changed shared row leads to (a plan's benefits, a lab, a specialist). Real SQLite
practice and ledger, synced as the daemon syncs it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tc_sync.items.changed import patients_changed
from tc_sync.ledger.schema import replica
from tc_sync.ledger.state import now_utc
from tc_sync.records import (
    Appointment,
    Benefit,
    Coverage,
    Definition,
    LabCase,
    Laboratory,
    Referral,
    ReferralAttachment,
)
from tests.demo_ledger import synced_ledger

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return synced_ledger(tmp_path_factory.mktemp("changed"), TODAY)


def _touched(engine: sa.Engine, record: type, key_column: str) -> tuple[object, object]:
    """Stamp one row of `record` changed now; its key and when the stamp counts from."""
    table = replica[record]
    since = now_utc()       # after every earlier stamp: the sync's and other tests'
    with engine.begin() as connection:
        pms_id, key = connection.execute(sa.select(table.c.pms_id, table.c[key_column]).where(
            table.c[key_column].is_not(None)).limit(1)).one()
        connection.execute(table.update().where(table.c.pms_id == pms_id).values(
            last_changed=now_utc()))
    return key, since


def _patients(engine: sa.Engine, record: type, column: str, value: object) -> set[int]:
    table = replica[record]
    with engine.connect() as connection:
        return set(connection.execute(sa.select(table.c.patient_id).where(
            table.c[column] == value)).scalars())


def _changed(engine: sa.Engine, since: object) -> tuple[set[int], bool]:
    with engine.connect() as connection:
        return patients_changed(connection, "main", since)


def test_nothing_changed_since_means_no_one_to_read_again(ledger):
    assert _changed(ledger, now_utc()) == (set(), False)


def test_a_patients_own_row_changed_names_that_patient(ledger):
    patient, since = _touched(ledger, Appointment, "patient_id")
    assert _changed(ledger, since) == ({patient}, False)


@pytest.mark.parametrize(("shared", "key", "linked", "link"), [
    (Benefit, "plan_id", Coverage, "plan_id"),
    (Laboratory, "pms_id", LabCase, "lab_id"),
    (Referral, "pms_id", ReferralAttachment, "referral_id"),
], ids=["benefit", "lab", "specialist"])
def test_a_shared_row_changed_names_every_patient_it_leads_to(ledger, shared, key, linked, link):
    value, since = _touched(ledger, shared, key)
    expected = _patients(ledger, linked, link, value)
    assert expected, "no patient leads to the changed row: the test proves nothing"
    assert _changed(ledger, since) == (expected, False)


def test_a_definition_changed_means_everyone(ledger):
    _, since = _touched(ledger, Definition, "pms_id")
    assert _changed(ledger, since) == (set(), True)
