"""What planned procedures cost: fee, the insurance estimate, the date planned and provider.

A row of treatment (unscheduled treatment, a returned predetermination, a planned or broken
appointment, expiring benefits) is about planned procedures; knowing each one's price lets
a patient's row, and every total, count a procedure's dollars once however many follow-ups
name it, and gives the patient portion (fee less the insurance estimates Open Dental keeps
for a planned procedure). Read in two chunked queries through indexed columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tc_sync.ledger.schema import replica
from tc_sync.records import ClaimProcedure, ClaimProcedureStatus, Procedure, ProcedureStatus

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PlannedProcedure:
    """One planned procedure's money (dollars, as the replica reads them) and dates."""

    amount: Decimal
    """Fee x (units + base units), as the Treatment Finder and the item rules count it."""
    insurance_estimate: Decimal | None
    """What the patient's plans are estimated to pay (None: no estimate on file)."""
    date_planned: date | None
    provider_id: int | None


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def planned_procedures(connection: sa.Connection, source_id: str,
                       wanted: Mapping[int, int]) -> dict[int, PlannedProcedure]:
    """The planned ones among these procedures (`wanted`: procedure id to patient id)."""
    table, lines = replica[Procedure], replica[ClaimProcedure]
    found: dict[int, tuple[Decimal, date | None, int | None]] = {}
    for chunk in _chunks(wanted):
        for row in connection.execute(sa.select(
                table.c.pms_id, table.c.fee, table.c.units, table.c.base_units,
                table.c.date_planned, table.c.provider_id).where(
                table.c.source_id == source_id, table.c.pms_id.in_(chunk),
                table.c.status == ProcedureStatus.PLANNED.value,
                table.c.deleted_at.is_(None))):
            found[row.pms_id] = (row.fee * (row.units + row.base_units), row.date_planned,
                                 row.provider_id)
    estimates: dict[int, Decimal] = {}
    for chunk in _chunks({wanted[p] for p in found}):
        for procedure_id, estimate in connection.execute(sa.select(
                lines.c.procedure_id, lines.c.estimate).where(
                lines.c.source_id == source_id, lines.c.patient_id.in_(chunk),
                lines.c.status == ClaimProcedureStatus.ESTIMATE.value,
                lines.c.deleted_at.is_(None))):
            if procedure_id in found:
                estimates[procedure_id] = estimates.get(procedure_id, Decimal(0)) + estimate
    return {pid: PlannedProcedure(amount, estimates.get(pid), planned, provider)
            for pid, (amount, planned, provider) in found.items()}


def priced(procedure_ids: Sequence[int], prices: Mapping[int, PlannedProcedure],
           expected: Decimal | None) -> tuple[tuple[int, Decimal], ...] | None:
    """Each planned procedure's dollars, when they add up to the item's `expected` dollars
    (None otherwise: then the item's own amount is what counts)."""
    mine = tuple((pid, prices[pid].amount) for pid in procedure_ids if pid in prices)
    if expected is None or not mine or sum(amount for _, amount in mine) != expected:
        return None
    return mine


def patient_portion(procedure_ids: Sequence[int],
                    prices: Mapping[int, PlannedProcedure]) -> Decimal | None:
    """Fee less insurance estimate over these planned procedures, when every one of them has
    an estimate on file (an uninsured patient's has none: then nothing is said)."""
    mine = [prices[pid] for pid in procedure_ids if pid in prices]
    if not mine or any(p.insurance_estimate is None for p in mine):
        return None
    return sum((p.amount - (p.insurance_estimate or 0) for p in mine), Decimal(0))
