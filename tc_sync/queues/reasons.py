"""Why a row is in the queue now and what to do next, in a coordinator's words.

An item may carry its own reasons (`details["reasons"]`, a few short sentences the rules
wrote); until it does, a short sentence is derived here from what the row shows: its kind,
amount, age, bucket and renewal date. Pure functions of a row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from tc_sync.items.model import ItemKind
from tc_sync.queues.rows import QueueRow

NEXT_STEPS: dict[ItemKind, str] = {
    ItemKind.UNSCHEDULED_TREATMENT: "Call to schedule the treatment",
    ItemKind.PREDETERMINATION_PENDING: "Ask the carrier about the predetermination",
    ItemKind.PREDETERMINATION_RETURNED: "Present the estimate, then schedule",
    ItemKind.CLAIM_UNSENT: "Send the claim",
    ItemKind.CLAIM_OUTSTANDING: "Call the carrier about the claim",
    ItemKind.CLAIM_DENIED: "Correct and resend, or appeal",
    ItemKind.CLAIM_UNDERPAID: "Ask the carrier about the shortfall",
    ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: "Call to book the planned appointment",
    ItemKind.BROKEN_APPOINTMENT: "Call to reschedule",
    ItemKind.BENEFITS_EXPIRING: "Call to schedule before the benefits renew",
    ItemKind.LAB_CASE_NOT_READY: "Call the lab: the case must be back before the visit",
    ItemKind.REFERRAL_NO_OUTCOME: "Ask the specialist (or the patient) for the outcome",
    ItemKind.INSURANCE_NOT_VERIFIED: "Verify benefits and eligibility with the carrier",
}
"""The next step of each kind."""


def whole_dollars(value: Decimal | None) -> str:
    """$5,190 (cents only when there are some)."""
    if value is None:
        return "$0"
    text = f"{abs(value):,.2f}".removesuffix(".00")
    return f"-${text}" if value < 0 else f"${text}"


def _ago(days: int | None) -> str:
    if days is None:
        return "on a blank date"
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def _treatment(row: QueueRow) -> str:
    return f"{whole_dollars(row.amount)} treatment planned {_ago(row.age_days)}"


def _benefits(row: QueueRow) -> str:
    left = f"{whole_dollars(row.remaining_benefits)} benefits left"
    return f"{left}, renew {row.benefits_renew_on:%b %-d}" if row.benefits_renew_on else left


def _predetermination_back(row: QueueRow) -> str:
    if row.estimate is not None:
        return f"Carrier estimates {whole_dollars(row.estimate)} of {whole_dollars(row.amount)}"
    return f"Predetermination back for {whole_dollars(row.amount)}"


def _outstanding(row: QueueRow) -> str:
    days = row.days_at_carrier if row.days_at_carrier is not None else row.age_days
    bucket = f" ({row.bucket})" if row.bucket else ""
    at = f"{days} days" if days is not None else "since a blank date"
    return f"{whole_dollars(row.amount)} at the carrier {at}{bucket}"


_DERIVED: dict[ItemKind, Callable[[QueueRow], str]] = {
    ItemKind.UNSCHEDULED_TREATMENT: _treatment,
    ItemKind.BENEFITS_EXPIRING: _benefits,
    ItemKind.PREDETERMINATION_RETURNED: _predetermination_back,
    ItemKind.PREDETERMINATION_PENDING: lambda row: (
        f"Predetermination sent {_ago(row.age_days)}, no answer"),
    ItemKind.CLAIM_UNSENT: lambda row: f"{whole_dollars(row.amount)} claim not sent, "
                                       f"owed since {_ago(row.age_days)}",
    ItemKind.CLAIM_OUTSTANDING: _outstanding,
    ItemKind.CLAIM_DENIED: lambda row: f"{whole_dollars(row.amount)} claim denied",
    ItemKind.CLAIM_UNDERPAID: lambda row: (
        f"Paid {whole_dollars(row.paid)} of {whole_dollars(row.estimate)} estimated"),
    ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: lambda row: (
        f"{whole_dollars(row.amount)} appointment planned {_ago(row.age_days)}"
        if row.age_days is not None else
        f"{whole_dollars(row.amount)} appointment planned, not booked"),
    ItemKind.BROKEN_APPOINTMENT: lambda row: (
        f"{whole_dollars(row.amount)} appointment broken {_ago(row.age_days)}"),
    ItemKind.LAB_CASE_NOT_READY: lambda row: f"Lab case not back, appointment {row.appointment_on}",
    ItemKind.REFERRAL_NO_OUTCOME: lambda row: f"Referral {row.status}",
    ItemKind.INSURANCE_NOT_VERIFIED: lambda row: (
        f"{row.status.capitalize()}, appointment {row.appointment_on}"),
}


_DOLLARS = re.compile(r"\$[\d,]+(?:\.\d+)?")
_AT_STAKE = re.compile(rf"(?P<dollars>{_DOLLARS.pattern}) at stake(?:, (?P<rest>.+))?")
"""A rule's first reason: the dollars at stake, then (after a comma) how long owed."""


def reasons(row: QueueRow) -> tuple[str, ...]:
    """The row's reasons: the items' own when they carry some, else one derived sentence
    per follow-up in the row (at most three). Follow-ups merged into one row often stake
    dollars an earlier reason named: those are said once ("$5,190 at stake, answered 1 day
    ago; planned 8 days ago", not "...; $5,190 at stake, planned 8 days ago")."""
    parts = row.parts or (row,)
    found: list[str] = []
    said: set[str] = set()
    for part in parts:
        for reason in part.reasons or (_DERIVED[part.kind](part),):
            stake = _AT_STAKE.fullmatch(reason)
            if stake is not None and stake["dollars"] in said:
                if stake["rest"]:
                    found.append(stake["rest"])
                continue
            said.update(_DOLLARS.findall(reason))
            found.append(reason)
    return tuple(dict.fromkeys(found))[:3]


def why_now(row: QueueRow) -> str:
    """The reasons as one line."""
    return "; ".join(reasons(row))


_CALL_THE_CARRIER = {ItemKind.PREDETERMINATION_PENDING, ItemKind.CLAIM_OUTSTANDING,
                     ItemKind.INSURANCE_NOT_VERIFIED,
                     ItemKind.CLAIM_UNDERPAID}


def next_step(row: QueueRow) -> str:
    """What to do next: the step of the row's most pressing follow-up (a call to the carrier
    names it and its phone)."""
    if row.kind in _CALL_THE_CARRIER and row.carrier:
        return " ".join(part for part in ("Call", row.carrier, row.carrier_phone) if part)
    if row.kind in (ItemKind.LAB_CASE_NOT_READY, ItemKind.REFERRAL_NO_OUTCOME) and row.party:
        return f"Call {row.party}"
    return NEXT_STEPS[row.kind]
