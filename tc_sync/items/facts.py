"""Load what the rules need about a set of patients from the ledger's replica tables."""

from __future__ import annotations

import dataclasses
import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa

from tc_sync.items.history import (
    among,
    claim_procedures_worth_reading,
    procedures_worth_reading,
)
from tc_sync.ledger.schema import Money, replica
from tc_sync.records import (
    Appointment,
    Benefit,
    BenefitCategory,
    Claim,
    ClaimProcedure,
    ClaimTrackingEntry,
    Contact,
    Coverage,
    CoverageCategory,
    CoverageSpan,
    Definition,
    InsuranceVerification,
    LabCase,
    Laboratory,
    Patient,
    PlanAttachment,
    Procedure,
    ProcedureCode,
    Referral,
    ReferralAttachment,
    SavedPlanProcedure,
    TreatmentPlan,
    User,
    VerificationType,
)

R = TypeVar("R")
_CHUNK = 500
_HISTORY = {Procedure: procedures_worth_reading, ClaimProcedure: claim_procedures_worth_reading}
"""The records whose old rows a reconcile leaves out (`tc_sync.items.history`)."""


@dataclass
class PatientFacts:
    """One patient's live (not deleted) records."""

    patient: Patient | None = None
    procedures: list[Procedure] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    claim_procedures: list[ClaimProcedure] = field(default_factory=list)
    coverages: list[Coverage] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    claim_tracking: list[ClaimTrackingEntry] = field(default_factory=list)
    treatment_plans: list[TreatmentPlan] = field(default_factory=list)
    saved_plan_procedures: list[SavedPlanProcedure] = field(default_factory=list)
    plan_attachments: list[PlanAttachment] = field(default_factory=list)
    lab_cases: list[LabCase] = field(default_factory=list)
    referrals: list[ReferralAttachment] = field(default_factory=list)
    verifications: list[InsuranceVerification] = field(default_factory=list)
    """Verifications of the patient's plans' benefits and of the patient's enrollments."""
    derived: dict[tuple[object, ...], Any] = field(default_factory=dict, repr=False,
                                                   compare=False)
    """What rules worked out from these records that another rule reuses (the benefit
    position, the planned treatment), by what it was worked out with: see `rules.derived`."""


@dataclass(frozen=True)
class SourceFacts:
    """A source's shared lists: definitions, the procedure code list, general categories."""

    definitions: dict[int, Definition]
    codes: dict[int, ProcedureCode]
    other_categories: frozenset[int] = frozenset()
    """Coverage categories whose benefit category is not General: a benefit in one of them
    is not an annual maximum (any other category id, or none, counts as general)."""
    category_spans: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Every known coverage category's procedure code ranges (possibly none)."""
    laboratories: dict[int, Laboratory] = field(default_factory=dict)
    referrals: dict[int, Referral] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)


class _Reader:
    """Turns replica rows back into records (money as cents, codes as enums)."""

    def __init__(self, record: type) -> None:
        self.record = record
        self.table = replica[record]
        hints = typing.get_type_hints(record)
        self.columns: list[sa.ColumnElement[Any]] = []
        self.enums: dict[int, dict[Any, StrEnum]] = {}
        """Per enum field: each stored value's member (a dict lookup: Enum's call is slow)."""
        for i, item in enumerate(dataclasses.fields(record)):
            column = self.table.c[item.name]
            if isinstance(column.type, Money):
                self.columns.append(sa.type_coerce(column, sa.BigInteger).label(item.name))
            else:
                self.columns.append(column)
            for candidate in (hints[item.name], *typing.get_args(hints[item.name])):
                if isinstance(candidate, type) and issubclass(candidate, StrEnum):
                    self.enums[i] = {member.value: member for member in candidate}

    def build(self, row: Sequence[Any]) -> Any:
        values = list(row)
        for i, members in self.enums.items():
            if values[i] is not None:
                values[i] = members[values[i]]
        return self.record(*values)

    def select(self, source_id: str) -> sa.Select[Any]:
        return sa.select(*self.columns).where(
            self.table.c.source_id == source_id, self.table.c.deleted_at.is_(None))


_READERS: dict[type, _Reader] = {record: _Reader(record) for record in (
    Patient, Procedure, Appointment, Claim, ClaimProcedure, Coverage, Benefit, Contact,
    ClaimTrackingEntry, TreatmentPlan, Definition, ProcedureCode, CoverageCategory,
    CoverageSpan, SavedPlanProcedure, PlanAttachment, LabCase, Laboratory, ReferralAttachment,
    Referral, InsuranceVerification, User)}


def read_records(connection: sa.Connection, record: type[R], source_id: str,
                 where: sa.ColumnElement[bool] | None = None) -> list[R]:
    """Live records of one type for a source, optionally filtered."""
    reader = _READERS[record]
    query = reader.select(source_id)
    if where is not None:
        query = query.where(where)
    return [reader.build(row) for row in connection.execute(query)]


def load_source_facts(connection: sa.Connection, source_id: str) -> SourceFacts:
    categories = read_records(connection, CoverageCategory, source_id)
    other = frozenset(category.pms_id for category in categories
                      if category.benefit_category != BenefitCategory.GENERAL)
    spans: dict[int, list[tuple[str, str]]] = {c.pms_id: [] for c in categories}
    for span in read_records(connection, CoverageSpan, source_id):
        spans.setdefault(span.category_id, []).append((span.from_code, span.to_code))
    return SourceFacts(
        {d.pms_id: d for d in read_records(connection, Definition, source_id)},
        {c.pms_id: c for c in read_records(connection, ProcedureCode, source_id)}, other,
        {category: tuple(ranges) for category, ranges in spans.items()},
        {lab.pms_id: lab for lab in read_records(connection, Laboratory, source_id)},
        {ref.pms_id: ref for ref in read_records(connection, Referral, source_id)},
        {user.pms_id: user for user in read_records(connection, User, source_id)})


def load_patient_facts(connection: sa.Connection, source_id: str,
                       patient_ids: Iterable[int], history_from: date | None = None,
                       plan_benefits: PlanBenefits | None = None) -> dict[int, PatientFacts]:
    """Every live record of these patients, in a few queries per chunk of patients.

    With `history_from`, finished procedures and settled claims' procedures before it are
    left out unless something recent or open names them (`tc_sync.items.history`): the rules
    see the same. Pass the same `plan_benefits` to calls of one run to read each plan's
    benefits once.
    """
    plan_benefits = plan_benefits if plan_benefits is not None else PlanBenefits(source_id)
    facts: dict[int, PatientFacts] = defaultdict(PatientFacts)
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for patient in read_records(connection, Patient, source_id,
                                    among(replica[Patient].c.pms_id, chunk)):
            facts[patient.pms_id].patient = patient
        per_patient: tuple[tuple[type, str], ...] = (
            (Procedure, "procedures"), (Appointment, "appointments"), (Claim, "claims"),
            (ClaimProcedure, "claim_procedures"), (Coverage, "coverages"),
            (Contact, "contacts"), (ClaimTrackingEntry, "claim_tracking"),
            (TreatmentPlan, "treatment_plans"), (SavedPlanProcedure, "saved_plan_procedures"),
            (PlanAttachment, "plan_attachments"), (LabCase, "lab_cases"),
            (ReferralAttachment, "referrals"))
        for record, attribute in per_patient:
            where = among(replica[record].c.patient_id, chunk)
            if history_from is not None and record in _HISTORY:
                where = sa.and_(where, _HISTORY[record](source_id, chunk, history_from))
            rows: list[Any] = read_records(connection, record, source_id, where)
            for row in rows:
                getattr(facts[row.patient_id], attribute).append(row)
        _attach_benefits(connection, source_id, [facts[i] for i in chunk], plan_benefits)
        _attach_verifications(connection, source_id, [facts[i] for i in chunk])
    return {i: facts[i] for i in ids}


class PlanBenefits:
    """A source's plan benefits, each plan's read once: the patients of a run share a few
    hundred plans (a full reconcile at 60,000 patients read 394,015 benefit rows chunk by
    chunk, of 5,264)."""

    def __init__(self, source_id: str) -> None:
        self.source_id = source_id
        self._by_plan: dict[int | None, list[Benefit]] = {}

    def of(self, connection: sa.Connection, plan_ids: Iterable[int]
           ) -> dict[int | None, list[Benefit]]:
        """Each of these plans' benefits (not a coverage's own), read where not yet read."""
        wanted = set(plan_ids)
        missing = sorted(wanted - self._by_plan.keys())
        table = replica[Benefit]
        for start in range(0, len(missing), _CHUNK):
            plans = missing[start:start + _CHUNK]
            self._by_plan.update((plan, []) for plan in plans)
            for benefit in read_records(connection, Benefit, self.source_id, sa.and_(
                    table.c.plan_id.in_(plans), table.c.coverage_id.is_(None))):
                self._by_plan[benefit.plan_id].append(benefit)
        return {plan: self._by_plan[plan] for plan in wanted}


def _attach_benefits(connection: sa.Connection, source_id: str,
                     patients: list[PatientFacts], plan_benefits: PlanBenefits) -> None:
    """Each patient's benefits: of the plans they are covered by, and of their own coverages
    (a coverage's benefit overrides its plan's)."""
    coverages = {c.pms_id for p in patients for c in p.coverages}
    if not coverages:
        return
    by_plan = plan_benefits.of(connection, {
        c.plan_id for p in patients for c in p.coverages if c.plan_id is not None})
    by_coverage: dict[int | None, list[Benefit]] = defaultdict(list)
    for benefit in read_records(connection, Benefit, source_id,
                                replica[Benefit].c.coverage_id.in_(sorted(coverages))):
        by_coverage[benefit.coverage_id].append(benefit)
    for patient in patients:
        for coverage in patient.coverages:
            if coverage.plan_id is not None:
                patient.benefits += by_plan[coverage.plan_id]
            patient.benefits += by_coverage.get(coverage.pms_id, [])


def _attach_verifications(connection: sa.Connection, source_id: str,
                          patients: list[PatientFacts]) -> None:
    """Each patient's verifications: of the benefits of the plans they are covered by, and of
    their own enrollments (coverages)."""
    plans = {c.plan_id for p in patients for c in p.coverages if c.plan_id is not None}
    coverages = {c.pms_id for p in patients for c in p.coverages}
    if not coverages:
        return
    table = replica[InsuranceVerification]
    found = read_records(connection, InsuranceVerification, source_id,
                         table.c.target_id.in_(sorted(plans | coverages)))
    benefits: dict[int | None, list[InsuranceVerification]] = defaultdict(list)
    enrollments: dict[int | None, list[InsuranceVerification]] = defaultdict(list)
    for verification in found:
        if verification.verify_type == VerificationType.BENEFITS:
            benefits[verification.target_id].append(verification)
        elif verification.verify_type == VerificationType.ENROLLMENT:
            enrollments[verification.target_id].append(verification)
    for patient in patients:
        for coverage in patient.coverages:
            patient.verifications += benefits.get(coverage.plan_id, [])
            patient.verifications += enrollments.get(coverage.pms_id, [])
