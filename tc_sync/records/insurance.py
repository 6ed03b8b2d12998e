"""Canonical records of insurance: coverage and benefits, claims and their procedures, tracking and
verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tc_sync.records.codes import (
    BenefitCategory,
    BenefitPeriod,
    BenefitQuantity,
    BenefitType,
    Cents,
    ClaimProcedureStatus,
    ClaimStatus,
    ClaimTrackingType,
    ClaimType,
    CoverageLevel,
    PlanType,
    VerificationType,
)


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
class InsuranceVerification:
    """When a plan's benefits, or a patient's enrollment in a plan, was last verified."""

    pms_id: int
    verify_type: VerificationType
    target_id: int | None
    """The plan (benefits) or the patient's coverage (enrollment) verified."""
    verified_on: date | None
    status_id: int | None
    changed_at: datetime | None
