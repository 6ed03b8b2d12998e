"""What an item is: its kind, natural key, and the facts a coordinator acts on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class ItemKind(StrEnum):
    UNSCHEDULED_TREATMENT = "unscheduled_treatment"
    PREDETERMINATION_PENDING = "predetermination_pending"
    PREDETERMINATION_RETURNED = "predetermination_returned"
    CLAIM_UNSENT = "claim_unsent"
    CLAIM_OUTSTANDING = "claim_outstanding"
    CLAIM_DENIED = "claim_denied"
    CLAIM_UNDERPAID = "claim_underpaid"
    PLANNED_APPOINTMENT_UNSCHEDULED = "planned_appointment_unscheduled"
    BROKEN_APPOINTMENT = "broken_appointment"
    BENEFITS_EXPIRING = "benefits_expiring"
    LAB_CASE_NOT_READY = "lab_case_not_ready"
    REFERRAL_NO_OUTCOME = "referral_no_outcome"
    INSURANCE_NOT_VERIFIED = "insurance_not_verified"


BEFORE_VISIT = frozenset({ItemKind.LAB_CASE_NOT_READY, ItemKind.INSURANCE_NOT_VERIFIED})
"""Kinds owed before an appointment (`details.appointment_on`): of no use after it."""


class Resolution(StrEnum):
    """Why an item closed: always something the PMS shows."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    RECEIVED = "received"
    SENT = "sent"
    PAID = "paid"
    DELETED_IN_PMS = "deleted_in_pms"
    VERIFIED = "verified"
    DECLINED = "declined"
    """The patient declined: a referral's status, or an outcome the practice recorded
    (mappings: outcomes)."""
    NO_LONGER_ELIGIBLE = "no_longer_eligible"
    DONE_ELSEWHERE = "done_elsewhere"
    """The practice recorded that it was done or settled elsewhere (mappings: outcomes)."""


def item_key(kind: ItemKind, source_id: str, subject_id: int) -> str:
    """The natural key: kind, source and the PMS id the follow-up is about."""
    return f"{kind.value}:{source_id}:{subject_id}"


@dataclass(frozen=True)
class DesiredItem:
    """A follow-up the PMS data says is owed now."""

    key: str
    kind: ItemKind
    source_id: str
    patient_id: int
    owed_since: date | None
    """When the follow-up became owed (the cadence and attempts count from here); None when
    the PMS date it comes from is blank (then they count from the day the item opened)."""
    amount: int | None = None
    """Cents."""
    codes: tuple[str, ...] = ()
    claim_id: int | None = None
    appointment_id: int | None = None
    clinic_id: int | None = None
    provider_id: int | None = None
    age_days: int | None = 0
    """Days since it became owed; None when that date is unknown."""
    details: dict[str, Any] = field(default_factory=dict)
    """Kind-specific facts shown to the coordinator: bucket, carrier, remaining benefits..."""
    not_before: date | None = None
    """The next follow-up is not due before this day (e.g. while the PMS suppresses a claim);
    the item stays open meanwhile."""
    escalate: bool = False
    """The rule escalates it now, whatever the attempts (a lab case the day before the seat)."""
