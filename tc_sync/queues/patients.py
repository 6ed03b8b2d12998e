"""One row per patient for treatment follow-ups, and totals that count each dollar once.

A patient's unscheduled treatment, the predetermination returned for it, the planned
appointment holding it and the benefits that would pay for it are one conversation: they
become one row, listing its parts, whose amount is the planned procedures' dollars counted
once (remaining benefits stay a fact on the row). Other follow-ups (claims) keep a row each.
Pure functions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import TypeVar

from tc_sync.items.model import ItemKind
from tc_sync.queues.reasons import whole_dollars
from tc_sync.queues.rows import KIND_LABELS, QueueRow, sort_rows

GROUPED = frozenset({
    ItemKind.UNSCHEDULED_TREATMENT, ItemKind.PREDETERMINATION_RETURNED,
    ItemKind.BENEFITS_EXPIRING, ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED,
    ItemKind.REFERRAL_NO_OUTCOME})
"""The treatment follow-ups a patient's row brings together (a broken appointment is the
scheduling queue's, a row of its own)."""


def dollars_once(rows: Iterable[QueueRow]) -> Decimal:
    """The rows' dollars, a planned procedure counted once however many rows name it; a
    row whose amount is no sum of planned procedures (a claim) adds its amount (as adding
    up each row's `money_parts`, without making them: a build adds up every row several
    times)."""
    seen: set[tuple[str, int]] = set()
    total = Decimal(0)
    for row in rows:
        if not row.parts and row.priced is None:
            total += row.amount or 0
            continue
        for part in row.parts or (row,):
            if part.priced is None:
                total += part.amount or 0
                continue
            source = part.source_id
            for procedure, amount in part.priced:
                key = (source, procedure)
                if key not in seen:
                    seen.add(key)
                    total += amount
    return total


_ZERO = Decimal(0)
_NO_PROCEDURES: dict[tuple[str, int], Decimal] = {}


def money_parts(row: QueueRow) -> tuple[dict[tuple[str, int], Decimal], Decimal]:
    """A row's dollars in two parts: each planned procedure's (by source and procedure id),
    and the rest (amounts no sum of planned procedures, e.g. a claim's fee), so that rows
    naming the same procedure can be added up counting it once."""
    if not row.parts and row.priced is None:        # most rows: a claim, a referral
        return _NO_PROCEDURES, row.amount or _ZERO
    procedures: dict[tuple[str, int], Decimal] = {}
    other = _ZERO
    for part in row.parts or (row,):
        if part.priced is None:
            other += part.amount or 0
            continue
        for procedure, amount in part.priced:
            procedures.setdefault((part.source_id, procedure), amount)
    return procedures, other


def per_patient(rows: Iterable[QueueRow]) -> list[QueueRow]:
    """The rows with each patient's treatment follow-ups (per queue) made one row."""
    out: list[QueueRow] = []
    groups: dict[tuple[str, str, int], list[QueueRow]] = {}
    for row in rows:
        if row.kind in GROUPED:
            groups.setdefault((row.queue, row.source_id, row.patient_id), []).append(row)
        else:
            out.append(row)
    out += (patient_row(sort_rows(parts)) for parts in groups.values())
    return out


_T = TypeVar("_T")


def _first(values: Iterable[_T | None]) -> _T | None:
    return next((value for value in values if value is not None and value != ""), None)


def patient_row(parts: Sequence[QueueRow]) -> QueueRow:
    """One row standing for a patient's treatment follow-ups (most pressing first)."""
    lead = parts[0]
    if len(parts) == 1 and lead.priced is not None:
        return replace(lead, amount=dollars_once(parts))
    if len(parts) == 1:
        return lead
    ages = [part.age_days for part in parts if part.age_days is not None]
    contacts = [part.last_contact_at for part in parts if part.last_contact_at is not None]
    dates = [part.date_planned for part in parts if part.date_planned is not None]
    procedures = tuple(sorted({p for part in parts for p in part.procedure_ids}))
    codes = tuple(sorted({code for part in parts for code in part.codes}))
    treatment = "; ".join(dict.fromkeys(
        t for part in parts for t in part.treatment.split("; ") if t))

    return replace(
        lead, priority=max(part.priority for part in parts),
        next_follow_up=min(part.next_follow_up for part in parts),
        what=_what(parts),
        amount=dollars_once(parts), age_days=max(ages) if ages else None,
        procedure_ids=_shared_with_parts(parts, "procedure_ids", procedures),
        codes=_shared_with_parts(parts, "codes", codes),
        treatment=_shared_with_parts(parts, "treatment", treatment),
        remaining_benefits=_first(p.remaining_benefits for p in parts),
        benefits_renew_on=_first(p.benefits_renew_on for p in parts),
        carrier=_first(p.carrier for p in parts) or "",
        carrier_phone=_first(p.carrier_phone for p in parts) or "",
        date_sent=_first(p.date_sent for p in parts), estimate=_first(p.estimate for p in parts),
        status=_first(p.status for p in parts) or "",
        claim_id=_first(p.claim_id for p in parts),
        appointment_id=_first(p.appointment_id for p in parts),
        last_contact_at=max(contacts) if contacts else None,
        attempts=max(part.attempts for part in parts),
        escalated=any(part.escalated for part in parts),
        owner=", ".join(dict.fromkeys(part.owner for part in parts if part.owner)),
        provider=_first(p.provider for p in parts) or "",
        date_planned=min(dates) if dates else None,
        patient_portion=_portion(parts), parts=tuple(parts), priced=None,
        party=_first(p.party for p in parts) or "", signed=_first(p.signed for p in parts) or "")


def _shared_with_parts(parts: Sequence[QueueRow], name: str, value: _T) -> _T:
    """A part's own `name` where it equals `value` (the lead's usually does), else `value`:
    the kept rows hold one copy (issue 17)."""
    return next((found for part in parts if (found := getattr(part, name)) == value), value)


_SHORT = {ItemKind.UNSCHEDULED_TREATMENT: "unscheduled treatment",
          ItemKind.PREDETERMINATION_RETURNED: "predetermination back",
          ItemKind.BENEFITS_EXPIRING: "benefits expiring",
          ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: "planned appointment",
          ItemKind.REFERRAL_NO_OUTCOME: "referral"}


def _what(parts: Sequence[QueueRow]) -> str:
    """"Unscheduled treatment, predetermination back, benefits expiring": short enough to
    read at a glance (the parts' own labels are in the row's Follow-ups)."""
    return _what_of(tuple(dict.fromkeys(part.kind for part in parts)))


@cache
def _what_of(kinds: tuple[ItemKind, ...]) -> str:
    """One string for the rows naming the same kinds (a few hundred orders at most)."""
    return ", ".join(_SHORT[kind] for kind in kinds).capitalize()


def _portion(parts: Sequence[QueueRow]) -> Decimal | None:
    """The portion of the part with the most planned procedures (they overlap)."""
    known = [part for part in parts if part.patient_portion is not None]
    return max(known, key=lambda part: len(part.procedure_ids)).patient_portion if known \
        else None


def part_line(part: QueueRow) -> str:
    """One follow-up of a patient's row, as its detail lists it."""
    money = f" {whole_dollars(part.amount)}" if part.amount is not None else ""
    if part.kind == ItemKind.BENEFITS_EXPIRING:
        money = (f" ({whole_dollars(part.remaining_benefits)} left)"
                 if part.remaining_benefits is not None else "")
    return f"{KIND_LABELS[part.kind]}{money} [{part.item_key}]"
