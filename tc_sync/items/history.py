"""Which of a patient's old rows the rules can still look at.

Most of a practice's procedure rows are finished work from years ago: completed, existing,
referred out or deleted. At 60,000 patients that is 1.35 of 2.0 million rows, and most claim
procedures belong to claims paid years ago; reading them back was a fifth of a full
reconcile (issue 17). No rule looks at them except through something recent or still open,
so a reconcile reads, of what is dated before the history horizon (`history_from`):

* a claim procedure only if its claim is not settled: not received (unsent, sent, on hold:
  Outstanding Claims lists them whatever their age), received within the horizon (denied,
  underpaid), or a predetermination (a returned one is followed while its procedures wait);
  or if it is on no claim (an estimate, an insurance history entry);
* a finished procedure only if such a claim procedure (on a claim) names it, or an
  appointment dated within the horizon, or undated, has it (a visit's duties list its
  procedures).

Planned, inactive planned and condition procedures, and anything undated, are always read.
The horizon reaches back two years, or further when a claim rule looks back further, so it
covers the benefit year (insurance used leaves out separately limited procedures by their
id), the 30 days a completed procedure resolves treatment, and every rule's window. Reading
more than this is never wrong, only slower: the conditions err that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.ledger.schema import replica
from tc_sync.records import (
    Appointment,
    Claim,
    ClaimProcedure,
    ClaimStatus,
    ClaimType,
    Procedure,
    ProcedureStatus,
)


def among(column: sa.ColumnElement[int], ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """`column IN ids`; as a range when the ids are consecutive (a full reconcile's chunks
    of patients are): two parameters, not one per id to bind and compile."""
    if ids and max(ids) - min(ids) + 1 == len(set(ids)) == len(ids):
        return column.between(min(ids), max(ids))
    return column.in_(ids)


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
    procedures, claim_procedures = replica[Procedure], replica[ClaimProcedure]
    appointments = replica[Appointment]
    claimed = (sa.select(claim_procedures.c.procedure_id)
               .where(claim_procedures.c.source_id == source_id,
                      among(claim_procedures.c.patient_id, patient_ids),
                      claim_procedures.c.procedure_id.is_not(None),
                      _claim_procedure_worth_reading(source_id, patient_ids, since)))
    visits = (
        sa.select(appointments.c.pms_id)
        .where(appointments.c.source_id == source_id,
               among(appointments.c.patient_id, patient_ids),
               sa.or_(appointments.c.starts_at.is_(None),
                      appointments.c.starts_at >= datetime.combine(since, time()))))
    return sa.or_(
        procedures.c.status.not_in([status.value for status in FINISHED]),
        procedures.c.procedure_date.is_(None), procedures.c.procedure_date >= since,
        procedures.c.date_complete >= since,
        procedures.c.pms_id.in_(claimed), procedures.c.appointment_id.in_(visits))


def claim_procedures_worth_reading(source_id: str, patient_ids: list[int],
                                   since: date) -> sa.ColumnElement[bool]:
    """The condition on these patients' replica claim procedures that leaves out those of
    settled claims (see `_settled_claims`) dated before `since`; one on no claim (an estimate,
    an insurance history entry) is kept."""
    return sa.or_(replica[ClaimProcedure].c.claim_id.is_(None),
                  _claim_procedure_worth_reading(source_id, patient_ids, since))


def _claim_procedure_worth_reading(source_id: str, patient_ids: list[int],
                                   since: date) -> sa.ColumnElement[bool]:
    """Dated since `since` (or undated), or on a claim not settled."""
    claim_procedures = replica[ClaimProcedure]
    on_claim = sa.and_(claim_procedures.c.claim_id.is_not(None),
                       claim_procedures.c.claim_id.not_in(
                           _settled_claims(source_id, patient_ids, since)))
    return sa.or_(claim_procedures.c.procedure_date.is_(None),
                  claim_procedures.c.procedure_date >= since, on_claim)


def _settled_claims(source_id: str, patient_ids: list[int], since: date) -> sa.Select[Any]:
    """These patients' claims no rule follows up any more: received before `since`, and not
    predeterminations (a returned one is followed while its procedures wait, however old)."""
    claims = replica[Claim]
    return sa.select(claims.c.pms_id).where(
        claims.c.source_id == source_id, among(claims.c.patient_id, patient_ids),
        claims.c.status == ClaimStatus.RECEIVED.value, claims.c.date_received < since,
        claims.c.claim_type != ClaimType.PREDETERMINATION.value)
