"""Small measures the item rules share: cents, ages in days, a patient's future bookings and
the planned procedures still waiting for one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tc_sync.config.mappings import Mappings
from tc_sync.items.facts import PatientFacts
from tc_sync.records import (
    Appointment,
    AppointmentStatus,
    Procedure,
    ProcedureStatus,
)


def cents(dollars: Decimal) -> int:
    """Dollars as whole cents (ledger amounts are cents)."""
    return int(dollars * 100)


def age_in_days(since: date | None, today: date) -> int | None:
    """Whole days from `since` to `today` (never negative); None for an unknown date."""
    return None if since is None else max(0, (today - since).days)


def window_passed(since: date | None, days: int, today: date) -> bool:
    """Whether `days` have passed since `since`; a window of 0 is off (always passed), and an
    unknown date has no age to hold it back."""
    return days == 0 or since is None or (today - since).days >= days


def future_scheduled(facts: PatientFacts, today: date) -> list[Appointment]:
    """The patient's scheduled appointments from today on."""
    return [a for a in facts.appointments if a.status == AppointmentStatus.SCHEDULED
            and a.starts_at is not None and a.starts_at.date() >= today]


def procedure_amount(procedure: Procedure) -> int:
    """A procedure's amount as Open Dental's Treatment Finder counts it: fee x (units + base
    units)."""
    return procedure.fee * (procedure.units + procedure.base_units)


def waiting_procedures(facts: PatientFacts, mappings: Mappings, today: date
                       ) -> list[Procedure]:
    """Planned procedures coordination follows that are not yet on a future appointment."""
    future = {a.pms_id for a in future_scheduled(facts, today)}
    return [p for p in facts.procedures
            if p.status == ProcedureStatus.PLANNED and mappings.coordinates(p.code)
            and p.appointment_id not in future]
