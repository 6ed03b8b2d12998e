"""Properties of the rules over random patients: order never matters, evaluation is pure."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.model import Resolution
from tc_sync.items.rules import evaluate, why_resolved
from tc_sync.records import (
    Appointment,
    AppointmentPriority,
    AppointmentStatus,
    Claim,
    ClaimStatus,
    ClaimType,
    ContactMethod,
    Patient,
    PatientStatus,
    Procedure,
    ProcedureStatus,
)

TODAY = date(2026, 11, 26)
MAPPINGS = load_mappings()
CODES = ["D0150", "D1110", "D2391", "D2740", "D3330", "D4341", "D6010", "D7140", "D4910"]

days = st.integers(min_value=-800, max_value=120)
procedures = st.builds(
    lambda key, code, status, fee, appointment, day: Procedure(
        key, 7, code, 1, status, fee, 1, 0, "", "", TODAY + timedelta(days=day), None, None,
        appointment, None, None, 1, None, None),
    st.integers(1, 10_000), st.sampled_from(CODES), st.sampled_from(list(ProcedureStatus)),
    st.integers(0, 500_000), st.one_of(st.none(), st.integers(1, 20)), days)
appointments = st.builds(
    lambda key, status, day, planned_from: Appointment(
        key, 7, status, datetime.combine(TODAY + timedelta(days=day), datetime.min.time()), 1,
        None, None, planned_from, None, None, AppointmentPriority.NORMAL, None),
    st.integers(1, 20), st.sampled_from(list(AppointmentStatus)), days,
    st.one_of(st.none(), st.integers(1, 20)))
claims = st.builds(
    lambda key, kind, status, sent, received, fee, estimate, paid: Claim(
        key, 7, kind, status, TODAY + timedelta(days=sent), TODAY + timedelta(days=sent), None,
        TODAY + timedelta(days=received), fee, estimate, paid, 0, 1, 1, 1, None, 1, None, None),
    st.integers(1, 10_000), st.sampled_from(list(ClaimType)), st.sampled_from(list(ClaimStatus)),
    days, days, st.integers(0, 300_000), st.integers(0, 300_000), st.integers(0, 300_000))


def patient_facts(procs, appts, claim_list, status) -> PatientFacts:
    who = Patient(7, "Testperson", "Ada", "", status, ContactMethod.NONE, "", "", "", "", None,
                  None, 1, None, None)
    unique = {p.pms_id: p for p in procs}
    return PatientFacts(who, list(unique.values()), list({a.pms_id: a for a in appts}.values()),
                        list({c.pms_id: c for c in claim_list}.values()))


@settings(max_examples=200, deadline=None)
@given(st.lists(procedures, max_size=12), st.lists(appointments, max_size=6),
       st.lists(claims, max_size=6), st.sampled_from(list(PatientStatus)), st.randoms())
def test_the_order_records_arrive_in_never_changes_the_items(procs, appts, claim_list, status,
                                                             rng: random.Random):
    facts = patient_facts(procs, appts, claim_list, status)
    shuffled = PatientFacts(facts.patient, rng.sample(facts.procedures, len(facts.procedures)),
                            rng.sample(facts.appointments, len(facts.appointments)),
                            rng.sample(facts.claims, len(facts.claims)))
    first = evaluate("main", facts, SourceFacts({}, {}), MAPPINGS, TODAY)
    assert first == evaluate("main", shuffled, SourceFacts({}, {}), MAPPINGS, TODAY)
    assert first == evaluate("main", facts, SourceFacts({}, {}), MAPPINGS, TODAY)
    for item in first.values():
        assert item.key.startswith(f"{item.kind.value}:main:")
        assert item.amount is None or item.amount >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(procedures, max_size=12), st.lists(appointments, max_size=6),
       st.lists(claims, max_size=6), st.sampled_from(list(PatientStatus)))
def test_when_the_pms_no_longer_has_the_subject_the_reason_is_deleted(procs, appts, claim_list,
                                                                    status):
    facts = patient_facts(procs, appts, claim_list, status)
    owed = evaluate("main", facts, SourceFacts({}, {}), MAPPINGS, TODAY)
    emptied = PatientFacts(facts.patient)          # the claims and appointments are gone
    for item in owed.values():
        subject = int(item.key.rsplit(":", 1)[1])
        reason = why_resolved(item.kind, subject, emptied, TODAY)
        if item.claim_id is not None or item.appointment_id is not None:
            assert reason is Resolution.DELETED_IN_PMS
        else:
            assert reason is Resolution.NO_LONGER_ELIGIBLE
