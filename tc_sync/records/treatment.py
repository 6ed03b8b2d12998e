"""Canonical records of treatment: procedures and their codes, appointments, plans, lab cases and
referrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tc_sync.records.codes import (
    AppointmentPriority,
    AppointmentStatus,
    Cents,
    ProcedureStatus,
    ReferralDirection,
    ReferralStatus,
    TreatmentPlanStatus,
)


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """One code of the practice's procedure code list (CDT or its own)."""

    pms_id: int
    code: str
    description: str
    abbreviation: str
    category_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Procedure:
    """A procedure on a patient's chart: planned, completed or otherwise."""

    pms_id: int
    patient_id: int
    code: str | None
    code_id: int | None
    status: ProcedureStatus
    fee: Cents
    units: int
    base_units: int
    tooth: str
    surface: str
    date_planned: date | None
    procedure_date: date | None
    date_complete: date | None
    appointment_id: int | None
    planned_appointment_id: int | None
    priority_id: int | None
    provider_id: int | None
    clinic_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Appointment:
    """An appointment: scheduled, complete, broken, on the unscheduled list or planned."""

    pms_id: int
    patient_id: int
    status: AppointmentStatus
    starts_at: datetime | None
    provider_id: int | None
    hygienist_id: int | None
    clinic_id: int | None
    planned_from_id: int | None
    unscheduled_status_id: int | None
    planned_order: int | None
    priority: AppointmentPriority
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TreatmentPlan:
    """A treatment plan as presented to the patient."""

    pms_id: int
    patient_id: int
    date_presented: date | None
    heading: str
    status: TreatmentPlanStatus
    signed_at: datetime | None
    changed_at: datetime | None
    presenter_id: int | None = None
    """The PMS user who presents (presented) the plan."""


@dataclass(frozen=True, slots=True)
class SavedPlanProcedure:
    """A procedure as a saved treatment plan recorded it (Open Dental's proctp)."""

    pms_id: int
    plan_id: int
    patient_id: int
    procedure_id: int | None
    """The chart procedure it copies, if any."""
    code: str
    fee: Cents
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlanAttachment:
    """A chart procedure on an active or inactive treatment plan (treatplanattach)."""

    pms_id: int
    plan_id: int
    patient_id: int
    procedure_id: int


@dataclass(frozen=True, slots=True)
class LabCase:
    """A case sent to a dental lab for a patient's appointment."""

    pms_id: int
    patient_id: int
    lab_id: int | None
    appointment_id: int | None
    """The scheduled appointment the case is for (the seat), if attached."""
    planned_appointment_id: int | None
    due_at: datetime | None
    """The due date on the lab slip."""
    created_at: datetime | None
    sent_at: datetime | None
    received_at: datetime | None
    checked_at: datetime | None
    provider_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Laboratory:
    """A dental lab the practice sends cases to."""

    pms_id: int
    name: str
    phone: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class ReferralAttachment:
    """A patient's referral: to a specialist, or from whoever referred the patient."""

    pms_id: int
    patient_id: int
    referral_id: int | None
    direction: ReferralDirection
    status: ReferralStatus
    referred_on: date | None
    procedure_id: int | None
    procedure_completed_on: date | None
    provider_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Referral:
    """A specialist or referral source the practice refers to or hears from."""

    pms_id: int
    last_name: str
    first_name: str
    is_organization: bool
    """The name is a business's (Open Dental keeps it in the last name)."""
    specialty_id: int | None
    phone: str
    email: str
    hidden: bool
    changed_at: datetime | None
