"""Outcomes staff record in the PMS: a patient declined, or it was done elsewhere.

Pure functions over one patient's facts. A contact-log entry of a type the mappings list under
`outcomes` ends the patient's treatment follow-ups; a claim custom tracking status listed there
ends the claim's follow-up. An ended follow-up is owed again only when the PMS shows something
newer: treatment planned or a plan presented after the outcome, or (a claim) another status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from tc_sync.config.mappings import Mappings
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.followup import INSURANCE_KINDS
from tc_sync.items.model import DesiredItem, ItemKind, Resolution
from tc_sync.records import (
    Claim,
    ClaimTrackingType,
    DefinitionCategory,
    ProcedureStatus,
    TreatmentPlanStatus,
)

PATIENT_KINDS = frozenset({
    ItemKind.UNSCHEDULED_TREATMENT, ItemKind.BENEFITS_EXPIRING,
    ItemKind.PREDETERMINATION_RETURNED, ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED,
    ItemKind.BROKEN_APPOINTMENT})
"""Follow-ups about the patient's treatment: a contact-log outcome ends them all."""

OUTCOME_RESOLUTIONS = frozenset({Resolution.DECLINED.value, Resolution.DONE_ELSEWHERE.value})

Via = Literal["contact", "claim_status"]


@dataclass(frozen=True)
class Outcome:
    """An outcome the PMS records: which, when, the type or status named, by which PMS user.
    Never the note's text."""

    resolution: Resolution
    at: datetime | None
    what: str
    by: int | None
    via: Via

    def as_detail(self) -> dict[str, Any]:
        return {"outcome": self.resolution.value, "via": self.via, "what": self.what,
                "by": self.by,
                "at": self.at.isoformat(sep=" ", timespec="seconds") if self.at else None}


def _names(mappings: Mappings, field: str) -> dict[str, Resolution]:
    return {name.strip().casefold(): Resolution(outcome)
            for outcome, recorded in mappings.outcomes.items()
            for name in getattr(recorded, field)}


def newest_treatment(item: DesiredItem, facts: PatientFacts, mappings: Mappings
                     ) -> date | None:
    """The latest day the PMS shows this follow-up's treatment news: the day it became owed
    (for expiring benefits that is the calendar's doing, not news), a planned procedure
    coordination follows, or a saved (presented) treatment plan."""
    days = [p.date_planned for p in facts.procedures
            if p.status == ProcedureStatus.PLANNED and mappings.coordinates(p.code)]
    days += [plan.date_presented for plan in facts.treatment_plans
             if plan.status == TreatmentPlanStatus.SAVED]
    if item.kind != ItemKind.BENEFITS_EXPIRING:
        days.append(item.owed_since)
    known = [day for day in days if day is not None]
    return max(known) if known else None


def _contact_outcome(item: DesiredItem, facts: PatientFacts, source: SourceFacts,
                     mappings: Mappings) -> Outcome | None:
    names = _names(mappings, "contact_types")
    found: list[tuple[datetime, Outcome]] = []
    for contact in facts.contacts:
        kind = source.definitions.get(contact.contact_type_id or 0)
        if (contact.contacted_at is None or kind is None
                or kind.category != DefinitionCategory.COMMLOG_TYPE):
            continue
        resolution = names.get(kind.name.strip().casefold())
        if resolution is not None:
            found.append((contact.contacted_at, Outcome(
                resolution, contact.contacted_at, kind.name, contact.user_id, "contact")))
    if not found:
        return None
    at, latest = max(found, key=lambda pair: pair[0])
    newest = newest_treatment(item, facts, mappings)
    return latest if newest is None or newest <= at.date() else None


def _claim(facts: PatientFacts, claim_id: int | None) -> Claim | None:
    return next((c for c in facts.claims if c.pms_id == claim_id), None)


def _claim_outcome(item: DesiredItem, facts: PatientFacts, source: SourceFacts,
                   mappings: Mappings) -> Outcome | None:
    claim = _claim(facts, item.claim_id)
    status = source.definitions.get(claim.custom_tracking_id or 0) if claim else None
    if (claim is None or status is None
            or status.category != DefinitionCategory.CLAIM_CUSTOM_TRACKING):
        return None
    resolution = _names(mappings, "claim_statuses").get(status.name.strip().casefold())
    if resolution is None:
        return None
    set_by = [(entry.entered_at, entry.user_id) for entry in facts.claim_tracking
              if entry.claim_id == claim.pms_id and entry.status_id == status.pms_id
              and entry.entry_type == ClaimTrackingType.STATUS_HISTORY
              and entry.entered_at is not None]
    return Outcome(resolution, claim.custom_tracking_since, status.name,
                   max(set_by, key=lambda pair: pair[0])[1] if set_by else None, "claim_status")


def recorded_outcome(item: DesiredItem, facts: PatientFacts, source: SourceFacts,
                     mappings: Mappings) -> Outcome | None:
    """The outcome the PMS records for this owed follow-up, if one ends it now: the claim's
    custom tracking status (insurance follow-ups), or the latest outcome contact-log entry
    dated on or after its newest treatment (treatment follow-ups)."""
    if not mappings.outcomes:
        return None
    if item.kind in INSURANCE_KINDS:
        return _claim_outcome(item, facts, source, mappings)
    if item.kind in PATIENT_KINDS:
        return _contact_outcome(item, facts, source, mappings)
    return None


def stays_ended(item: DesiredItem, recorded: dict[str, Any], facts: PatientFacts,
                mappings: Mappings) -> bool:
    """Whether a follow-up an outcome resolved (`recorded`: the outcome's detail kept with the
    item) stays resolved although the rules find it owed again: yes, unless the PMS shows
    treatment planned or a plan presented after the outcome's day or, for a claim, another
    status set since."""
    at = _when(recorded.get("at"))
    if at is None:
        return True
    if recorded.get("via") == "claim_status":
        claim = _claim(facts, item.claim_id)
        since = claim.custom_tracking_since if claim else None
        return since is None or since <= at
    newest = newest_treatment(item, facts, mappings)
    return newest is None or newest <= at.date()


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None
