"""The claim and predetermination rules: unsent, outstanding by age, denied, underpaid, and
predeterminations pending or returned."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from tc_sync.config.mappings import Mappings
from tc_sync.items.duties import (
    signed_details,
)
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.measures import (
    age_in_days,
    cents,
    procedure_amount,
    waiting_procedures,
    window_passed,
)
from tc_sync.items.model import DesiredItem, ItemKind, item_key
from tc_sync.records import (
    Claim,
    ClaimStatus,
    ClaimType,
    DefinitionCategory,
)

# Open Dental's own lists: pending predeterminations; Claims Not Sent ("All": unsent, hold until
# primary, waiting to send, hold for in-process); sent.
PENDING_PREAUTH = {ClaimStatus.UNSENT, ClaimStatus.WAITING_TO_SEND, ClaimStatus.SENT,
                   ClaimStatus.HOLD_UNTIL_PRIMARY}
UNSENT = {ClaimStatus.UNSENT, ClaimStatus.HOLD_UNTIL_PRIMARY, ClaimStatus.WAITING_TO_SEND,
          ClaimStatus.HOLD_IN_PROCESS}
SENT = {ClaimStatus.SENT, ClaimStatus.PROBABLY_SENT}


def _carrier(facts: PatientFacts, claim: Claim) -> dict[str, object]:
    for coverage in facts.coverages:
        if coverage.plan_id == claim.plan_id:
            return {"carrier": coverage.carrier_name, "carrier_phone": coverage.carrier_phone}
    return {"carrier": None, "carrier_phone": None}


def _claim_item(kind: ItemKind, source_id: str, facts: PatientFacts, claim: Claim,
                owed_since: date | None, today: date, amount: int, **details: object
                ) -> DesiredItem:
    on_claim = {cp.procedure_id for cp in facts.claim_procedures if cp.claim_id == claim.pms_id}
    codes = tuple(sorted({str(p.code) for p in facts.procedures if p.pms_id in on_claim}))
    return DesiredItem(
        item_key(kind, source_id, claim.pms_id), kind, source_id, claim.patient_id,
        owed_since=owed_since, amount=amount, codes=codes, claim_id=claim.pms_id,
        clinic_id=claim.clinic_id, provider_id=claim.provider_id,
        age_days=age_in_days(owed_since, today),
        details={**_carrier(facts, claim),
                 "date_sent": claim.date_sent.isoformat() if claim.date_sent else None,
                 **details})


def _claims(facts: PatientFacts, predeterminations: bool) -> Iterable[Claim]:
    return (c for c in facts.claims
            if (c.claim_type == ClaimType.PREDETERMINATION) == predeterminations)


def predetermination_pending(source_id: str, facts: PatientFacts, source: SourceFacts,
                             mappings: Mappings, today: date) -> list[DesiredItem]:
    """Predeterminations not answered (unsent, waiting, on hold or sent): a sent one
    `follow_up_after_days` after its date sent, another `unsent_after_days` after its date
    of service; owed at once when that date is blank or the window is 0."""
    settings = mappings.kinds.predetermination_pending
    items = []
    for claim in _claims(facts, predeterminations=True):
        if claim.status not in PENDING_PREAUTH:
            continue
        if claim.status in SENT:
            since, days = claim.date_sent, settings.follow_up_after_days
        else:
            since, days = claim.date_service or claim.date_sent, settings.unsent_after_days
        if not window_passed(since, days, today):
            continue
        due = None if since is None else since + timedelta(days=days)
        items.append(_claim_item(ItemKind.PREDETERMINATION_PENDING, source_id, facts, claim,
                                 due, today, claim.fee, status=claim.status.value))
    return items


def predetermination_returned(source_id: str, facts: PatientFacts, source: SourceFacts,
                              mappings: Mappings, today: date) -> list[DesiredItem]:
    """Received predeterminations whose procedures are still planned and not scheduled, of
    any patient status (Open Dental's lists do not filter them); the amount is those
    procedures'."""
    waiting = {p.pms_id: p for p in waiting_procedures(facts, mappings, today)}
    items = []
    for claim in _claims(facts, predeterminations=True):
        if claim.status != ClaimStatus.RECEIVED:
            continue
        on_claim = [waiting[cp.procedure_id] for cp in facts.claim_procedures
                    if cp.claim_id == claim.pms_id and cp.procedure_id in waiting]
        if not on_claim:
            continue
        items.append(_claim_item(
            ItemKind.PREDETERMINATION_RETURNED, source_id, facts, claim, claim.date_received,
            today, sum(procedure_amount(p) for p in on_claim), estimate=claim.estimate,
            procedures=sorted(p.pms_id for p in on_claim),
            **signed_details(facts, source, (p.pms_id for p in on_claim))))
    return items


def claim_unsent(source_id: str, facts: PatientFacts, source: SourceFacts,
                 mappings: Mappings, today: date) -> list[DesiredItem]:
    """Open Dental's Claims Not Sent (unsent, hold until primary, waiting, in process),
    `after_days` after the date of service (0, or a blank date: at once)."""
    settings = mappings.kinds.claim_unsent
    items = []
    for claim in _claims(facts, predeterminations=False):
        if claim.status not in UNSENT:
            continue
        since = claim.date_service or claim.date_sent
        if not window_passed(since, settings.after_days, today):
            continue
        due = None if since is None else since + timedelta(days=settings.after_days)
        items.append(_claim_item(ItemKind.CLAIM_UNSENT, source_id, facts, claim, due,
                                 today, claim.fee, status=claim.status.value))
    return items


def aging_bucket(days: int | None, limits: list[int]) -> str:
    """'0-30', '31-60', '61-90' or '90+' for limits [30, 60, 90]; 'unknown' for no age."""
    if days is None:
        return "unknown"
    low = 0
    for limit in limits:
        if days <= limit:
            return f"{low}-{limit}"
        low = limit + 1
    return f"{limits[-1]}+" if limits else "all"


_DAYS = re.compile(r"[0-9]+")


_MOST_DAYS_SUPPRESSED = 36_500
"""A longer suppression is read as this (a century): date arithmetic has an end."""


def days_suppressed(value: str) -> int:
    """A claim custom tracking status's days suppressed, from its definition's value.

    Whole days; an empty, non-numeric or negative value suppresses nothing (0).
    """
    text = value.strip()
    if not _DAYS.fullmatch(text):
        return 0
    return min(int(text), _MOST_DAYS_SUPPRESSED)


def suppressed_until(claim: Claim, source: SourceFacts, today: date) -> date | None:
    """The day a claim's custom tracking status stops suppressing it, if it does today.

    As Open Dental's Outstanding Claims report: a status with N days suppressed, set on day S,
    hides the claim while today < S + N. No status, or no record of when it was set: None.
    """
    status = source.definitions.get(claim.custom_tracking_id or 0)
    if (status is None or status.category != DefinitionCategory.CLAIM_CUSTOM_TRACKING
            or claim.custom_tracking_since is None):
        return None
    days = days_suppressed(status.value)
    if days <= 0:
        return None
    until = claim.custom_tracking_since.date() + timedelta(days=days)
    return until if today < until else None


def claim_outstanding(source_id: str, facts: PatientFacts, source: SourceFacts,
                      mappings: Mappings, today: date) -> list[DesiredItem]:
    """Open Dental's Outstanding Claims: sent claims unpaid `after_days` after the date sent
    (a blank date sent is listed, its age unknown). While its custom tracking status
    suppresses a claim, it is left out (`hide_suppressed`) or stays owed with its next
    follow-up deferred to the suppression's end."""
    settings = mappings.kinds.claim_outstanding
    statuses = {ClaimStatus(status) for status in settings.statuses}
    items = []
    for claim in _claims(facts, predeterminations=False):
        if claim.status not in statuses or not window_passed(
                claim.date_sent, settings.after_days, today):
            continue
        until = (suppressed_until(claim, source, today)
                 if settings.respect_custom_tracking else None)
        if until is not None and settings.hide_suppressed:
            continue
        tracking = source.definitions.get(claim.custom_tracking_id or 0)
        extra = {} if until is None else {"suppressed_until": until.isoformat()}
        due = None if claim.date_sent is None else (
            claim.date_sent + timedelta(days=settings.after_days))
        item = _claim_item(
            ItemKind.CLAIM_OUTSTANDING, source_id, facts, claim, due, today, claim.fee,
            bucket=aging_bucket(age_in_days(claim.date_sent, today), settings.buckets),
            estimate=claim.estimate, custom_tracking=tracking.name if tracking else None,
            **extra)
        items.append(replace(item, not_before=until))
    return items


def _recently_received(claim: Claim, today: date, within_days: int) -> bool:
    return (claim.status == ClaimStatus.RECEIVED and claim.date_received is not None
            and (today - claim.date_received).days <= within_days)


def claim_denied(source_id: str, facts: PatientFacts, source: SourceFacts,
                 mappings: Mappings, today: date) -> list[DesiredItem]:
    settings = mappings.kinds.claim_denied
    return [_claim_item(ItemKind.CLAIM_DENIED, source_id, facts, claim,
                        claim.date_received or today, today, claim.fee,
                        estimate=claim.estimate)
            for claim in _claims(facts, predeterminations=False)
            if _recently_received(claim, today, settings.within_days)
            and claim.fee > 0 and claim.paid == 0]


def claim_underpaid(source_id: str, facts: PatientFacts, source: SourceFacts,
                    mappings: Mappings, today: date) -> list[DesiredItem]:
    settings = mappings.kinds.claim_underpaid
    items = []
    for claim in _claims(facts, predeterminations=False):
        if not _recently_received(claim, today, settings.within_days) or claim.paid <= 0:
            continue
        shortfall = claim.estimate - claim.paid
        allowed = max(cents(settings.tolerance),
                      int(claim.estimate * settings.tolerance_percent / 100))
        if shortfall > allowed:
            items.append(_claim_item(
                ItemKind.CLAIM_UNDERPAID, source_id, facts, claim,
                claim.date_received or today, today, shortfall, estimate=claim.estimate,
                paid=claim.paid))
    return items
