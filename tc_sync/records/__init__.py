"""Canonical records: the PMS-neutral vocabulary every adapter speaks.

Each record is a frozen dataclass; each field's type says how a PMS value is coerced and
validated (see `tc_sync.adapter.convert`). Fields typed with an Enum take their values from the
adapter manifest's code maps, never from Python. Money is exact whole cents (`Cents`); PMS
times are naive local times of the PMS server, as the PMS stores them.

`codes` holds the enums and `Cents`; `practice`, `treatment` and `insurance` the records.
`RECORD_TYPES` names each record as adapter manifests do.
"""

from __future__ import annotations

from tc_sync.records.codes import (
    AppointmentPriority,
    AppointmentStatus,
    BenefitCategory,
    BenefitPeriod,
    BenefitQuantity,
    BenefitType,
    Cents,
    ClaimProcedureStatus,
    ClaimStatus,
    ClaimTrackingType,
    ClaimType,
    ContactDirection,
    ContactMethod,
    ContactMode,
    CoverageLevel,
    DefinitionCategory,
    PatientStatus,
    PlanType,
    ProcedureStatus,
    ReferralDirection,
    ReferralStatus,
    TreatmentPlanStatus,
    VerificationType,
)
from tc_sync.records.insurance import (
    Benefit,
    Claim,
    ClaimProcedure,
    ClaimTrackingEntry,
    Coverage,
    CoverageCategory,
    CoverageSpan,
    InsuranceVerification,
)
from tc_sync.records.practice import (
    Clinic,
    Contact,
    Definition,
    Patient,
    Provider,
    User,
)
from tc_sync.records.treatment import (
    Appointment,
    LabCase,
    Laboratory,
    PlanAttachment,
    Procedure,
    ProcedureCode,
    Referral,
    ReferralAttachment,
    SavedPlanProcedure,
    TreatmentPlan,
)

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

__all__ = [
    "RECORD_TYPES",
    "Appointment",
    "AppointmentPriority",
    "AppointmentStatus",
    "Benefit",
    "BenefitCategory",
    "BenefitPeriod",
    "BenefitQuantity",
    "BenefitType",
    "Cents",
    "Claim",
    "ClaimProcedure",
    "ClaimProcedureStatus",
    "ClaimStatus",
    "ClaimTrackingEntry",
    "ClaimTrackingType",
    "ClaimType",
    "Clinic",
    "Contact",
    "ContactDirection",
    "ContactMethod",
    "ContactMode",
    "Coverage",
    "CoverageCategory",
    "CoverageLevel",
    "CoverageSpan",
    "Definition",
    "DefinitionCategory",
    "InsuranceVerification",
    "LabCase",
    "Laboratory",
    "Patient",
    "PatientStatus",
    "PlanAttachment",
    "PlanType",
    "Procedure",
    "ProcedureCode",
    "ProcedureStatus",
    "Provider",
    "Record",
    "Referral",
    "ReferralAttachment",
    "ReferralDirection",
    "ReferralStatus",
    "SavedPlanProcedure",
    "TreatmentPlan",
    "TreatmentPlanStatus",
    "User",
    "VerificationType",
]
