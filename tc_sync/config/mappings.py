"""Coordination rules an admin tunes in YAML: categories, kinds, cadence, priority, routing.

This module is their model (`Mappings`); `mappings_file` reads the files.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_RANGE = re.compile(r"^([A-Z]\d{4})(?:-([A-Z]\d{4}))?$")
OTHER_CATEGORY = "other"
AGED_QUEUE = "aged"
"""The default queue of items owed past their kind's horizon: reported, not the day's work."""


class MappingsError(Exception):
    """Mappings that cannot be used; one line per problem, each naming file, line and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coordination(_Strict):
    """Which planned procedures are treatment coordination's business."""

    categories: list[str]
    exclude_codes: list[str] = Field(default_factory=list)
    include_codes: list[str] = Field(default_factory=list)


class Cadence(_Strict):
    """When follow-ups fall due after an item opens, and when it escalates."""

    after_days: list[int] = Field(min_length=1)
    then_every_days: int = Field(ge=1)
    escalate_after_attempts: int = Field(ge=1)

    @field_validator("after_days")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(day < 0 for day in value) or value != sorted(value):
            raise ValueError("must be increasing whole days, e.g. [2, 7, 30, 90]")
        return value


class _Kind(_Strict):
    enabled: bool = True
    queue: str
    cadence: Cadence | None = None
    horizon_days: int | None = Field(None, ge=1)
    """Owed longer than this, the item goes to the aged queue: reported, not in the day's
    work (null: never)."""


class UnscheduledTreatment(_Kind):
    semantics: Literal["patient", "procedure"] = "patient"
    min_amount: Decimal = Decimal(0)
    min_age_days: int = Field(0, ge=0)
    """0: no minimum age (a procedure planned today, or dated ahead, counts)."""


class PredeterminationPending(_Kind):
    follow_up_after_days: int = Field(21, ge=0)
    """Days after the date sent; 0: owed from the day it was sent."""
    unsent_after_days: int = Field(5, ge=0)
    """Days after its date of service for one not yet sent; 0: owed at once."""


class PredeterminationReturned(_Kind):
    pass


class ClaimUnsent(_Kind):
    after_days: int = Field(3, ge=0)
    """Days after the date of service; 0: owed at once, whatever the date of service."""


class ClaimOutstanding(_Kind):
    after_days: int = Field(30, ge=0)
    """Days after the date sent; 0: every sent claim. A blank date sent is always owed."""
    statuses: list[Literal["sent", "probably_sent"]] = Field(
        default=["sent", "probably_sent"], min_length=1)
    """Claim statuses that count as sent (Open Dental's report: sent only)."""
    buckets: list[int] = Field(default_factory=lambda: [30, 60, 90])
    respect_custom_tracking: bool = True
    """Honour the claim's PMS custom tracking status while it suppresses the claim (Open
    Dental's "days suppressed")."""
    hide_suppressed: bool = False
    """While suppressed, leave the claim out, as Open Dental's Outstanding Claims report
    does; false keeps its item open with the next follow-up at the suppression's end."""


class ClaimDenied(_Kind):
    within_days: int = Field(180, ge=1)


class ClaimUnderpaid(_Kind):
    tolerance: Decimal = Decimal(25)
    tolerance_percent: Decimal = Field(Decimal(10), ge=0, le=100)
    within_days: int = Field(180, ge=1)


class PlannedAppointmentUnscheduled(_Kind):
    after_days: int = Field(0, ge=0)
    """Days after the planned appointment's date; 0: every one, whatever its date."""


class BrokenAppointment(_Kind):
    within_days: int | None = Field(365, ge=1)
    """Broken or put on the Unscheduled List this recently; null: however long ago."""
    unless_patient_scheduled: bool = True
    """Leave the appointment out while its patient has a future scheduled appointment
    (Open Dental's Unscheduled List has no such test)."""


class BenefitsExpiring(_Kind):
    within_days: int | None = Field(60, ge=1)
    """The plan renews within this many days; null: whenever it renews."""
    min_remaining: Decimal | None = Decimal(100)
    """At least this much left to use; null: any remaining amount, even below zero."""


class LabCaseNotReady(_Kind):
    days_before: int = Field(3, ge=0)
    """Cases for appointments from today through this many calendar days ahead."""


class ReferralNoOutcome(_Kind):
    after_days: int = Field(30, ge=0)
    """Days after the referral date before the outcome is owed."""


class InsuranceNotVerified(_Kind):
    days_ahead: int = Field(7, ge=0)
    """Appointments from today through this many calendar days ahead."""
    benefits_valid_days: int = Field(90, ge=0)
    """A plan's benefits verified longer ago than this are stale."""
    enrollment_valid_days: int = Field(30, ge=0)
    """A patient's enrollment verified longer ago than this is stale."""


class Benefits(_Strict):
    """How remaining benefits are computed (Open Dental's Treatment Finder, by default)."""

    patient_overrides: bool = True
    """A patient's own benefit rows (Open Dental's per-patient overrides) compete with the
    plan's annual maximum; the Treatment Finder reads only the plan's."""
    floor_at_zero: bool = True
    """Show a remaining amount below zero as zero; the Treatment Finder shows it negative."""


class Kinds(_Strict):
    """Every item kind, with its own thresholds."""

    unscheduled_treatment: UnscheduledTreatment
    predetermination_pending: PredeterminationPending
    predetermination_returned: PredeterminationReturned
    claim_unsent: ClaimUnsent
    claim_outstanding: ClaimOutstanding
    claim_denied: ClaimDenied
    claim_underpaid: ClaimUnderpaid
    planned_appointment_unscheduled: PlannedAppointmentUnscheduled
    broken_appointment: BrokenAppointment
    benefits_expiring: BenefitsExpiring
    lab_case_not_ready: LabCaseNotReady
    referral_no_outcome: ReferralNoOutcome
    insurance_not_verified: InsuranceNotVerified


class Priority(_Strict):
    """Points that order a queue: the value at stake, weighed by how likely it still is."""

    per_100_dollars: float = 1.0
    """Points per $100 at stake, while the follow-up is fresh."""
    half_life_days: int = Field(180, ge=1)
    """The chance an item is still won halves every this many days it has been owed, so age
    lowers a score and never grows it."""
    benefits_expiring: float = 10.0
    """Points when the patient's benefits renew within 60 days with money left."""
    signed_treatment: float = 5.0
    """Points when the patient signed the treatment plan."""
    visit_soon: float = 100.0
    """Points for a follow-up owed before an appointment (a lab case, a verification) when the
    appointment is today, falling evenly to nothing past its window: it cannot wait."""


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Workload(_Strict):
    """How many follow-ups a day can hold, and which days are worked."""

    capacity_per_day: int = Field(40, ge=1)
    """Follow-ups due per working day for each owner (for each queue, of unowned items)."""
    working_days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"])
    closed_days: list[date] = Field(default_factory=list)
    """Days the practice is closed (holidays): no follow-up is planned on them."""


class Owner(_Strict):
    """A coordinator: the queues she works and, if not the usual, her capacity."""

    queues: list[str] = Field(min_length=1)
    capacity_per_day: int | None = Field(None, ge=1)


ContactModeName = Literal["email", "mail", "phone", "in_person", "text", "email_and_text",
                          "phone_and_text", "fax", "none"]


class Attempts(_Strict):
    """Which entries the PMS holds are follow-up attempts.

    Patient follow-ups count the practice's outreach in the contact log: sent (not received),
    by one of `modes`, not of a type in `skip_types` or `insurance_types`, not logged by a
    program unless `count_automated`. Insurance follow-ups (claims, pending predeterminations)
    count each custom tracking status staff set on the claim (`claim_statuses`) and, with
    `insurance_contacts`, the contact log's entries of an insurance type. Types are matched
    by the name the practice gave them (Open Dental: Setup > Definitions > Commlog Types),
    ignoring case.
    """

    modes: list[ContactModeName] = Field(default=[
        "phone", "email", "text", "mail", "in_person", "email_and_text", "phone_and_text"])
    count_automated: bool = False
    skip_types: list[str] = Field(default=["ApptRelated", "Recall"])
    insurance_types: list[str] = Field(default=["Insurance"])
    insurance_contacts: bool = False
    claim_statuses: bool = True


OutcomeName = Literal["declined", "done_elsewhere"]
"""What the practice recorded ended a follow-up; anything else is at most an attempt."""


class RecordedOutcome(_Strict):
    """The PMS entries that record one outcome, by the name the practice gave them, ignoring
    case: contact-log types (Open Dental: Setup > Definitions > Commlog Types) end a patient's
    follow-ups; claim custom tracking statuses (Claim Custom Tracking) end the claim's."""

    contact_types: list[str] = Field(default_factory=list)
    claim_statuses: list[str] = Field(default_factory=list)


class Route(_Strict):
    """Send matching items to a queue and owners. Empty criteria match everything."""

    kinds: list[str] = Field(default_factory=list)
    clinics: list[int] = Field(default_factory=list)
    providers: list[int] = Field(default_factory=list)
    queue: str
    owners: list[str] = Field(default_factory=list)
    assign: Literal["first", "round_robin"] = "first"


class TaskList(_Strict):
    """Where matching items' Open Dental tasks go. Empty criteria match everything."""

    kinds: list[str] = Field(default_factory=list)
    clinics: list[int] = Field(default_factory=list)
    task_list: int = Field(ge=1)
    """tasklist.TaskListNum."""
    creator_user: int | None = Field(None, ge=1)
    """userod.UserNum the task is from (default: `tasks.creator_user`). Open Dental's API
    requires one on every task (POST /tasks: "UserNum: Required")."""
    priority: int | None = Field(None, ge=1)
    """definition.DefNum of a task priority (default: Open Dental's default priority)."""


class Tasks(_Strict):
    """Which items become Open Dental tasks, and in which task list."""

    kinds: list[str] = Field(default_factory=list)
    """Item kinds that make a task (none by default: task lists differ in every office)."""
    creator_user: int | None = Field(None, ge=1)
    """userod.UserNum tasks are from when their list entry names none."""
    backfill: bool = False
    """Whether follow-ups already owed when tc-sync first reconciles a source make tasks too
    (false: only items that open afterwards do, so a new install does not flood the list)."""
    lists: list[TaskList] = Field(default_factory=list)
    """First match wins."""

    def task_list_for(self, kind: str, clinic_id: int | None) -> TaskList | None:
        """The task list an item of this kind and clinic goes to, or None: no task."""
        if kind not in self.kinds:
            return None
        for candidate in self.lists:
            if candidate.kinds and kind not in candidate.kinds:
                continue
            if candidate.clinics and clinic_id not in candidate.clinics:
                continue
            return candidate
        return None

    def creator_for(self, entry: TaskList) -> int | None:
        """The user a task in this list entry is from."""
        return entry.creator_user or self.creator_user

    def without_creator(self) -> list[int]:
        """Indexes of list entries that would make tasks without a creator user."""
        if not self.kinds:
            return []
        return [index for index, entry in enumerate(self.lists)
                if self.creator_for(entry) is None]


class Mappings(_Strict):
    """The whole rule set."""

    version: Literal[1]
    categories: dict[str, list[str]]
    coordination: Coordination
    cadence: Cadence
    kinds: Kinds
    attempts: Attempts = Field(default_factory=Attempts)
    outcomes: dict[OutcomeName, RecordedOutcome] = Field(default_factory=dict)
    """Contact types and claim statuses that resolve follow-ups as `declined` or
    `done_elsewhere` (docs/QUEUES.md, "Outcomes")."""
    aged_queue: str = AGED_QUEUE
    """Where items owed longer than their kind's horizon go."""
    owners: dict[str, Owner] = Field(default_factory=dict)
    """The practice's coordinators by name; a new item of a queue one works goes to the one
    with the fewest open items (a routing rule naming owners comes first)."""
    workload: Workload = Field(default_factory=Workload)
    benefits: Benefits = Field(default_factory=Benefits)
    priority: Priority = Field(default_factory=Priority)
    routing: list[Route] = Field(default_factory=list)
    tasks: Tasks = Field(default_factory=Tasks)

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, value: Tasks) -> Tasks:
        known = set(Kinds.model_fields)
        for kind in [*value.kinds, *(k for entry in value.lists for k in entry.kinds)]:
            if kind not in known:
                raise ValueError(f"unknown item kind '{kind}' (known: {', '.join(sorted(known))})")
        for kind in value.kinds:
            if not any(not entry.clinics and (not entry.kinds or kind in entry.kinds)
                       for entry in value.lists):
                raise ValueError(f"kind '{kind}' makes tasks but no entry of tasks.lists "
                                 "without clinics covers it: add one (its task_list)")
        return value

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, value: dict[str, RecordedOutcome]) -> dict[str, RecordedOutcome]:
        for field in ("contact_types", "claim_statuses"):
            seen: dict[str, str] = {}
            for outcome, names in value.items():
                for name in getattr(names, field):
                    other = seen.setdefault(name.strip().casefold(), outcome)
                    if other != outcome:
                        raise ValueError(f"'{name}' is listed under {field} of both {other} "
                                         f"and {outcome}: keep it under one")
        return value

    @field_validator("categories")
    @classmethod
    def _ranges(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, ranges in value.items():
            for item in ranges:
                match = _RANGE.match(item)
                if not match or (match.group(2) and match.group(2) < match.group(1)):
                    raise ValueError(f"{name}: '{item}' is not a code or a range like D2000-D2999")
        return value

    @cached_property
    def _ranges_sorted(self) -> list[tuple[str, str, str]]:
        result = []
        for name, ranges in self.categories.items():
            for item in ranges:
                low, _, high = item.partition("-")
                result.append((low, high or low, name))
        return result

    def category_of(self, code: str | None) -> str:
        """The category of a procedure code (e.g. 'restorative'), or 'other'."""
        if not code:
            return OTHER_CATEGORY
        for low, high, name in self._ranges_sorted:
            if low <= code <= high:
                return name
        return OTHER_CATEGORY

    def coordinates(self, code: str | None) -> bool:
        """Whether a planned procedure with this code is treatment coordination's to follow."""
        rules = self.coordination
        if code in rules.include_codes:
            return True
        if code in rules.exclude_codes:
            return False
        return self.category_of(code) in rules.categories

    @cached_property
    def digest(self) -> str:
        """A fingerprint of the rules: items evaluated under other rules are evaluated again."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def capacity_of(self, bucket: str) -> int:
        """A day's capacity for an owner ('owner:<name>') or a queue ('queue:<name>')."""
        kind, _, name = bucket.partition(":")
        owner = self.owners.get(name) if kind == "owner" else None
        if owner is not None and owner.capacity_per_day is not None:
            return owner.capacity_per_day
        return self.workload.capacity_per_day

    def known_owners(self) -> set[str]:
        """Everyone the mappings name as an owner (in `owners` or a routing rule)."""
        return set(self.owners) | {name for rule in self.routing for name in rule.owners}

    def cadence_of(self, kind: str) -> Cadence:
        settings = getattr(self.kinds, kind)
        return settings.cadence or self.cadence
