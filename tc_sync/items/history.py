"""Which of a patient's finished procedures the rules can still look at.

Most of a practice's procedure rows are finished work from years ago: completed, existing,
referred out or deleted. At 60,000 patients that is 1.6 of 2.0 million rows, and reading them
back was a fifth of a full reconcile (issue 17). No rule looks at them except through
something recent or still open, so a reconcile reads a finished procedure only when it is
dated (or completed) within the history horizon, or one of these names it:

* a claim that can still be an item: any not received (unsent, sent, on hold; Outstanding
  Claims lists them whatever their age), or received within the horizon (denied, underpaid);
* a claim procedure dated within the horizon (a benefit year's insurance used leaves out
  separately limited procedures by their id);
* an appointment dated within the horizon, or undated (a visit's duties list its
  procedures).

Planned, inactive planned and condition rows are always read. The horizon (`history_from`)
reaches back two years, or further when a claim rule looks back further, so it always covers
the benefit year, the 30 days a completed procedure resolves treatment, and every rule's
window. Reading more than this is never wrong, only slower: the conditions err that way.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.ledger.schema import replica
from tc_sync.records import (
    Appointment,
    Claim,
    ClaimProcedure,
    ClaimStatus,
    Procedure,
    ProcedureStatus,
)

HISTORY_DAYS = 730
"""The least history a reconcile reads: two years, twice the longest benefit year."""
FINISHED = (ProcedureStatus.COMPLETE, ProcedureStatus.EXISTING_CURRENT_PROVIDER,
            ProcedureStatus.EXISTING_OTHER_PROVIDER, ProcedureStatus.REFERRED_OUT,
            ProcedureStatus.DELETED)
"""Procedure statuses of work that is over: read only when recent or named (see above)."""


def history_from(mappings: Mappings, today: date) -> date:
    """The first day of the history a reconcile on `today` reads (see the module's doc)."""
    kinds = mappings.kinds
    days = max(HISTORY_DAYS, kinds.claim_denied.within_days, kinds.claim_underpaid.within_days)
    return today - timedelta(days=days)


def procedures_worth_reading(source_id: str, patient_ids: list[int],
                             since: date) -> sa.ColumnElement[bool]:
    """The condition on these patients' replica procedures that leaves out finished work
    before `since` that nothing recent or open names."""
    procedures = replica[Procedure]
    claim_procedures, claims = replica[ClaimProcedure], replica[Claim]
    appointments = replica[Appointment]
    claimed = (
        sa.select(claim_procedures.c.procedure_id)
        .select_from(claim_procedures.outerjoin(claims, sa.and_(
            claims.c.source_id == claim_procedures.c.source_id,
            claims.c.pms_id == claim_procedures.c.claim_id)))
        .where(claim_procedures.c.source_id == source_id,
               claim_procedures.c.patient_id.in_(patient_ids),
               claim_procedures.c.procedure_id.is_not(None),
               sa.or_(claim_procedures.c.procedure_date.is_(None),
                      claim_procedures.c.procedure_date >= since,
                      sa.and_(claim_procedures.c.claim_id.is_not(None), sa.or_(
                          claims.c.pms_id.is_(None),    # a claim not (yet) in the replica
                          claims.c.status != ClaimStatus.RECEIVED.value,
                          claims.c.date_received.is_(None),
                          claims.c.date_received >= since)))))
    visits = (
        sa.select(appointments.c.pms_id)
        .where(appointments.c.source_id == source_id,
               appointments.c.patient_id.in_(patient_ids),
               sa.or_(appointments.c.starts_at.is_(None),
                      appointments.c.starts_at >= datetime.combine(since, time()))))
    return sa.or_(
        procedures.c.status.not_in([status.value for status in FINISHED]),
        procedures.c.procedure_date.is_(None), procedures.c.procedure_date >= since,
        procedures.c.date_complete >= since,
        procedures.c.pms_id.in_(claimed), procedures.c.appointment_id.in_(visits))
