"""Canonical records: the PMS-neutral vocabulary every adapter speaks.

Each record is a frozen dataclass; each field's type says how a PMS value is coerced and
validated (see `tc_sync.adapter.convert`). Fields typed with an Enum take their values from the
adapter manifest's code maps, never from Python. Money is exact whole cents (`Cents`); PMS
times are naive local times of the PMS server, as the PMS stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NewType

Cents = NewType("Cents", int)
"""An amount of money in whole cents (12.50 dollars is 1250)."""


class PatientStatus(StrEnum):
    ACTIVE = "active"
    NON_PATIENT = "non_patient"
    INACTIVE = "inactive"
    ARCHIVED = "archived"
    DELETED = "deleted"
    DECEASED = "deceased"
    PROSPECTIVE = "prospective"


class ContactMethod(StrEnum):
    NONE = "none"
    DO_NOT_CALL = "do_not_call"
    HOME_PHONE = "home_phone"
    WORK_PHONE = "work_phone"
    MOBILE_PHONE = "mobile_phone"
    EMAIL = "email"
    TEXT = "text"
    MAIL = "mail"
    SEE_NOTES = "see_notes"


class ProcedureStatus(StrEnum):
    PLANNED = "planned"
    PLANNED_INACTIVE = "planned_inactive"
    COMPLETE = "complete"
    EXISTING_CURRENT_PROVIDER = "existing_current_provider"
    EXISTING_OTHER_PROVIDER = "existing_other_provider"
    REFERRED_OUT = "referred_out"
    DELETED = "deleted"
    CONDITION = "condition"


class AppointmentStatus(StrEnum):
    NONE = "none"
    SCHEDULED = "scheduled"
    COMPLETE = "complete"
    UNSCHEDULED_LIST = "unscheduled_list"
    ASAP = "asap"
    BROKEN = "broken"
    PLANNED = "planned"
    PATIENT_NOTE = "patient_note"
    PATIENT_NOTE_COMPLETE = "patient_note_complete"


class AppointmentPriority(StrEnum):
    NORMAL = "normal"
    ASAP = "asap"


class TreatmentPlanStatus(StrEnum):
    SAVED = "saved"
    ACTIVE = "active"
    INACTIVE = "inactive"


class ClaimType(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    PREDETERMINATION = "predetermination"
    OTHER = "other"
    CAPITATION = "capitation"
    MEDICAL = "medical"


class ClaimStatus(StrEnum):
    UNSENT = "unsent"
    HOLD_UNTIL_PRIMARY = "hold_until_primary"
    WAITING_TO_SEND = "waiting_to_send"
    PROBABLY_SENT = "probably_sent"
    SENT = "sent"
    RECEIVED = "received"
    HOLD_IN_PROCESS = "hold_in_process"
    ADJUSTMENT = "adjustment"


class ClaimProcedureStatus(StrEnum):
    NOT_RECEIVED = "not_received"
    RECEIVED = "received"
    PREDETERMINATION = "predetermination"
    ADJUSTMENT = "adjustment"
    SUPPLEMENTAL = "supplemental"
    CAPITATION_CLAIM = "capitation_claim"
    ESTIMATE = "estimate"
    CAPITATION_COMPLETE = "capitation_complete"
    CAPITATION_ESTIMATE = "capitation_estimate"
    INSURANCE_HISTORY = "insurance_history"


class PlanType(StrEnum):
    PERCENTAGE = "percentage"
    PPO = "ppo"
    FLAT_COPAY = "flat_copay"
    CAPITATION = "capitation"


class BenefitType(StrEnum):
    ACTIVE_COVERAGE = "active_coverage"
    COINSURANCE = "coinsurance"
    DEDUCTIBLE = "deductible"
    COPAYMENT = "copayment"
    EXCLUSION = "exclusion"
    LIMITATION = "limitation"
    WAITING_PERIOD = "waiting_period"


class BenefitPeriod(StrEnum):
    NONE = "none"
    SERVICE_YEAR = "service_year"
    CALENDAR_YEAR = "calendar_year"
    LIFETIME = "lifetime"
    YEARS = "years"
    LAST_12_MONTHS = "last_12_months"


class BenefitQuantity(StrEnum):
    NONE = "none"
    SERVICES = "services"
    AGE_LIMIT = "age_limit"
    VISITS = "visits"
    YEARS = "years"
    MONTHS = "months"


class BenefitCategory(StrEnum):
    """The X12 benefit category a coverage category stands for."""

    NONE = "none"
    GENERAL = "general"
    DIAGNOSTIC = "diagnostic"
    PERIODONTICS = "periodontics"
    RESTORATIVE = "restorative"
    ENDODONTICS = "endodontics"
    MAXILLOFACIAL_PROSTHETICS = "maxillofacial_prosthetics"
    CROWNS = "crowns"
    ACCIDENT = "accident"
    ORTHODONTICS = "orthodontics"
    PROSTHODONTICS = "prosthodontics"
    ORAL_SURGERY = "oral_surgery"
    ROUTINE_PREVENTIVE = "routine_preventive"
    DIAGNOSTIC_XRAY = "diagnostic_xray"
    ADJUNCTIVE = "adjunctive"


class CoverageLevel(StrEnum):
    NONE = "none"
    INDIVIDUAL = "individual"
    FAMILY = "family"


class ContactMode(StrEnum):
    NONE = "none"
    EMAIL = "email"
    MAIL = "mail"
    PHONE = "phone"
    IN_PERSON = "in_person"
    TEXT = "text"
    EMAIL_AND_TEXT = "email_and_text"
    PHONE_AND_TEXT = "phone_and_text"
    FAX = "fax"


class ContactDirection(StrEnum):
    NEITHER = "neither"
    SENT = "sent"
    RECEIVED = "received"


class ClaimTrackingType(StrEnum):
    STATUS_HISTORY = "status_history"
    CLAIM_USER = "claim_user"
    CLAIM_PROC_RECEIVED = "claim_proc_received"


class DefinitionCategory(StrEnum):
    PROCEDURE_CATEGORY = "procedure_category"
    RECALL_UNSCHEDULED_STATUS = "recall_unscheduled_status"
    TREATMENT_PRIORITY = "treatment_priority"
    COMMLOG_TYPE = "commlog_type"
    CLAIM_CUSTOM_TRACKING = "claim_custom_tracking"
    REFERRAL_SPECIALTY = "referral_specialty"
    INSURANCE_VERIFICATION_STATUS = "insurance_verification_status"


class ReferralDirection(StrEnum):
    """Which way a referral goes: to a specialist, from a referral source, or custom."""

    TO = "to"
    FROM = "from"
    CUSTOM = "custom"


class ReferralStatus(StrEnum):
    """Where an outgoing referral stands (Open Dental's RefToStatus)."""

    NONE = "none"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    CONSULTED = "consulted"
    IN_TREATMENT = "in_treatment"
    COMPLETE = "complete"


class VerificationType(StrEnum):
    """What an insurance verification is of: a plan's benefits or a patient's enrollment."""

    NONE = "none"
    BENEFITS = "benefits"
    ENROLLMENT = "enrollment"


@dataclass(frozen=True, slots=True)
class Patient:
    """A person the practice treats or may treat."""

    pms_id: int
    last_name: str
    first_name: str
    preferred_name: str
    status: PatientStatus
    preferred_contact: ContactMethod
    home_phone: str
    work_phone: str
    mobile_phone: str
    email: str
    birthdate: date | None
    guarantor_id: int | None
    provider_id: int | None
    clinic_id: int | None
    changed_at: datetime | None


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
class Claim:
    """An insurance claim, or a predetermination (a claim of type predetermination)."""

    pms_id: int
    patient_id: int
    claim_type: ClaimType
    status: ClaimStatus
    date_service: date | None
    date_sent: date | None
    date_sent_original: date | None
    date_received: date | None
    fee: Cents
    estimate: Cents
    paid: Cents
    write_off: Cents
    plan_id: int | None
    subscription_id: int | None
    carrier_id: int | None
    custom_tracking_id: int | None
    provider_id: int | None
    clinic_id: int | None
    changed_at: datetime | None
    custom_tracking_since: datetime | None = None
    """When the claim's current custom tracking status was set (None: unknown, or no status).
    Last, with a default, so that code building claims without it keeps working."""


@dataclass(frozen=True, slots=True)
class ClaimProcedure:
    """One procedure's line on a claim, or an insurance estimate for a planned procedure."""

    pms_id: int
    claim_id: int | None
    procedure_id: int | None
    patient_id: int
    plan_id: int | None
    subscription_id: int | None
    status: ClaimProcedureStatus
    fee_billed: Cents
    estimate: Cents
    paid: Cents
    deductible_applied: Cents
    write_off: Cents
    procedure_date: date | None
    date_paid: date | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Coverage:
    """A patient's insurance coverage: plan, carrier, ordinal and benefit-year renewal."""

    pms_id: int
    patient_id: int
    ordinal: int
    subscription_id: int | None
    plan_id: int | None
    subscriber_id: int | None
    date_effective: date | None
    date_term: date | None
    group_name: str
    renewal_month: int | None
    plan_type: PlanType | None
    carrier_id: int | None
    carrier_name: str
    carrier_phone: str
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CoverageCategory:
    """A benefit category of the practice's plans (a general one holds the annual maximum)."""

    pms_id: int
    description: str
    benefit_category: BenefitCategory
    hidden: bool


@dataclass(frozen=True, slots=True)
class CoverageSpan:
    """A range of procedure codes a coverage category covers (Open Dental's covspan)."""

    pms_id: int
    category_id: int
    from_code: str
    to_code: str


@dataclass(frozen=True, slots=True)
class Benefit:
    """One benefit line of a plan: the inputs to annual maximum, deductible and usage."""

    pms_id: int
    plan_id: int | None
    coverage_id: int | None
    category_id: int | None
    benefit_type: BenefitType
    percent: int | None
    amount: Cents
    time_period: BenefitPeriod
    quantity_qualifier: BenefitQuantity
    quantity: int
    code_id: int | None
    coverage_level: CoverageLevel
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact-log entry: the practice reached (or heard from) a patient."""

    pms_id: int
    patient_id: int
    contacted_at: datetime | None
    contact_type_id: int | None
    mode: ContactMode
    direction: ContactDirection
    changed_at: datetime | None
    automated: bool = False
    """Written by a program (reminders, web scheduling, a link), not by staff."""
    user_id: int | None = None
    """The PMS user who logged it."""


@dataclass(frozen=True, slots=True)
class ClaimTrackingEntry:
    """A line of a claim's tracking history: a status set by staff, an owner assigned."""

    pms_id: int
    patient_id: int
    claim_id: int
    entry_type: ClaimTrackingType
    status_id: int | None
    """The custom tracking status set (a definition), for status-history lines."""
    entered_at: datetime | None
    user_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Definition:
    """An entry of one of the practice's own lists (categories, statuses, tracking)."""

    pms_id: int
    category: DefinitionCategory
    item_order: int
    name: str
    value: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class Provider:
    """A dentist or hygienist."""

    pms_id: int
    abbreviation: str
    last_name: str
    first_name: str
    is_hygienist: bool
    hidden: bool
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Clinic:
    """A location of a multi-clinic practice."""

    pms_id: int
    abbreviation: str
    description: str
    hidden: bool


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


@dataclass(frozen=True, slots=True)
class InsuranceVerification:
    """When a plan's benefits, or a patient's enrollment in a plan, was last verified."""

    pms_id: int
    verify_type: VerificationType
    target_id: int | None
    """The plan (benefits) or the patient's coverage (enrollment) verified."""
    verified_on: date | None
    status_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class User:
    """A PMS user: a member of staff (who presents plans, logs contacts)."""

    pms_id: int
    name: str
    hidden: bool


Record = (
    Patient | ProcedureCode | Procedure | Appointment | TreatmentPlan | Claim | ClaimProcedure
    | Coverage | CoverageCategory | CoverageSpan | Benefit | Contact | ClaimTrackingEntry
    | Definition | Provider | Clinic | SavedPlanProcedure | PlanAttachment | LabCase | Laboratory
    | ReferralAttachment | Referral | InsuranceVerification | User
)

RECORD_TYPES: dict[str, type] = {
    "patient": Patient,
    "procedure_code": ProcedureCode,
    "procedure": Procedure,
    "appointment": Appointment,
    "treatment_plan": TreatmentPlan,
    "claim": Claim,
    "claim_procedure": ClaimProcedure,
    "coverage": Coverage,
    "coverage_category": CoverageCategory,
    "coverage_span": CoverageSpan,
    "benefit": Benefit,
    "contact": Contact,
    "claim_tracking": ClaimTrackingEntry,
    "definition": Definition,
    "provider": Provider,
    "clinic": Clinic,
    "saved_plan_procedure": SavedPlanProcedure,
    "plan_attachment": PlanAttachment,
    "lab_case": LabCase,
    "laboratory": Laboratory,
    "referral_attachment": ReferralAttachment,
    "referral": Referral,
    "insurance_verification": InsuranceVerification,
    "user": User,
}
"""Record types by the name an adapter manifest uses for them."""
