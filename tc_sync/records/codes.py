"""The codes canonical records use: statuses, types and categories, each a `StrEnum`.

An adapter's code maps turn a PMS's own codes into these values; none is a PMS's code.
"""

from __future__ import annotations

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
