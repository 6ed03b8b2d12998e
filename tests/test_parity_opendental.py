"""With the parity mappings, each queue lists what Open Dental's own report lists.

Scenarios on Open Dental's real 21.1.9 schema (its own dump), rows written as Open Dental's
client writes them, each checked after a full sync (the practice built before tc-sync's first
cycle) and after an incremental one (built between two cycles). The expected rows follow Open
Dental's report logic as ../shared/domain/opendental.md §3 gives it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from tc_sync.config import SyncSettings
from tc_sync.config.mappings_file import load_mappings, parity_mappings_file
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.schema import items
from tc_sync.pull.run import sync_source

from .od_office import BLANK, Office
from .test_conformance import real_schema  # noqa: F401 - a fixture

pytestmark = [pytest.mark.mysql, pytest.mark.conformance]

TODAY = date.today()
PARITY = load_mappings(parity_mappings_file())
DEFAULTS = load_mappings()


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour))


@pytest.fixture
def office(mysql_server, real_schema):  # noqa: F811
    connection = mysql_server.connect(real_schema)
    yield Office(connection)
    connection.close()


@pytest.fixture(params=["full", "incremental"])
def when(request, ledger, source):
    """'full': the practice is built, then synced; 'incremental': synced, built, synced."""
    if request.param == "incremental":
        cycle(ledger, source)
    return request.param


def cycle(ledger, source, mappings=PARITY, today=TODAY):
    result = sync_source(ledger, "od", source, SyncSettings())
    assert result.outcome == "ok", result.error
    reconcile_source(ledger, "od", mappings, today, complete_run=True, run_id=result.run_id)
    return result


def queue(ledger, kind: str) -> dict[int, int | None]:
    """The open items of a kind: subject id -> amount in cents."""
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(items.c.item_key, items.c.amount).where(
            items.c.kind == kind, items.c.status == "open")).all()
    return {int(key.rsplit(":", 1)[1]): amount for key, amount in rows}


def stored(ledger, kind: str, subject: int) -> dict:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items).where(
            items.c.item_key == f"{kind}:od:{subject}")).mappings().one())


# --- 1. The Unscheduled List ------------------------------------------------------------------


def test_the_unscheduled_list_keeps_a_broken_appointment_whatever_else_is_scheduled(
        office, ledger, source, when):
    rescheduled = office.patient()
    broken = office.appointment(rescheduled, 5, at(TODAY - timedelta(days=20)))
    office.procedure(rescheduled, "D2740", 1200, appointment=broken)
    office.appointment(rescheduled, 1, at(TODAY + timedelta(days=7)))
    prospect = office.patient(status=6)
    listed = office.appointment(prospect, 3, at(TODAY - timedelta(days=400)))
    inactive = office.patient(status=2)
    office.appointment(inactive, 5, at(TODAY - timedelta(days=3)))
    cycle(ledger, source)
    assert queue(ledger, "broken_appointment") == {broken: 120000, listed: 0}


def test_by_default_a_patient_who_booked_again_is_not_called_about_the_broken_one(
        office, ledger, source, when):
    patient = office.patient()
    office.appointment(patient, 5, at(TODAY - timedelta(days=20)))
    office.appointment(patient, 1, at(TODAY + timedelta(days=7)))
    cycle(ledger, source, mappings=DEFAULTS)
    assert queue(ledger, "broken_appointment") == {}


# --- 2. Claims Not Sent -----------------------------------------------------------------------


def test_claims_not_sent_lists_unsent_on_hold_waiting_and_in_process_claims(
        office, ledger, source, when):
    patient = office.patient()
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    claims = {}
    for status in "UHWIS":
        procedure = office.procedure(patient, "D2391", 150, status=2, planned=TODAY)
        claims[status] = office.claim(patient, plan, sub, [(procedure, 100)], status=status,
                                      service=TODAY, sent=TODAY if status == "S" else BLANK)
    cycle(ledger, source)
    assert queue(ledger, "claim_unsent") == {claims[s]: 15000 for s in "UHWI"}


# --- 3. The Planned Appointment Tracker -------------------------------------------------------


def test_a_planned_appointment_is_scheduled_once_any_appointment_was_made_from_it(
        office, ledger, source, when):
    patient = office.patient()
    made_then_broken = office.appointment(patient, 6, at(TODAY - timedelta(days=30)))
    office.appointment(patient, 5, at(TODAY - timedelta(days=5)), next_apt=made_then_broken)
    waiting = office.appointment(patient, 6, BLANK)
    office.procedure(patient, "D2950", 300, planned_appointment=waiting)
    office.procedure(patient, "D2750", 1100, planned_appointment=waiting)
    cycle(ledger, source)
    assert queue(ledger, "planned_appointment_unscheduled") == {waiting: 140000}
    item = stored(ledger, "planned_appointment_unscheduled", waiting)
    assert item["owed_since"] is None           # 9: a blank date is unknown, not today


# --- 4. and 5. Outstanding claims -------------------------------------------------------------


def test_outstanding_claims_list_sent_claims_a_blank_date_sent_included(
        office, ledger, source, when):
    patient = office.patient()
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    procedure = office.procedure(patient, "D2740", 1250, status=2, planned=TODAY)
    blank = office.claim(patient, plan, sub, [(procedure, 800)], status="S",
                         service=TODAY - timedelta(days=40))
    fresh = office.claim(patient, plan, sub, [(procedure, 800)], status="S", service=TODAY,
                         sent=TODAY)
    cycle(ledger, source)
    assert queue(ledger, "claim_outstanding") == {blank: 125000, fresh: 125000}
    item = stored(ledger, "claim_outstanding", blank)
    assert item["owed_since"] is None
    assert '"bucket": "unknown"' in item["details"]


def test_custom_tracking_suppresses_only_when_the_newest_status_row_is_the_current_status(
        office, ledger, source, when):
    patient = office.patient()
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    procedure = office.procedure(patient, "D2740", 1000, status=2, planned=TODAY)
    sent = TODAY - timedelta(days=60)
    resubmitted = office.tracking_status("Resubmitted", "30")
    called = office.tracking_status("Called carrier", "0")
    hidden, shown = (office.claim(patient, plan, sub, [(procedure, 500)], status="S",
                                  service=sent, sent=sent) for _ in range(2))
    office.track(hidden, resubmitted, at(TODAY - timedelta(days=10)))
    office.track(shown, resubmitted, at(TODAY - timedelta(days=10)))
    # Then another status, newer, and the current status set back (no new history row):
    office.track(shown, called, at(TODAY - timedelta(days=5)))
    office.run("UPDATE claim SET CustomTracking = %s WHERE ClaimNum = %s", resubmitted, shown)
    cycle(ledger, source)
    assert queue(ledger, "claim_outstanding") == {shown: 100000}


# --- 6. Remaining benefits as the Treatment Finder computes them ------------------------------


def test_remaining_benefits_read_a_maximum_stored_with_no_coverage_level(
        office, ledger, source, when):
    patient = office.patient()
    plan = office.plan()
    sub, patplan = office.cover(patient, plan)
    office.annual_max(1500, plan=plan, level=0)
    office.annual_max(400, patplan=patplan)             # an override: the report ignores it
    office.used(patient, plan, sub, TODAY.replace(month=1, day=2), 1700)
    office.procedure(patient, "D6010", 2000, planned=TODAY - timedelta(days=3))
    cycle(ledger, source)
    assert queue(ledger, "unscheduled_treatment") == {patient: 200000}
    assert queue(ledger, "benefits_expiring") == {patient: -20000}
    cycle(ledger, source, mappings=DEFAULTS)
    item = stored(ledger, "unscheduled_treatment", patient)
    assert '"remaining_benefits": 0' in item["details"]   # the default: override, floored


def test_insurance_paid_under_a_yearly_limit_of_its_own_does_not_use_the_annual_maximum(
        office, ledger, source, when):
    patient = office.patient()
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    office.annual_max(1500, plan=plan)
    perio = office.insert("covcat", Description="Perio", EbenefitCat=3, DefaultPercent=80)
    office.insert("covspan", CovCatNum=perio, FromCode="D4000", ToCode="D4999")
    office.annual_max(500, plan=plan, covcat=perio)
    this_year = TODAY.replace(month=1, day=5)
    scaling = office.procedure(patient, "D4341", 300, status=2, planned=this_year)
    filling = office.procedure(patient, "D2391", 200, status=2, planned=this_year)
    for procedure, paid in ((scaling, 240), (filling, 160)):
        office.insert("claimproc", ClaimNum=0, ProcNum=procedure, PatNum=patient, PlanNum=plan,
                      InsSubNum=sub, Status=1, InsPayAmt=paid, InsPayEst=0,
                      ProcDate=str(this_year), ProvNum=1)
    office.procedure(patient, "D2740", 1200, planned=TODAY)
    cycle(ledger, source)
    assert queue(ledger, "benefits_expiring") == {patient: 134000}     # 1,500 - 160


# --- 7. Returned predeterminations ------------------------------------------------------------


def test_a_returned_predetermination_is_listed_whatever_the_patients_status(
        office, ledger, source, when):
    patient = office.patient(status=2)
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    implant = office.procedure(patient, "D6010", 2500, planned=TODAY - timedelta(days=40))
    preauth = office.claim(patient, plan, sub, [(implant, 1250)], status="R",
                           claim_type="PreAuth", service=TODAY - timedelta(days=40),
                           sent=TODAY - timedelta(days=39), received=TODAY - timedelta(days=2))
    pending = office.claim(patient, plan, sub, [(implant, 0)], status="H",
                           claim_type="PreAuth", service=TODAY)
    cycle(ledger, source)
    assert queue(ledger, "predetermination_returned") == {preauth: 250000}
    assert queue(ledger, "predetermination_pending") == {pending: 250000}
    assert queue(ledger, "unscheduled_treatment") == {}    # the Treatment Finder: active only


# --- The Treatment Finder ---------------------------------------------------------------------


def test_the_treatment_finder_counts_every_planned_procedure_of_patients_with_nothing_booked(
        office, ledger, source, when):
    waiting = office.patient()
    past = office.appointment(waiting, 2, at(TODAY - timedelta(days=30)))
    office.procedure(waiting, "D0120", 50, planned=TODAY)            # every category counts
    office.procedure(waiting, "D2391", 150, units=2, planned=TODAY, appointment=past)
    office.procedure(waiting, "D9999", 0, planned=TODAY)
    booked = office.patient()
    office.procedure(booked, "D2740", 1200, planned=TODAY)
    office.appointment(booked, 1, at(TODAY, hour=0))                  # today counts as ahead
    nothing = office.patient()
    office.procedure(nothing, "D9999", 0, planned=TODAY)
    future_plan = office.patient()
    office.procedure(future_plan, "D2740", 900, planned=TODAY + timedelta(days=3))
    cycle(ledger, source)
    assert queue(ledger, "unscheduled_treatment") == {waiting: 35000, future_plan: 90000}


# --- 8. Deletes seen by the next incremental cycle --------------------------------------------


def test_deleting_the_only_future_appointment_brings_the_treatment_back_in_one_cycle(
        office, ledger, source):
    patient = office.patient()
    office.procedure(patient, "D2740", 1200, planned=TODAY - timedelta(days=9))
    booked = office.appointment(patient, 1, at(TODAY + timedelta(days=10)))
    cycle(ledger, source)
    assert queue(ledger, "unscheduled_treatment") == {}
    office.delete("appointment", "AptNum", booked)
    result = cycle(ledger, source)
    assert queue(ledger, "unscheduled_treatment") == {patient: 120000}
    appointments = next(s for s in result.streams if s.stream == "appointments")
    assert (appointments.mode, appointments.rows_deleted) == ("incremental", 1)


@pytest.mark.parametrize("table", ["appointment", "claim", "claimproc", "patplan", "treatplan",
                                   "benefit", "commlog", "claimtracking"])
def test_a_hard_delete_of_each_kind_is_seen_by_the_next_incremental_cycle(
        office, ledger, source, table):
    patient = office.patient()
    plan = office.plan()
    sub, patplan = office.cover(patient, plan)
    benefit = office.annual_max(1000, plan=plan)
    broken = office.appointment(patient, 5, at(TODAY - timedelta(days=3)))
    procedure = office.procedure(patient, "D2391", 150, status=2, planned=TODAY)
    claim = office.claim(patient, plan, sub, [(procedure, 100)], status="U", service=TODAY)
    plan_row = office.insert("treatplan", PatNum=patient, DateTP=str(TODAY), Heading="Plan",
                             TPStatus=1)
    used = office.used(patient, plan, sub, TODAY, 50)
    call = office.insert("commlog", PatNum=patient, CommDateTime=str(at(TODAY)), CommType=0,
                         Mode_=3, SentOrReceived=1, Note="", Signature="")
    tracked = office.track(claim, office.tracking_status("Called carrier", "0"),
                           at(TODAY - timedelta(days=1)))
    cycle(ledger, source)
    key = {"appointment": ("AptNum", broken), "claim": ("ClaimNum", claim),
           "claimproc": ("ClaimProcNum", used), "patplan": ("PatPlanNum", patplan),
           "treatplan": ("TreatPlanNum", plan_row), "benefit": ("BenefitNum", benefit),
           "commlog": ("CommlogNum", call), "claimtracking": ("ClaimTrackingNum", tracked)}[table]
    office.delete(table, *key)
    result = cycle(ledger, source)
    deleted = {s.stream: s.rows_deleted for s in result.streams if s.rows_deleted}
    assert len(deleted) == 1 and sum(deleted.values()) == 1, deleted
    if table == "appointment":
        assert stored(ledger, "broken_appointment", broken)["resolution"] == "deleted_in_pms"
    if table == "claim":
        assert stored(ledger, "claim_unsent", claim)["resolution"] == "deleted_in_pms"


def test_deletes_wait_for_the_sweep_when_the_setting_says_so(office, ledger, source):
    patient = office.patient()
    broken = office.appointment(patient, 5, at(TODAY - timedelta(days=3)))
    cycle(ledger, source)
    office.delete("appointment", "AptNum", broken)
    result = sync_source(ledger, "od", source, SyncSettings(deletes_each_cycle=False))
    assert sum(s.rows_deleted for s in result.streams) == 0
