"""The rules, scenario by scenario, on hand-made records: no database needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from tc_sync.config.mappings import Mappings, Route
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.claim_rules import aging_bucket
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.followup import (
    attempts_for,
    escalated,
    is_aged,
    next_follow_up,
    priority,
    route,
)
from tc_sync.items.model import ItemKind, Resolution
from tc_sync.items.rules import evaluate, why_resolved
from tc_sync.records import (
    Appointment,
    AppointmentPriority,
    AppointmentStatus,
    Benefit,
    BenefitPeriod,
    BenefitQuantity,
    BenefitType,
    Claim,
    ClaimProcedure,
    ClaimProcedureStatus,
    ClaimStatus,
    ClaimTrackingEntry,
    ClaimTrackingType,
    ClaimType,
    Contact,
    ContactDirection,
    ContactMethod,
    ContactMode,
    Coverage,
    CoverageLevel,
    Definition,
    DefinitionCategory,
    Patient,
    PatientStatus,
    PlanType,
    Procedure,
    ProcedureStatus,
)

TODAY = date(2026, 11, 26)
SOURCE = SourceFacts({}, {})


@pytest.fixture(scope="module")
def mappings() -> Mappings:
    return load_mappings()


def patient(status=PatientStatus.ACTIVE) -> Patient:
    return Patient(7, "Testperson", "Ada", "", status, ContactMethod.MOBILE_PHONE, "", "",
                   "555-0101", "", None, 7, 1, None, None)


def procedure(key, code="D2740", status=ProcedureStatus.PLANNED, fee=125000, appointment=None,
              planned=None, completed=None) -> Procedure:
    return Procedure(key, 7, code, 1, status, fee, 1, 0, "3", "", date(2026, 9, 1), None,
                     completed, appointment, planned, None, 1, None, None)


def appointment(key, status=AppointmentStatus.SCHEDULED, on=TODAY + timedelta(days=10),
                planned_from=None) -> Appointment:
    return Appointment(key, 7, status, datetime.combine(on, datetime.min.time()), 1, None, None,
                       planned_from, None, None, AppointmentPriority.NORMAL, None)


def claim(key, *, claim_type=ClaimType.PRIMARY, status=ClaimStatus.SENT, sent=None,
          received=None, fee=100000, estimate=80000, paid=0) -> Claim:
    return Claim(key, 7, claim_type, status, date(2026, 8, 1), sent, sent, received, fee,
                 estimate, paid, 0, 50, 60, 70, None, 1, None, None)


def coverage(renewal_month=1) -> Coverage:
    return Coverage(300, 7, 1, 60, 50, 7, date(2020, 1, 1), None, "GROUP", renewal_month,
                    PlanType.PPO, 70, "Synthetic Dental Mutual", "555-0199", None)


def annual_max(amount=150000) -> Benefit:
    return Benefit(900, 50, None, None, BenefitType.LIMITATION, None, amount,
                   BenefitPeriod.CALENDAR_YEAR, BenefitQuantity.NONE, 0, None,
                   CoverageLevel.INDIVIDUAL, None)


def facts(**parts) -> PatientFacts:
    return PatientFacts(patient=parts.pop("who", patient()), **parts)


def kinds(found) -> dict[ItemKind, list]:
    grouped: dict[ItemKind, list] = {}
    for item in found.values():
        grouped.setdefault(item.kind, []).append(item)
    return grouped


def test_planned_crowns_with_no_appointment_ahead_are_unscheduled_treatment(mappings):
    found = kinds(evaluate("main", facts(procedures=[procedure(1), procedure(2, "D2750")]),
                           SOURCE, mappings, TODAY))
    [item] = found[ItemKind.UNSCHEDULED_TREATMENT]
    assert item.key == "unscheduled_treatment:main:7"
    assert item.amount == 250000 and item.codes == ("D2740", "D2750")
    assert item.owed_since == date(2026, 9, 1)


def test_hygiene_and_diagnostics_belong_to_recall_not_to_coordination(mappings):
    found = evaluate("main", facts(procedures=[procedure(1, "D1110"), procedure(2, "D0150")]),
                     SOURCE, mappings, TODAY)
    assert found == {}


def test_any_future_appointment_excludes_the_patient_as_open_dentals_treatment_finder(mappings):
    found = kinds(evaluate("main", facts(procedures=[procedure(1)],
                                         appointments=[appointment(5)]), SOURCE, mappings, TODAY))
    assert ItemKind.UNSCHEDULED_TREATMENT not in found


def test_procedure_semantics_count_only_procedures_not_on_a_future_appointment(mappings):
    settings = mappings.kinds.model_copy(update={"unscheduled_treatment": mappings.kinds
                                                 .unscheduled_treatment.model_copy(
                                                     update={"semantics": "procedure"})})
    per_procedure = mappings.model_copy(update={"kinds": settings})
    found = kinds(evaluate("main", facts(procedures=[procedure(1, appointment=5), procedure(2)],
                                         appointments=[appointment(5)]),
                           SOURCE, per_procedure, TODAY))
    [item] = found[ItemKind.UNSCHEDULED_TREATMENT]
    assert item.details["procedures"] == [2]


def test_inactive_patients_are_not_coordinated(mappings):
    assert evaluate("main", facts(who=patient(PatientStatus.INACTIVE),
                                  procedures=[procedure(1)]), SOURCE, mappings, TODAY) == {}


def test_a_plan_with_no_maximum_shows_unknown_remaining_benefits_not_zero(mappings):
    found = kinds(evaluate("main", facts(procedures=[procedure(1)], coverages=[coverage()]),
                           SOURCE, mappings, TODAY))
    details = found[ItemKind.UNSCHEDULED_TREATMENT][0].details
    assert details["insured"] is True and details["remaining_benefits"] is None
    assert ItemKind.BENEFITS_EXPIRING not in found


def test_benefits_renewing_within_sixty_days_with_money_left_raise_benefits_expiring(mappings):
    found = kinds(evaluate("main", facts(procedures=[procedure(1)], coverages=[coverage()],
                                         benefits=[annual_max()]), SOURCE, mappings, TODAY))
    [item] = found[ItemKind.BENEFITS_EXPIRING]
    assert item.amount == 150000
    assert item.details["benefits_renew_on"] == "2027-01-01"


def test_a_second_evaluation_of_changed_facts_sees_the_change(mappings):
    """The rules work the benefit position and the planned treatment out once per
    evaluation; a later evaluation of the same facts, changed, must not reuse them."""
    chart = facts(procedures=[procedure(1)], coverages=[coverage()], benefits=[annual_max()])
    first = kinds(evaluate("main", chart, SOURCE, mappings, TODAY))
    assert first[ItemKind.BENEFITS_EXPIRING][0].details["treatment_amount"] == 125000
    chart.procedures.append(procedure(2, "D2750"))
    again = kinds(evaluate("main", chart, SOURCE, mappings, TODAY))
    assert again[ItemKind.UNSCHEDULED_TREATMENT][0].amount == 250000
    assert again[ItemKind.BENEFITS_EXPIRING][0].details["treatment_amount"] == 250000


def test_a_plan_renewing_in_july_is_not_expiring_in_november(mappings):
    found = kinds(evaluate("main", facts(procedures=[procedure(1)], coverages=[coverage(7)],
                                         benefits=[annual_max()]), SOURCE, mappings, TODAY))
    assert ItemKind.BENEFITS_EXPIRING not in found


def test_a_predetermination_sent_three_weeks_ago_needs_a_call_to_the_carrier(mappings):
    waiting = claim(40, claim_type=ClaimType.PREDETERMINATION, sent=TODAY - timedelta(days=21))
    recent = claim(41, claim_type=ClaimType.PREDETERMINATION, sent=TODAY - timedelta(days=3))
    found = kinds(evaluate("main", facts(claims=[waiting, recent], coverages=[coverage()]),
                           SOURCE, mappings, TODAY))
    [item] = found[ItemKind.PREDETERMINATION_PENDING]
    assert item.claim_id == 40 and item.details["carrier"] == "Synthetic Dental Mutual"


def test_a_returned_predetermination_with_procedures_unscheduled_is_presented(mappings):
    returned = claim(42, claim_type=ClaimType.PREDETERMINATION, status=ClaimStatus.RECEIVED,
                     sent=date(2026, 10, 1), received=date(2026, 11, 1))
    line = ClaimProcedure(1, 42, 1, 7, 50, 60, ClaimProcedureStatus.PREDETERMINATION, 125000,
                          60000, 0, 0, 0, None, None, None)
    found = kinds(evaluate("main", facts(claims=[returned], claim_procedures=[line],
                                         procedures=[procedure(1)]), SOURCE, mappings, TODAY))
    [item] = found[ItemKind.PREDETERMINATION_RETURNED]
    assert item.amount == 125000 and item.codes == ("D2740",)


@pytest.mark.parametrize(("days", "bucket"), [(30, "0-30"), (31, "31-60"), (75, "61-90"),
                                              (200, "90+")])
def test_outstanding_claims_age_by_date_sent_into_buckets(mappings, days, bucket):
    sent = claim(50, sent=TODAY - timedelta(days=days))
    found = kinds(evaluate("main", facts(claims=[sent]), SOURCE, mappings, TODAY))
    [item] = found[ItemKind.CLAIM_OUTSTANDING]
    assert item.details["bucket"] == bucket
    assert aging_bucket(days, [30, 60, 90]) == bucket


def test_claims_unsent_denied_and_underpaid(mappings):
    unsent = claim(60, status=ClaimStatus.UNSENT, sent=date(2026, 8, 2))
    denied = claim(61, status=ClaimStatus.RECEIVED, sent=date(2026, 9, 1),
                   received=date(2026, 10, 1), paid=0)
    underpaid = claim(62, status=ClaimStatus.RECEIVED, sent=date(2026, 9, 1),
                      received=date(2026, 10, 1), estimate=80000, paid=40000)
    fine = claim(63, status=ClaimStatus.RECEIVED, sent=date(2026, 9, 1),
                 received=date(2026, 10, 1), estimate=80000, paid=78000)
    found = kinds(evaluate("main", facts(claims=[unsent, denied, underpaid, fine]), SOURCE,
                           mappings, TODAY))
    assert [i.claim_id for i in found[ItemKind.CLAIM_UNSENT]] == [60]
    assert [i.claim_id for i in found[ItemKind.CLAIM_DENIED]] == [61]
    [short] = found[ItemKind.CLAIM_UNDERPAID]
    assert short.claim_id == 62 and short.amount == 40000


def test_a_planned_appointment_stays_on_the_tracker_until_one_is_scheduled_from_it(mappings):
    planned = appointment(80, AppointmentStatus.PLANNED, on=date(2026, 10, 1))
    waiting = kinds(evaluate("main", facts(appointments=[planned]), SOURCE, mappings, TODAY))
    assert [i.appointment_id for i in waiting[ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED]] == [80]
    booked = [planned, appointment(81, planned_from=80)]
    assert ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED not in kinds(
        evaluate("main", facts(appointments=booked), SOURCE, mappings, TODAY))
    assert why_resolved(ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED, 80,
                        facts(appointments=booked), TODAY) is Resolution.SCHEDULED


def test_a_broken_appointment_is_followed_until_the_patient_is_back_on_the_schedule(mappings):
    broken = appointment(90, AppointmentStatus.BROKEN, on=date(2026, 11, 20))
    found = kinds(evaluate("main", facts(appointments=[broken]), SOURCE, mappings, TODAY))
    assert [i.appointment_id for i in found[ItemKind.BROKEN_APPOINTMENT]] == [90]
    rebooked = facts(appointments=[broken, appointment(91)])
    assert evaluate("main", rebooked, SOURCE, mappings, TODAY) == {}
    assert why_resolved(ItemKind.BROKEN_APPOINTMENT, 90, rebooked, TODAY) is (
        Resolution.SCHEDULED)


def test_resolutions_say_what_the_pms_shows(mappings):
    scheduled = facts(procedures=[procedure(1)], appointments=[appointment(5)])
    assert why_resolved(ItemKind.UNSCHEDULED_TREATMENT, 7, scheduled, TODAY) is (
        Resolution.SCHEDULED)
    done = facts(procedures=[procedure(1, status=ProcedureStatus.COMPLETE,
                                       completed=TODAY - timedelta(days=1))])
    assert why_resolved(ItemKind.UNSCHEDULED_TREATMENT, 7, done, TODAY) is Resolution.COMPLETED
    paid = facts(claims=[claim(50, status=ClaimStatus.RECEIVED, received=TODAY, paid=5000)])
    assert why_resolved(ItemKind.CLAIM_OUTSTANDING, 50, paid, TODAY) is Resolution.RECEIVED
    assert why_resolved(ItemKind.CLAIM_OUTSTANDING, 51, paid, TODAY) is (
        Resolution.DELETED_IN_PMS)


COMMLOG_TYPES = SourceFacts({d.pms_id: d for d in (
    Definition(1, DefinitionCategory.COMMLOG_TYPE, 0, "ApptRelated", "APPT", False),
    Definition(2, DefinitionCategory.COMMLOG_TYPE, 1, "Insurance", "", False),
    Definition(3, DefinitionCategory.COMMLOG_TYPE, 2, "Recall", "RECALL", False),
    Definition(4, DefinitionCategory.COMMLOG_TYPE, 3, "Treatment Follow-up", "TXFU", False),
    Definition(9, DefinitionCategory.CLAIM_CUSTOM_TRACKING, 0, "Called carrier", "0", False),
)}, {})


def contact(key, day, *, type_id=4, mode=ContactMode.PHONE, direction=ContactDirection.SENT,
            automated=False, user=3) -> Contact:
    return Contact(key, 7, datetime(2026, 11, day, 10), type_id, mode, direction, None,
                   automated, user)


def test_only_the_practices_outreach_since_the_item_was_owed_is_an_attempt(mappings):
    item = evaluate("main", facts(procedures=[procedure(1)]), SOURCE, mappings,
                    TODAY)["unscheduled_treatment:main:7"]
    log = facts(contacts=[
        contact(1, 2),                                            # before it was owed
        contact(2, 10),                                           # a call: counts
        contact(3, 11, direction=ContactDirection.RECEIVED),      # the patient texted in
        contact(4, 12, type_id=3, mode=ContactMode.MAIL),         # a recall postcard
        contact(5, 13, type_id=1, mode=ContactMode.TEXT),         # an appointment reminder
        contact(6, 14, mode=ContactMode.TEXT, automated=True),    # sent by a program
        contact(7, 15, type_id=2),                                # a call to the carrier
        contact(8, 20, mode=ContactMode.EMAIL, user=5),           # counts
    ])
    found = attempts_for(item, log, COMMLOG_TYPES, mappings.attempts, date(2026, 11, 5))
    assert [(a.at.day, a.what, a.mode, a.by) for a in found] == [
        (10, "Treatment Follow-up", "phone", 3), (20, "Treatment Follow-up", "email", 5)]
    cadence = mappings.cadence
    assert next_follow_up(date(2026, 11, 5), 2, found[-1].at, cadence) == date(2026, 11, 27)
    assert next_follow_up(date(2026, 11, 5), 0, None, cadence) == date(2026, 11, 5)
    assert next_follow_up(date(2026, 11, 5), 0, None, cadence, TODAY) == TODAY
    assert next_follow_up(date(2026, 1, 1), 9, datetime(2026, 6, 1), cadence) == date(2026, 7, 1)
    assert not escalated(3, cadence) and escalated(4, cadence)


def test_an_insurance_follow_up_counts_the_claim_statuses_staff_set_not_patient_calls(mappings):
    sent = claim(50, sent=TODAY - timedelta(days=45))
    item = evaluate("main", facts(claims=[sent]), SOURCE, mappings,
                    TODAY)["claim_outstanding:main:50"]
    log = facts(contacts=[contact(1, 10), contact(2, 11, type_id=2)], claim_tracking=[
        ClaimTrackingEntry(1, 7, 50, ClaimTrackingType.STATUS_HISTORY, 9,
                           datetime(2026, 11, 12, 9), 4, None),
        ClaimTrackingEntry(2, 7, 51, ClaimTrackingType.STATUS_HISTORY, 9,
                           datetime(2026, 11, 13, 9), 4, None),       # another claim
        ClaimTrackingEntry(3, 7, 50, ClaimTrackingType.CLAIM_USER, 0,
                           datetime(2026, 11, 14, 9), 4, None)])      # an owner, not a call
    found = attempts_for(item, log, COMMLOG_TYPES, mappings.attempts, date(2026, 11, 1))
    assert [(a.at.day, a.what) for a in found] == [(12, "Called carrier")]
    with_calls = mappings.attempts.model_copy(update={"insurance_contacts": True})
    found = attempts_for(item, log, COMMLOG_TYPES, with_calls, date(2026, 11, 1))
    assert [(a.at.day, a.what) for a in found] == [(11, "Insurance"), (12, "Called carrier")]


def test_value_at_stake_ranks_first_and_age_lowers_a_score_never_raises_it(mappings):
    found = evaluate("main", facts(procedures=[procedure(1)], coverages=[coverage()],
                                   benefits=[annual_max()]), SOURCE, mappings, TODAY)
    treatment = found["unscheduled_treatment:main:7"]
    expiring = found["benefits_expiring:main:7"]
    points = lambda item, **kw: priority(item, mappings, TODAY, **kw)[0]  # noqa: E731
    uninsured = replace(treatment, amount=150000, details={"insured": False})
    assert points(expiring) > points(uninsured)
    assert points(treatment) > points(replace(treatment, details={"insured": False}))
    assert points(replace(treatment, age_days=300)) < points(treatment)
    old_claim = replace(treatment, kind=ItemKind.CLAIM_UNSENT, age_days=2991, amount=12000)
    implant = replace(treatment, amount=519000, age_days=30)
    assert points(implant) > points(old_claim)
    assert points(replace(treatment, age_days=100_000)) >= 0
    assert points(treatment, signed=True) > points(treatment)
    _, reasons = priority(implant, mappings, TODAY, signed=True)
    assert reasons[0] == "$5,190 at stake, planned 30 days ago"
    assert "the patient signed the treatment plan" in reasons and len(reasons) <= 3
    undated = replace(implant, kind=ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED, age_days=None)
    assert priority(undated, mappings, TODAY)[1][0] == "$5,190 at stake"   # no "unknown date"


def test_an_item_owed_past_its_kinds_horizon_is_aged(mappings):
    found = evaluate("main", facts(claims=[claim(50, status=ClaimStatus.UNSENT)]), SOURCE,
                     mappings, TODAY)["claim_unsent:main:50"]
    assert not is_aged(replace(found, age_days=300), mappings)
    assert is_aged(replace(found, age_days=400), mappings)
    assert not is_aged(replace(found, age_days=None), mappings)


def test_routing_sends_items_to_the_first_matching_queue_and_shares_owners(mappings):
    routed = mappings.model_copy(update={"routing": [
        Route(kinds=["claim_outstanding"], queue="billing", owners=["dana"]),
        Route(queue="front", owners=["ana", "ben"], assign="round_robin")]})
    found = evaluate("main", facts(procedures=[procedure(1)],
                                   claims=[claim(50, sent=date(2026, 9, 1))]),
                     SOURCE, routed, TODAY)
    assert route(found["claim_outstanding:main:50"], routed, {}) == ("billing", "dana")
    assert route(found["unscheduled_treatment:main:7"], routed, {"ana": 3, "ben": 1}) == (
        "front", "ben")
    assert route(found["unscheduled_treatment:main:7"], mappings, {}) == ("treatment", None)


def test_a_maximum_under_a_category_that_is_not_general_is_not_the_annual_maximum(mappings):
    # As the Treatment Finder: COALESCE(covcat.EbenefitCat, General) = General.
    category_max = replace(annual_max(), category_id=11)
    patient_facts = facts(procedures=[procedure(1)], coverages=[coverage()],
                          benefits=[category_max])
    general = kinds(evaluate("main", patient_facts, SOURCE, mappings, TODAY))
    assert general[ItemKind.BENEFITS_EXPIRING][0].amount == 150000
    ortho = SourceFacts({}, {}, other_categories=frozenset({11}))
    found = kinds(evaluate("main", patient_facts, ortho, mappings, TODAY))
    assert ItemKind.BENEFITS_EXPIRING not in found
