"""The coordinator's duties before a visit and after a referral: lab cases not back for a
scheduled appointment, referrals to a specialist with no outcome, insurance not verified before
a scheduled visit. And which signed treatment plan, if any, covers a patient's procedures.

Pure functions over one patient's facts, as the rules in `tc_sync.items.rules` are. Dates
before 1880 (Open Dental's '0001-01-01') arrive as None: blank.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from tc_sync.config.mappings import Mappings
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.model import DesiredItem, ItemKind, Resolution, item_key
from tc_sync.records import (
    Appointment,
    AppointmentStatus,
    Coverage,
    PatientStatus,
    ProcedureStatus,
    ReferralDirection,
    ReferralStatus,
    TreatmentPlan,
    TreatmentPlanStatus,
    VerificationType,
)

_NO_OUTCOME_YET = {ReferralStatus.NONE, ReferralStatus.SCHEDULED, ReferralStatus.CONSULTED,
                   ReferralStatus.IN_TREATMENT}


def is_active(facts: PatientFacts) -> bool:
    """The patient is an active patient (Open Dental's PatStatus 0)."""
    return facts.patient is not None and facts.patient.status == PatientStatus.ACTIVE


def _day(appointment: Appointment) -> date | None:
    return appointment.starts_at.date() if appointment.starts_at else None


def _scheduled_within(appointment: Appointment | None, today: date, days: int) -> date | None:
    """The day of a scheduled appointment dated from today through `days` calendar days
    ahead; None for any other appointment."""
    if appointment is None or appointment.status != AppointmentStatus.SCHEDULED:
        return None
    on = _day(appointment)
    return on if on is not None and today <= on <= today + timedelta(days=days) else None


def _appointment_amount(facts: PatientFacts, appointment_id: int) -> tuple[int, tuple[str, ...]]:
    """The appointment's procedures (any but deleted): fee x (units + base units), codes."""
    procedures = [p for p in facts.procedures if p.appointment_id == appointment_id
                  and p.status != ProcedureStatus.DELETED]
    return (sum(p.fee * (p.units + p.base_units) for p in procedures),
            tuple(sorted(str(p.code) for p in procedures if p.code)))


def _age(since: date, today: date) -> int:
    return max(0, (today - since).days)


def lab_case_not_ready(source_id: str, facts: PatientFacts, source: SourceFacts,
                       mappings: Mappings, today: date) -> list[DesiredItem]:
    """A lab case not received, attached to an active patient's scheduled appointment dated
    from today through `days_before` ahead; escalated from the day before the appointment."""
    days = mappings.kinds.lab_case_not_ready.days_before
    if not is_active(facts):
        return []
    appointments = {a.pms_id: a for a in facts.appointments}
    items = []
    for case in facts.lab_cases:
        appointment = appointments.get(case.appointment_id or 0)
        on = _scheduled_within(appointment, today, days)
        if case.received_at is not None or appointment is None or on is None:
            continue
        lab = source.laboratories.get(case.lab_id or 0)
        amount, codes = _appointment_amount(facts, appointment.pms_id)
        since = on - timedelta(days=days)
        items.append(DesiredItem(
            item_key(ItemKind.LAB_CASE_NOT_READY, source_id, case.pms_id),
            ItemKind.LAB_CASE_NOT_READY, source_id, case.patient_id, owed_since=since,
            amount=amount, codes=codes, appointment_id=appointment.pms_id,
            clinic_id=appointment.clinic_id, provider_id=appointment.provider_id,
            age_days=_age(since, today), escalate=(on - today).days <= 1,
            details={"subject_id": case.pms_id, "appointment_on": on.isoformat(),
                     "window_days": days, "lab": lab.name if lab else None,
                     "lab_phone": lab.phone if lab else None,
                     "sent": case.sent_at is not None,
                     "sent_on": case.sent_at.date().isoformat() if case.sent_at else None,
                     "due_on": case.due_at.date().isoformat() if case.due_at else None}))
    return items


def _specialist(facts_referral: int | None, source: SourceFacts) -> dict[str, object]:
    referral = source.referrals.get(facts_referral or 0)
    if referral is None:
        return {"specialist": None, "specialist_phone": None, "specialty": None}
    name = referral.last_name if referral.is_organization else " ".join(
        part for part in (referral.first_name, referral.last_name) if part)
    specialty = source.definitions.get(referral.specialty_id or 0)
    return {"specialist": name or None, "specialist_phone": referral.phone or None,
            "specialty": specialty.name if specialty else None}


def referral_no_outcome(source_id: str, facts: PatientFacts, source: SourceFacts,
                        mappings: Mappings, today: date) -> list[DesiredItem]:
    """An active patient's referral to a specialist, referred `after_days` or more ago, with
    no outcome: not declined, not complete, no procedure date."""
    after = mappings.kinds.referral_no_outcome.after_days
    patient = facts.patient
    if patient is None or patient.status != PatientStatus.ACTIVE:
        return []
    items = []
    for referral in facts.referrals:
        if (referral.direction != ReferralDirection.TO or referral.status not in _NO_OUTCOME_YET
                or referral.procedure_completed_on is not None or referral.referred_on is None
                or (today - referral.referred_on).days < after):
            continue
        since = referral.referred_on + timedelta(days=after)
        items.append(DesiredItem(
            item_key(ItemKind.REFERRAL_NO_OUTCOME, source_id, referral.pms_id),
            ItemKind.REFERRAL_NO_OUTCOME, source_id, referral.patient_id, owed_since=since,
            clinic_id=patient.clinic_id, provider_id=referral.provider_id or patient.provider_id,
            age_days=_age(since, today),
            details={"subject_id": referral.pms_id, **_specialist(referral.referral_id, source),
                     "referred_on": referral.referred_on.isoformat(),
                     "referral_status": referral.status.value,
                     "days_open": (today - referral.referred_on).days}))
    return items


def primary_coverage(facts: PatientFacts) -> Coverage | None:
    """The patient's primary coverage (ordinal 1; the first entered if several)."""
    primary = sorted((c for c in facts.coverages if c.ordinal == 1), key=lambda c: c.pms_id)
    return primary[0] if primary else None


def _last_verified(facts: PatientFacts, kind: VerificationType, target: int | None
                   ) -> date | None:
    dates = [v.verified_on for v in facts.verifications
             if v.verify_type == kind and v.target_id == target and v.verified_on is not None]
    return max(dates, default=None)


def _stale(verified: date | None, valid_days: int, today: date) -> bool:
    return verified is None or (today - verified).days > valid_days


def insurance_not_verified(source_id: str, facts: PatientFacts, source: SourceFacts,
                           mappings: Mappings, today: date) -> list[DesiredItem]:
    """Each scheduled appointment from today through `days_ahead` of an active patient whose
    primary plan's benefits or whose enrollment in it was not verified recently enough."""
    settings = mappings.kinds.insurance_not_verified
    coverage = primary_coverage(facts)
    if not is_active(facts) or coverage is None:
        return []
    benefits_on = _last_verified(facts, VerificationType.BENEFITS, coverage.plan_id)
    enrollment_on = _last_verified(facts, VerificationType.ENROLLMENT, coverage.pms_id)
    stale = [name for name, verified, valid in (
        ("benefits", benefits_on, settings.benefits_valid_days),
        ("enrollment", enrollment_on, settings.enrollment_valid_days))
        if _stale(verified, valid, today)]
    if not stale:
        return []
    items = []
    for appointment in facts.appointments:
        on = _scheduled_within(appointment, today, settings.days_ahead)
        if on is None:
            continue
        amount, codes = _appointment_amount(facts, appointment.pms_id)
        since = on - timedelta(days=settings.days_ahead)
        items.append(DesiredItem(
            item_key(ItemKind.INSURANCE_NOT_VERIFIED, source_id, appointment.pms_id),
            ItemKind.INSURANCE_NOT_VERIFIED, source_id, appointment.patient_id,
            owed_since=since, amount=amount, codes=codes, appointment_id=appointment.pms_id,
            clinic_id=appointment.clinic_id, provider_id=appointment.provider_id,
            age_days=_age(since, today), escalate=(on - today).days <= 1,
            details={"appointment_on": on.isoformat(), "window_days": settings.days_ahead,
                     "stale": stale, "carrier": coverage.carrier_name,
                     "carrier_phone": coverage.carrier_phone,
                     "benefits_verified_on": benefits_on.isoformat() if benefits_on else None,
                     "enrollment_verified_on": (
                         enrollment_on.isoformat() if enrollment_on else None)}))
    return items


def signing_plan(facts: PatientFacts, procedure_ids: Iterable[int]) -> TreatmentPlan | None:
    """The latest signed treatment plan any of these procedures is on: a saved plan through
    its copies of them (proctp), an active or inactive plan through its attachments."""
    signed = {plan.pms_id: plan for plan in facts.treatment_plans if plan.signed_at is not None}
    if not signed:
        return None
    wanted = set(procedure_ids)
    plans = [signed[copy.plan_id] for copy in facts.saved_plan_procedures
             if copy.procedure_id in wanted and copy.plan_id in signed
             and signed[copy.plan_id].status == TreatmentPlanStatus.SAVED]
    plans += [signed[link.plan_id] for link in facts.plan_attachments
              if link.procedure_id in wanted and link.plan_id in signed
              and signed[link.plan_id].status != TreatmentPlanStatus.SAVED]
    return max(plans, key=lambda plan: (plan.signed_at, plan.pms_id), default=None)


def signed_details(facts: PatientFacts, source: SourceFacts,
                   procedure_ids: Iterable[int]) -> dict[str, object]:
    """Whether the procedures are signed for, when, and who presented the plan."""
    plan = signing_plan(facts, procedure_ids)
    if plan is None or plan.signed_at is None:
        return {"signed": False}
    presenter = source.users.get(plan.presenter_id or 0)
    return {"signed": True, "signed_on": plan.signed_at.date().isoformat(),
            "presenter_id": plan.presenter_id, "presenter": presenter.name if presenter else None}


DUTY_KINDS = (ItemKind.LAB_CASE_NOT_READY, ItemKind.REFERRAL_NO_OUTCOME,
              ItemKind.INSURANCE_NOT_VERIFIED)

NEEDS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.LAB_CASE_NOT_READY: ("lab_case", "appointment"),
    ItemKind.REFERRAL_NO_OUTCOME: ("referral_attachment",),
    ItemKind.INSURANCE_NOT_VERIFIED: ("insurance_verification", "coverage", "appointment"),
}
"""The records (adapter manifest names) each duty needs: without them it is off on a PMS."""


def kinds_off(records: set[str]) -> list[tuple[ItemKind, list[str]]]:
    """The duties an adapter reading these records cannot follow, and what each misses."""
    return [(kind, missing) for kind, needs in NEEDS.items()
            if (missing := [record for record in needs if record not in records])]


def why_duty_resolved(kind: ItemKind, subject_id: int, facts: PatientFacts, days_ahead: int,
                      today: date) -> Resolution:
    """Why a lab case, referral or verification item is no longer owed (`days_ahead`: the
    verification window in force)."""
    if kind == ItemKind.REFERRAL_NO_OUTCOME:
        return _why_referral_resolved(subject_id, facts)
    appointments = {a.pms_id: a for a in facts.appointments}
    if kind == ItemKind.LAB_CASE_NOT_READY:
        return _why_lab_case_resolved(subject_id, facts, appointments)
    appointment = appointments.get(subject_id)
    if appointment is None:
        return Resolution.DELETED_IN_PMS
    if (is_active(facts) and primary_coverage(facts) is not None
            and _scheduled_within(appointment, today, days_ahead)):
        return Resolution.VERIFIED
    return _why_visit_passed(appointment)


def _why_lab_case_resolved(case_id: int, facts: PatientFacts,
                           appointments: dict[int, Appointment]) -> Resolution:
    case = next((c for c in facts.lab_cases if c.pms_id == case_id), None)
    if case is None:
        return Resolution.DELETED_IN_PMS
    if case.received_at is not None:
        return Resolution.RECEIVED
    return _why_visit_passed(appointments.get(case.appointment_id or 0))


def _why_referral_resolved(referral_id: int, facts: PatientFacts) -> Resolution:
    referral = next((r for r in facts.referrals if r.pms_id == referral_id), None)
    if referral is None:
        return Resolution.DELETED_IN_PMS
    if referral.status == ReferralStatus.DECLINED:
        return Resolution.DECLINED
    if referral.status == ReferralStatus.COMPLETE or referral.procedure_completed_on:
        return Resolution.COMPLETED
    return Resolution.NO_LONGER_ELIGIBLE


def _why_visit_passed(appointment: Appointment | None) -> Resolution:
    """An appointment that left the window: completed, or moved, broken or deleted."""
    if appointment is not None and appointment.status == AppointmentStatus.COMPLETE:
        return Resolution.COMPLETED
    return Resolution.NO_LONGER_ELIGIBLE
