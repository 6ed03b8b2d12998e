"""The rules: which follow-ups the PMS data says are owed, and why one no longer is.

Pure functions over one patient's facts; no I/O. Semantics follow Open Dental's own lists
(Treatment Finder, Outstanding Claims, Planned Tracker, Unscheduled List) where it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from tc_sync.config.mappings import InsuranceNotVerified, Mappings
from tc_sync.items.benefits import BenefitPosition, benefit_position
from tc_sync.items.claim_rules import (
    SENT,
    claim_denied,
    claim_outstanding,
    claim_underpaid,
    claim_unsent,
    predetermination_pending,
    predetermination_returned,
)
from tc_sync.items.duties import (
    DUTY_KINDS,
    insurance_not_verified,
    is_active,
    lab_case_not_ready,
    primary_coverage,
    referral_no_outcome,
    signed_details,
    why_duty_resolved,
)
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.measures import (
    age_in_days,
    cents,
    future_scheduled,
    procedure_amount,
    waiting_procedures,
)
from tc_sync.items.model import DesiredItem, ItemKind, Resolution, item_key
from tc_sync.records import (
    Appointment,
    AppointmentStatus,
    BenefitPeriod,
    BenefitQuantity,
    BenefitType,
    ClaimStatus,
    Coverage,
    PatientStatus,
    ProcedureStatus,
)

T = TypeVar("T")
_UNSCHEDULED_LIST_PATIENTS = {PatientStatus.ACTIVE, PatientStatus.PROSPECTIVE}


def derived(facts: PatientFacts, name: str, source: SourceFacts, mappings: Mappings,
            today: date, work: Callable[[], T]) -> T:
    """`work()`'s result, worked out once per patient's facts, settings and day (several
    rules need the benefit position and the planned treatment)."""
    key = (name, id(source), id(mappings), today)
    if key not in facts.derived:
        facts.derived[key] = work()
    result: T = facts.derived[key]
    return result


def _position(facts: PatientFacts, source: SourceFacts, mappings: Mappings, today: date
              ) -> tuple[Coverage | None, BenefitPosition | None]:
    return derived(facts, "position", source, mappings, today,
                   lambda: _work_out_position(facts, source, mappings, today))


def _work_out_position(facts: PatientFacts, source: SourceFacts, mappings: Mappings,
                       today: date) -> tuple[Coverage | None, BenefitPosition | None]:
    coverage = primary_coverage(facts)
    if coverage is None:
        return None, None
    settings = mappings.benefits
    return coverage, benefit_position(
        coverage, facts.benefits, facts.claim_procedures, today, source.other_categories,
        excluded_procedures=_separately_limited(facts, source, coverage),
        patient_overrides=settings.patient_overrides, floor_at_zero=settings.floor_at_zero)


_YEARLY = (BenefitPeriod.SERVICE_YEAR, BenefitPeriod.CALENDAR_YEAR)


def _separately_limited(facts: PatientFacts, source: SourceFacts, coverage: Coverage
                        ) -> frozenset[int]:
    """Procedures whose insurance the Treatment Finder leaves out of the annual maximum's used
    and pending: their code falls under one of the plan's yearly limitations on a coverage
    category (its code spans) or on a code."""
    ranges: list[tuple[str, str]] = []
    for benefit in facts.benefits:
        if (benefit.coverage_id is not None or benefit.plan_id != coverage.plan_id
                or benefit.benefit_type != BenefitType.LIMITATION
                or benefit.quantity_qualifier != BenefitQuantity.NONE
                or benefit.time_period not in _YEARLY):
            continue
        spans = source.category_spans.get(benefit.category_id or 0, ())
        code = source.codes.get(benefit.code_id or 0)
        if spans:               # a known category with code spans: those
            ranges += spans
        elif code is not None:  # else the benefit's own code
            ranges.append((code.code, code.code))
    if not ranges:
        return frozenset()
    return frozenset(p.pms_id for p in facts.procedures
                     if p.code and any(low <= p.code <= high for low, high in ranges))


def _benefit_details(coverage: Coverage | None, position: BenefitPosition | None
                     ) -> dict[str, object]:
    if coverage is None or position is None:
        return {"insured": False}
    return {"insured": True, "carrier": coverage.carrier_name,
            "carrier_phone": coverage.carrier_phone,
            "remaining_benefits": position.remaining,    # None: the plan has no maximum entered
            "benefits_renew_on": position.renews_on.isoformat()}


def unscheduled_treatment(source_id: str, facts: PatientFacts, source: SourceFacts,
                          mappings: Mappings, today: date) -> list[DesiredItem]:
    """Open Dental's Treatment Finder: an active patient's planned treatment, fee x (units +
    base units), when more than zero and (patient semantics) no appointment is scheduled
    from today on; owed since the earliest date planned."""
    settings = mappings.kinds.unscheduled_treatment
    if not is_active(facts) or facts.patient is None:
        return []
    if settings.semantics == "patient" and future_scheduled(facts, today):
        return []
    waiting = waiting_procedures(facts, mappings, today)
    amount = sum(procedure_amount(p) for p in waiting)
    if amount <= 0 or amount < cents(settings.min_amount):
        return []
    dates = [p.date_planned for p in waiting if p.date_planned is not None]
    planned_on = min(dates) if dates else None
    if settings.min_age_days and (
            planned_on is None or (today - planned_on).days < settings.min_age_days):
        return []
    coverage, position = _position(facts, source, mappings, today)
    patient = facts.patient
    return [DesiredItem(
        item_key(ItemKind.UNSCHEDULED_TREATMENT, source_id, patient.pms_id),
        ItemKind.UNSCHEDULED_TREATMENT, source_id, patient.pms_id, owed_since=planned_on,
        amount=amount, codes=tuple(sorted(str(p.code) for p in waiting)),
        clinic_id=patient.clinic_id, provider_id=patient.provider_id,
        age_days=age_in_days(planned_on, today),
        details={"procedures": sorted(p.pms_id for p in waiting),
                 "teeth": sorted({p.tooth for p in waiting if p.tooth}),
                 **_benefit_details(coverage, position),
                 **signed_details(facts, source, (p.pms_id for p in waiting))})]


def _treatment(source_id: str, facts: PatientFacts, source: SourceFacts, mappings: Mappings,
               today: date) -> list[DesiredItem]:
    """`unscheduled_treatment`, worked out once: `benefits_expiring` builds on it."""
    return derived(facts, f"treatment {source_id}", source, mappings, today,
                   lambda: unscheduled_treatment(source_id, facts, source, mappings, today))


def benefits_expiring(source_id: str, facts: PatientFacts, source: SourceFacts,
                      mappings: Mappings, today: date) -> list[DesiredItem]:
    """A patient with unscheduled treatment whose primary plan renews within `within_days`
    with at least `min_remaining` left (either off: no limit); the amount is what remains."""
    settings = mappings.kinds.benefits_expiring
    treatment = _treatment(source_id, facts, source, mappings, today)
    coverage, position = _position(facts, source, mappings, today)
    if not treatment or coverage is None or position is None or position.remaining is None:
        return []
    days_left = (position.renews_on - today).days
    if settings.within_days is not None and days_left > settings.within_days:
        return []
    if settings.min_remaining is not None and position.remaining < cents(
            settings.min_remaining):
        return []
    item = treatment[0]
    owed_since = item.owed_since if settings.within_days is None else (
        position.renews_on - timedelta(days=settings.within_days))
    return [DesiredItem(
        item_key(ItemKind.BENEFITS_EXPIRING, source_id, item.patient_id),
        ItemKind.BENEFITS_EXPIRING, source_id, item.patient_id,
        owed_since=owed_since, amount=position.remaining, codes=item.codes,
        clinic_id=item.clinic_id, provider_id=item.provider_id, age_days=item.age_days,
        details={"treatment_amount": item.amount, **_benefit_details(coverage, position)})]


def _scheduled_from(facts: PatientFacts, planned: Appointment) -> list[Appointment]:
    """Appointments made from a planned one (NextAptNum): once any exists, whatever became of
    it, Open Dental counts the planned appointment as scheduled."""
    return [a for a in facts.appointments if a.planned_from_id == planned.pms_id]


def _appointment_amount(facts: PatientFacts, appointment: Appointment, *,
                        planned: bool) -> tuple[int, tuple[str, ...]]:
    """The planned procedures on an appointment (or a planned appointment): amount, codes."""
    procedures = [p for p in facts.procedures if p.status == ProcedureStatus.PLANNED and (
        p.planned_appointment_id if planned else p.appointment_id) == appointment.pms_id]
    return (sum(procedure_amount(p) for p in procedures),
            tuple(sorted(str(p.code) for p in procedures)))


def planned_appointment_unscheduled(source_id: str, facts: PatientFacts, source: SourceFacts,
                                    mappings: Mappings, today: date) -> list[DesiredItem]:
    """Open Dental's Planned Appointment Tracker: an active patient's planned appointment
    no appointment was made from, `after_days` after its date (0: whatever its date)."""
    settings = mappings.kinds.planned_appointment_unscheduled
    if not is_active(facts):
        return []
    items = []
    for planned in facts.appointments:
        if planned.status != AppointmentStatus.PLANNED or _scheduled_from(facts, planned):
            continue
        since = planned.starts_at.date() if planned.starts_at else None
        if settings.after_days and (since is None or (today - since).days < settings.after_days):
            continue
        amount, codes = _appointment_amount(facts, planned, planned=True)
        items.append(DesiredItem(
            item_key(ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED, source_id, planned.pms_id),
            ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED, source_id, planned.patient_id,
            owed_since=since, amount=amount, codes=codes,
            appointment_id=planned.pms_id, clinic_id=planned.clinic_id,
            provider_id=planned.provider_id, age_days=age_in_days(since, today),
            details={"planned_order": planned.planned_order}))
    return items


def broken_appointment(source_id: str, facts: PatientFacts, source: SourceFacts,
                       mappings: Mappings, today: date) -> list[DesiredItem]:
    """Open Dental's Unscheduled List: broken and unscheduled-list appointments of active and
    prospective patients, dated within `within_days` (null: any date, a blank one included);
    by default not while the patient has a future scheduled appointment."""
    settings = mappings.kinds.broken_appointment
    if facts.patient is None or facts.patient.status not in _UNSCHEDULED_LIST_PATIENTS:
        return []
    if settings.unless_patient_scheduled and future_scheduled(facts, today):
        return []
    items = []
    for appointment in facts.appointments:
        if appointment.status not in (AppointmentStatus.BROKEN,
                                      AppointmentStatus.UNSCHEDULED_LIST):
            continue
        on = appointment.starts_at.date() if appointment.starts_at else None
        if settings.within_days is not None and (
                on is None or (today - on).days > settings.within_days):
            continue
        status = source.definitions.get(appointment.unscheduled_status_id or 0)
        amount, codes = _appointment_amount(facts, appointment, planned=False)
        items.append(DesiredItem(
            item_key(ItemKind.BROKEN_APPOINTMENT, source_id, appointment.pms_id),
            ItemKind.BROKEN_APPOINTMENT, source_id, appointment.patient_id, owed_since=on,
            amount=amount, codes=codes,
            appointment_id=appointment.pms_id, clinic_id=appointment.clinic_id,
            provider_id=appointment.provider_id, age_days=age_in_days(on, today),
            details={"appointment_status": appointment.status.value,
                     "unscheduled_status": status.name if status else None}))
    return items


Rule = Callable[[str, PatientFacts, SourceFacts, Mappings, date], list[DesiredItem]]


RULES: dict[ItemKind, Rule] = {
    ItemKind.UNSCHEDULED_TREATMENT: _treatment,
    ItemKind.PREDETERMINATION_PENDING: predetermination_pending,
    ItemKind.PREDETERMINATION_RETURNED: predetermination_returned,
    ItemKind.CLAIM_UNSENT: claim_unsent,
    ItemKind.CLAIM_OUTSTANDING: claim_outstanding,
    ItemKind.CLAIM_DENIED: claim_denied,
    ItemKind.CLAIM_UNDERPAID: claim_underpaid,
    ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: planned_appointment_unscheduled,
    ItemKind.BROKEN_APPOINTMENT: broken_appointment,
    ItemKind.BENEFITS_EXPIRING: benefits_expiring,
    ItemKind.LAB_CASE_NOT_READY: lab_case_not_ready,
    ItemKind.REFERRAL_NO_OUTCOME: referral_no_outcome,
    ItemKind.INSURANCE_NOT_VERIFIED: insurance_not_verified,
}


def evaluate(source_id: str, facts: PatientFacts, source: SourceFacts, mappings: Mappings,
             today: date) -> dict[str, DesiredItem]:
    """Every item one patient's data says is owed today, by natural key."""
    desired: dict[str, DesiredItem] = {}
    facts.derived.clear()       # worked out afresh, should the facts have changed since
    for kind, rule in RULES.items():
        if getattr(mappings.kinds, kind.value).enabled:
            for item in rule(source_id, facts, source, mappings, today):
                desired[item.key] = item
    return desired


def why_resolved(kind: ItemKind, subject_id: int, facts: PatientFacts, today: date,
                 mappings: Mappings | None = None) -> Resolution:
    """Why an open item is no longer owed, read from what the PMS now shows (`mappings`: the
    windows in force; the defaults if not given)."""
    if facts.patient is None:
        return Resolution.DELETED_IN_PMS
    if kind in DUTY_KINDS:
        days_ahead = (mappings.kinds.insurance_not_verified.days_ahead if mappings
                      else InsuranceNotVerified.model_fields["days_ahead"].default)
        return why_duty_resolved(kind, subject_id, facts, days_ahead, today)
    if kind in (ItemKind.UNSCHEDULED_TREATMENT, ItemKind.BENEFITS_EXPIRING):
        return _why_treatment_resolved(facts, today)
    if kind in (ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED, ItemKind.BROKEN_APPOINTMENT):
        return _why_appointment_resolved(subject_id, facts, today)
    return _why_claim_resolved(kind, subject_id, facts, today)


def _why_treatment_resolved(facts: PatientFacts, today: date) -> Resolution:
    if future_scheduled(facts, today):
        return Resolution.SCHEDULED
    if any(p.status == ProcedureStatus.COMPLETE and p.date_complete
           and (today - p.date_complete).days <= 30 for p in facts.procedures):
        return Resolution.COMPLETED
    return Resolution.NO_LONGER_ELIGIBLE


def _why_appointment_resolved(appointment_id: int, facts: PatientFacts,
                              today: date) -> Resolution:
    appointment = next((a for a in facts.appointments if a.pms_id == appointment_id), None)
    if appointment is None:
        return Resolution.DELETED_IN_PMS
    made = _scheduled_from(facts, appointment)
    outcomes = [appointment, *made]
    if any(a.status == AppointmentStatus.COMPLETE for a in outcomes):
        return Resolution.COMPLETED
    if made or appointment.status == AppointmentStatus.SCHEDULED or future_scheduled(
            facts, today):
        return Resolution.SCHEDULED
    return Resolution.NO_LONGER_ELIGIBLE


def _why_claim_resolved(kind: ItemKind, claim_id: int, facts: PatientFacts,
                        today: date) -> Resolution:
    claim = next((c for c in facts.claims if c.pms_id == claim_id), None)
    if claim is None:
        return Resolution.DELETED_IN_PMS
    if kind == ItemKind.PREDETERMINATION_RETURNED:
        return Resolution.SCHEDULED if future_scheduled(facts, today) else (
            Resolution.COMPLETED)
    if kind in (ItemKind.CLAIM_DENIED, ItemKind.CLAIM_UNDERPAID):
        return Resolution.PAID if claim.paid > 0 else Resolution.NO_LONGER_ELIGIBLE
    if claim.status == ClaimStatus.RECEIVED:
        return Resolution.RECEIVED
    if kind == ItemKind.CLAIM_UNSENT and claim.status in SENT:
        return Resolution.SENT
    return Resolution.NO_LONGER_ELIGIBLE
