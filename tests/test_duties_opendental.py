"""Lab cases, referrals, insurance verification and signed treatment, on Open Dental's real
21.1.9 schema with rows written as its client writes them, after a full sync (the practice
built before tc-sync's first cycle) and after an incremental one (built between two cycles).

Each rule's boundaries as issue 16 states them: today and the last day of each window, blank
dates, inactive patients, incoming referrals, Declined and Complete, a case attached only to a
planned appointment, a case received but not checked.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from .od_office import BLANK, Office
from .test_conformance import real_schema  # noqa: F401 - a fixture
from .test_parity_opendental import DEFAULTS, at, cycle, office, queue, stored, when  # noqa: F401

pytestmark = [pytest.mark.mysql, pytest.mark.conformance]

TODAY = date.today()
LAB = "lab_case_not_ready"
REFERRAL = "referral_no_outcome"
VERIFY = "insurance_not_verified"
TREATMENT = "unscheduled_treatment"


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def run(ledger, source):
    return cycle(ledger, source, DEFAULTS)


def seat(office: Office, patient: int, offset: int, *, status: int = 1, fee: float = 1200
         ) -> int:
    """A scheduled (or other) appointment `offset` days ahead with one crown on it."""
    appointment = office.appointment(patient, status, at(day(offset), 10))
    office.procedure(patient, "D2740", fee, appointment=appointment, planned=day(-20))
    return appointment


# --- lab cases ------------------------------------------------------------------------------


def test_a_lab_case_not_back_is_owed_from_today_through_three_days_ahead(
        office, ledger, source, when):
    lab = office.lab("Summit Lab", "555-0181")
    patient = office.patient()
    cases = {offset: office.lab_case(patient, lab, appointment=seat(office, patient, offset),
                                     sent=at(day(-10)))
             for offset in (-1, 0, 1, 3, 4)}
    run(ledger, source)
    assert set(queue(ledger, LAB)) == {cases[0], cases[1], cases[3]}
    item = stored(ledger, LAB, cases[3])
    assert item["amount"] == 120_000     # the appointment's procedures
    assert item["queue"] == "scheduling"
    assert '"lab": "Summit Lab"' in item["details"] and '"sent": true' in item["details"]
    assert not item["escalated"]
    assert stored(ledger, LAB, cases[1])["escalated"]   # the day before the appointment
    assert stored(ledger, LAB, cases[0])["escalated"]


def test_received_cases_planned_only_cases_and_other_appointments_are_not_owed(
        office, ledger, source, when):
    lab = office.lab()
    patient = office.patient()
    received = office.lab_case(patient, lab, appointment=seat(office, patient, 1),
                               sent=at(day(-9)), received=at(day(-1)))  # not checked: still ok
    planned_appointment = office.appointment(patient, 6, BLANK)
    planned_only = office.lab_case(patient, lab, planned=planned_appointment)
    broken = office.lab_case(patient, lab, appointment=seat(office, patient, 2, status=5))
    inactive = office.patient(status=2)
    of_inactive = office.lab_case(inactive, lab, appointment=seat(office, inactive, 1))
    owed = office.lab_case(patient, lab, appointment=seat(office, patient, 2))
    run(ledger, source)
    found = set(queue(ledger, LAB))
    assert owed in found
    assert not found & {received, planned_only, broken, of_inactive}


def test_a_lab_case_resolves_when_received_moved_or_deleted(office, ledger, source):
    lab = office.lab()
    patient = office.patient()
    came_back = office.lab_case(patient, lab, appointment=seat(office, patient, 1))
    moved_appointment = seat(office, patient, 2)
    moved = office.lab_case(patient, lab, appointment=moved_appointment)
    deleted = office.lab_case(patient, lab, appointment=seat(office, patient, 3))
    run(ledger, source)
    assert set(queue(ledger, LAB)) == {came_back, moved, deleted}

    office.run("UPDATE labcase SET DateTimeRecd = %s WHERE LabCaseNum = %s", at(TODAY), came_back)
    office.run("UPDATE appointment SET AptDateTime = %s WHERE AptNum = %s", at(day(10)),
               moved_appointment)
    office.delete("labcase", "LabCaseNum", deleted)
    run(ledger, source)
    assert queue(ledger, LAB) == {}
    assert stored(ledger, LAB, came_back)["resolution"] == "received"
    assert stored(ledger, LAB, moved)["resolution"] == "no_longer_eligible"
    assert stored(ledger, LAB, deleted)["resolution"] == "deleted_in_pms"


# --- referrals ------------------------------------------------------------------------------


def test_an_outgoing_referral_without_an_outcome_is_owed_after_thirty_days(
        office, ledger, source, when):
    specialist = office.specialist("Endoson", "Ivy")
    patient = office.patient()
    owed = {status: office.refer(patient, specialist, day(-45), status=status)
            for status in (0, 2, 3, 4)}
    thirty = office.refer(patient, specialist, day(-30))
    not_yet = office.refer(patient, specialist, day(-29))
    declined = office.refer(patient, specialist, day(-60), status=1)
    complete = office.refer(patient, specialist, day(-60), status=5)
    done = office.refer(patient, specialist, day(-60), completed=day(-5))
    blank = office.refer(patient, specialist, BLANK)
    incoming = office.refer(patient, specialist, day(-90), ref_type=1)
    inactive = office.patient(status=2)
    of_inactive = office.refer(inactive, specialist, day(-90))
    run(ledger, source)
    found = set(queue(ledger, REFERRAL))
    assert found == {*owed.values(), thirty}
    assert not found & {not_yet, declined, complete, done, blank, incoming, of_inactive}
    item = stored(ledger, REFERRAL, owed[2])
    assert item["queue"] == "treatment"
    assert '"specialist": "Ivy Endoson"' in item["details"]
    assert '"referral_status": "scheduled"' in item["details"]
    assert '"days_open": 45' in item["details"]
    assert "referred 45 days ago, no outcome recorded" in item["details"]


def test_a_referral_resolves_as_declined_or_completed(office, ledger, source):
    specialist = office.specialist()
    patient = office.patient()
    declines = office.refer(patient, specialist, day(-40))
    completes = office.refer(patient, specialist, day(-40), status=3)
    run(ledger, source)
    office.run("UPDATE refattach SET RefToStatus = 1 WHERE RefAttachNum = %s", declines)
    office.run("UPDATE refattach SET DateProcComplete = %s WHERE RefAttachNum = %s",
               day(-1), completes)
    run(ledger, source)
    assert stored(ledger, REFERRAL, declines)["resolution"] == "declined"
    assert stored(ledger, REFERRAL, completes)["resolution"] == "completed"


# --- insurance verification -----------------------------------------------------------------


def insured(office: Office, *, ordinal: int = 1, status: int = 0) -> tuple[int, int, int]:
    """A patient with one plan: (patient, PlanNum, PatPlanNum)."""
    patient = office.patient(status=status)
    plan = office.plan(carrier="Harbor Mutual")
    _, patplan = office.cover(patient, plan, ordinal)
    return patient, plan, patplan


def test_a_visit_is_owed_a_verification_when_benefits_or_enrollment_is_stale(
        office, ledger, source, when):
    cases = {}
    for name, benefits, enrollment in (
            ("never", None, None), ("fresh", -90, -30), ("benefits_stale", -91, -30),
            ("enrollment_stale", -90, -31), ("blank", BLANK, -1)):
        patient, plan, patplan = insured(office)
        if benefits is not None:
            office.verify(1, plan, benefits if benefits == BLANK else day(benefits))
        if enrollment is not None:
            office.verify(2, patplan, day(enrollment))
        cases[name] = seat(office, patient, 3)
    run(ledger, source)
    found = set(queue(ledger, VERIFY))
    assert found == {cases["never"], cases["benefits_stale"], cases["enrollment_stale"],
                     cases["blank"]}
    assert '"stale": ["benefits", "enrollment"]' in stored(ledger, VERIFY,
                                                           cases["never"])["details"]
    assert '"stale": ["enrollment"]' in stored(ledger, VERIFY,
                                               cases["enrollment_stale"])["details"]
    item = stored(ledger, VERIFY, cases["benefits_stale"])
    assert item["queue"] == "insurance" and '"carrier": "Harbor Mutual"' in item["details"]


def test_only_scheduled_visits_of_active_primary_patients_within_seven_days(
        office, ledger, source, when):
    patient, _, _ = insured(office)
    today, last, after, past = (seat(office, patient, offset) for offset in (0, 7, 8, -1))
    planned = office.appointment(patient, 6, at(day(2)))
    secondary_only, _, _ = insured(office, ordinal=2)
    of_secondary = seat(office, secondary_only, 2)
    inactive, _, _ = insured(office, status=2)
    of_inactive = seat(office, inactive, 2)
    uninsured = office.patient()
    of_uninsured = seat(office, uninsured, 2)
    run(ledger, source)
    found = set(queue(ledger, VERIFY))
    assert {today, last} <= found
    assert not found & {after, past, planned, of_secondary, of_inactive, of_uninsured}


def test_verifying_resolves_the_visit_as_verified(office, ledger, source):
    patient, plan, patplan = insured(office)
    visit = seat(office, patient, 2)
    run(ledger, source)
    assert visit in queue(ledger, VERIFY)
    office.verify(1, plan, TODAY)
    office.verify(2, patplan, TODAY)
    run(ledger, source)
    assert stored(ledger, VERIFY, visit)["resolution"] == "verified"


# --- signed treatment -----------------------------------------------------------------------


def test_treatment_on_a_signed_plan_is_marked_signed_and_ranks_higher(
        office, ledger, source, when):
    presenter = office.user("ana.tc")
    saved_signed = office.patient()
    crown = office.procedure(saved_signed, "D2740", 1200, planned=day(-10))
    office.treatment_plan(saved_signed, status=0, signed=at(day(-9)), presenter=presenter,
                          procedures=(crown,))
    active_signed = office.patient()
    other = office.procedure(active_signed, "D2740", 1200, planned=day(-10))
    office.treatment_plan(active_signed, status=1, signed=at(day(-9)), procedures=(other,))
    unsigned = office.patient()
    third = office.procedure(unsigned, "D2740", 1200, planned=day(-10))
    office.treatment_plan(unsigned, status=0, procedures=(third,))
    run(ledger, source)
    signed = stored(ledger, TREATMENT, saved_signed)
    assert '"signed": true' in signed["details"] and '"presenter": "ana.tc"' in signed["details"]
    assert '"signed": true' in stored(ledger, TREATMENT, active_signed)["details"]
    plain = stored(ledger, TREATMENT, unsigned)
    assert '"signed": false' in plain["details"]
    assert signed["priority"] > plain["priority"]
