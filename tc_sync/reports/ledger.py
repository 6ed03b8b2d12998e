"""What the reports read from the ledger, as plain facts for `tc_sync.reports.metrics`.

A few queries per report, over the configured sources' live replica rows (rows the PMS deleted
are left out) and the items' history. Nothing here decides what counts; the metrics do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.records import (
    Appointment,
    Claim,
    ClaimType,
    Coverage,
    Patient,
    PatientStatus,
    PlanAttachment,
    Procedure,
    ProcedureStatus,
    Provider,
    SavedPlanProcedure,
    TreatmentPlan,
    User,
)

PRESENTED_STATUSES = (ProcedureStatus.PLANNED.value, ProcedureStatus.PLANNED_INACTIVE.value,
                      ProcedureStatus.COMPLETE.value)
"""Procedure statuses that were treatment-planned: still planned, set inactive, or done."""
FLOW_EVENTS = ("opened", "reopened", "resolved")
NO_PRESENTER = "(no presenter)"


@dataclass(frozen=True, slots=True)
class ProcedureFact:
    """A procedure with its appointment's status and date, its patient's status, its provider."""

    source_id: str
    procedure_id: int
    patient_id: int
    code: str
    category: str
    coordinated: bool
    """Treatment coordination follows its code (the mappings' categories and exclusions)."""
    provider: str
    status: str
    amount: Decimal
    """Dollars: fee x (units + base units), as Open Dental's Treatment Finder adds it up."""
    date_planned: date | None
    done_on: date | None
    """For a completed procedure: its procedure date (else the day it was set complete)."""
    appointment_status: str | None
    appointment_date: date | None
    patient_active: bool
    presenter: str = NO_PRESENTER
    """Who presented the treatment plan it is on (the latest plan that has it)."""


@dataclass(frozen=True, slots=True)
class ClaimFact:
    """A claim or predetermination, with the name of its carrier."""

    claim_type: str
    status: str
    carrier: str
    date_sent: date | None
    date_sent_original: date | None
    date_received: date | None
    fee: Decimal
    estimate: Decimal


@dataclass(frozen=True, slots=True)
class ItemEventFact:
    """An item opening, reopening or resolving, with the item's queue and owner."""

    queue: str
    owner: str
    event: str


@dataclass(frozen=True, slots=True)
class OpenItemFact:
    """An item open now, with its queue, owner and next follow-up."""

    queue: str
    owner: str
    next_follow_up: date


Categorize = Callable[[str | None], str]


def _providers(connection: sa.Connection, source_ids: Sequence[str]) -> dict[tuple[str, int], str]:
    table = replica[Provider]
    rows = connection.execute(sa.select(
        table.c.source_id, table.c.pms_id, table.c.abbreviation).where(
        table.c.source_id.in_(source_ids)))
    return {(source, pms_id): (abbreviation or "").strip() or f"provider {pms_id}"
            for source, pms_id, abbreviation in rows}


def _procedure_query(source_ids: Sequence[str]) -> sa.Select[Any]:
    procedures, appointments = replica[Procedure], replica[Appointment]
    patients = replica[Patient]
    return (sa.select(
        procedures.c.source_id, procedures.c.pms_id, procedures.c.patient_id, procedures.c.code,
        procedures.c.status, procedures.c.fee, procedures.c.units, procedures.c.base_units,
        procedures.c.date_planned, procedures.c.procedure_date, procedures.c.date_complete,
        procedures.c.provider_id, appointments.c.status.label("appointment_status"),
        appointments.c.starts_at, patients.c.status.label("patient_status"))
        .select_from(procedures)
        .outerjoin(appointments, sa.and_(
            appointments.c.source_id == procedures.c.source_id,
            appointments.c.pms_id == procedures.c.appointment_id,
            appointments.c.deleted_at.is_(None)))
        .outerjoin(patients, sa.and_(
            patients.c.source_id == procedures.c.source_id,
            patients.c.pms_id == procedures.c.patient_id,
            patients.c.deleted_at.is_(None)))
        .where(procedures.c.source_id.in_(source_ids), procedures.c.deleted_at.is_(None)))


def _procedure_facts(connection: sa.Connection, query: sa.Select[Any],
                     providers: dict[tuple[str, int], str], category_of: Categorize,
                     coordinates: Callable[[str | None], bool],
                     presenters: dict[tuple[str, int], str] | None = None,
                     ) -> list[ProcedureFact]:
    found = []
    presenters = presenters or {}
    for row in connection.execute(query.order_by(replica[Procedure].c.pms_id)):
        complete = row.status == ProcedureStatus.COMPLETE.value
        provider = ("(no provider)" if not row.provider_id else
                    providers.get((row.source_id, row.provider_id), f"provider {row.provider_id}"))
        found.append(ProcedureFact(
            source_id=row.source_id, procedure_id=row.pms_id, patient_id=row.patient_id,
            code=row.code or "", category=category_of(row.code),
            coordinated=coordinates(row.code), provider=provider, status=row.status,
            amount=Decimal(row.fee) * (row.units + row.base_units),
            date_planned=row.date_planned,
            done_on=(row.procedure_date or row.date_complete) if complete else None,
            appointment_status=row.appointment_status,
            appointment_date=row.starts_at.date() if row.starts_at else None,
            patient_active=row.patient_status == PatientStatus.ACTIVE.value,
            presenter=presenters.get((row.source_id, row.pms_id), NO_PRESENTER)))
    return found


def planned_between(connection: sa.Connection, source_ids: Sequence[str], first: date,
                    last: date, category_of: Categorize,
                    coordinates: Callable[[str | None], bool]) -> list[ProcedureFact]:
    """Procedures treatment-planned from `first` to `last` (both included), in any status
    that was treatment-planned (planned, planned inactive, complete), each with the user who
    presented the plan it is on."""
    procedures = replica[Procedure]
    query = _procedure_query(source_ids).where(
        procedures.c.date_planned >= first, procedures.c.date_planned <= last,
        procedures.c.status.in_(PRESENTED_STATUSES))
    # Each fact made with its presenter: a second list of them (a year's) was ~40 MB more
    return _procedure_facts(connection, query, _providers(connection, source_ids),
                            category_of, coordinates, _presenters(connection, source_ids))


def _presenters(connection: sa.Connection, source_ids: Sequence[str]
                ) -> dict[tuple[str, int], str]:
    """Each procedure's presenter: the user named on the latest treatment plan holding it (a
    saved plan's copy, or an active or inactive plan's attachment)."""
    plans, users = replica[TreatmentPlan], replica[User]
    names = {(row.source_id, row.pms_id): row.name for row in connection.execute(
        sa.select(users.c.source_id, users.c.pms_id, users.c.name).where(
            users.c.source_id.in_(source_ids), users.c.deleted_at.is_(None)))}
    found: dict[tuple[str, int], tuple[int, str]] = {}
    for link in (replica[SavedPlanProcedure], replica[PlanAttachment]):
        rows = connection.execute(sa.select(
            link.c.source_id, link.c.procedure_id, plans.c.pms_id, plans.c.presenter_id)
            .join(plans, sa.and_(plans.c.source_id == link.c.source_id,
                                 plans.c.pms_id == link.c.plan_id,
                                 plans.c.deleted_at.is_(None)))
            .where(link.c.source_id.in_(source_ids), link.c.deleted_at.is_(None),
                   link.c.procedure_id.is_not(None), plans.c.presenter_id.is_not(None)))
        for source, procedure, plan, presenter in rows:
            key = (source, procedure)
            name = names.get((source, presenter), f"user {presenter}")
            if key not in found or found[key][0] < plan:
                found[key] = (plan, name)
    return {key: name for key, (_, name) in found.items()}


def still_planned(connection: sa.Connection, source_ids: Sequence[str],
                  category_of: Categorize,
                  coordinates: Callable[[str | None], bool]) -> list[ProcedureFact]:
    """Every procedure whose status is planned now (scheduled or not)."""
    procedures = replica[Procedure]
    query = _procedure_query(source_ids).where(
        procedures.c.status == ProcedureStatus.PLANNED.value)
    return _procedure_facts(connection, query, _providers(connection, source_ids),
                            category_of, coordinates)


def _carriers(connection: sa.Connection, source_ids: Sequence[str]) -> dict[tuple[str, int], str]:
    table = replica[Coverage]
    rows = connection.execute(sa.select(
        table.c.source_id, table.c.carrier_id, table.c.carrier_name).where(
        table.c.source_id.in_(source_ids), table.c.carrier_id.is_not(None))
        .order_by(table.c.pms_id))
    names: dict[tuple[str, int], str] = {}
    for source, carrier_id, name in rows:
        if (name or "").strip():
            names.setdefault((source, carrier_id), name.strip())
    return names


def claims(connection: sa.Connection, source_ids: Sequence[str], *,
           predeterminations: bool) -> list[ClaimFact]:
    """Every live claim (or every predetermination) that has been sent."""
    table = replica[Claim]
    kind = table.c.claim_type == ClaimType.PREDETERMINATION.value
    rows = connection.execute(sa.select(
        table.c.source_id, table.c.claim_type, table.c.status, table.c.carrier_id,
        table.c.date_sent, table.c.date_sent_original, table.c.date_received, table.c.fee,
        table.c.estimate).where(
        table.c.source_id.in_(source_ids), table.c.deleted_at.is_(None),
        table.c.date_sent.is_not(None), kind if predeterminations else ~kind)
        .order_by(table.c.source_id, table.c.pms_id))
    carriers = _carriers(connection, source_ids)
    return [ClaimFact(
        claim_type=row.claim_type, status=row.status,
        carrier=("(no carrier)" if row.carrier_id is None else carriers.get(
            (row.source_id, row.carrier_id), f"carrier {row.carrier_id}")),
        date_sent=row.date_sent, date_sent_original=row.date_sent_original,
        date_received=row.date_received, fee=row.fee, estimate=row.estimate)
        for row in rows]


def item_events_between(connection: sa.Connection, source_ids: Sequence[str],
                        start_utc: datetime, end_utc: datetime) -> list[ItemEventFact]:
    """Items opened, reopened or resolved from `start_utc` (included) to `end_utc` (excluded),
    with each item's queue and owner now."""
    rows = connection.execute(sa.select(items.c.queue, items.c.owner, item_events.c.event)
                              .select_from(item_events.join(
                                  items, items.c.item_key == item_events.c.item_key))
                              .where(items.c.source_id.in_(source_ids),
                                     item_events.c.event.in_(FLOW_EVENTS),
                                     item_events.c.at >= start_utc,
                                     item_events.c.at < end_utc))
    return [ItemEventFact(queue, owner or "", event) for queue, owner, event in rows]


def open_items(connection: sa.Connection, source_ids: Sequence[str]) -> list[OpenItemFact]:
    """Every item open now."""
    rows = connection.execute(sa.select(items.c.queue, items.c.owner, items.c.next_follow_up)
                              .where(items.c.source_id.in_(source_ids),
                                     items.c.status == "open"))
    return [OpenItemFact(queue, owner or "", due) for queue, owner, due in rows]
