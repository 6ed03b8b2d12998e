"""Words for the outside world: short, actionable task text and alert summaries.

Task text goes into the practice's own Open Dental, linked to the patient, so it may name
procedures, teeth, carriers and amounts; it never repeats the patient's name (the task is
attached to the patient already). Alert text (email, webhooks) carries ids, kinds, counts and
amounts only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

TASK_TEXT_LIMIT = 250


def money(cents: int | None) -> str:
    return "" if cents is None else f"${cents / 100:,.2f}".replace(".00", "")


def _short_date(text: str | None) -> str:
    if not text:
        return ""
    day = date.fromisoformat(str(text)[:10])
    return f"{day:%b} {day.day}"


def _codes(fields: Mapping[str, Any]) -> str:
    codes = fields.get("codes") or ""
    items = codes.split() if isinstance(codes, str) else list(codes)
    shown = " ".join(items[:6])
    return shown + (f" +{len(items) - 6}" if len(items) > 6 else "")


def _details(fields: Mapping[str, Any]) -> dict[str, Any]:
    details = fields.get("details") or {}
    return json.loads(details) if isinstance(details, str) else dict(details)


def _carrier(details: Mapping[str, Any]) -> str:
    carrier = details.get("carrier") or "the carrier"
    phone = details.get("carrier_phone")
    return f"{carrier} ({phone})" if phone else str(carrier)


def task_text(fields: Mapping[str, Any]) -> str:
    """One line a coordinator acts on, e.g. 'Call to schedule: D2740 D2950 #3 #14, $2,450;
    benefits renew Jan 1'. The outbox marker is appended when the task is sent."""
    kind = fields["kind"]
    details = _details(fields)
    amount = money(fields.get("amount"))
    codes = _codes(fields)
    subject = fields.get("claim_id") or fields.get("appointment_id")
    if kind in ("unscheduled_treatment", "benefits_expiring"):
        teeth = " ".join(f"#{tooth}" for tooth in details.get("teeth", [])[:6])
        what = " ".join(part for part in (codes, teeth) if part)
        expiring = kind == "benefits_expiring"
        treatment = money(details.get("treatment_amount")) if expiring else amount
        text = f"Call to schedule: {what}, {treatment}"
        remaining, renews = details.get("remaining_benefits"), details.get("benefits_renew_on")
        if expiring and remaining is not None:
            text += f"; {money(remaining)} benefits left"
        if renews:
            text += f"; benefits renew {_short_date(renews)}"
    elif kind == "predetermination_pending":
        text = (f"Call {_carrier(details)} about predetermination #{subject} "
                f"({codes}, {amount}) sent {_short_date(details.get('date_sent')) or 'never'}")
    elif kind == "predetermination_returned":
        text = f"Predetermination #{subject} answered: present and schedule {codes}, {amount}"
    elif kind == "claim_unsent":
        text = f"Send claim #{subject} ({codes}), {amount}"
    elif kind == "claim_outstanding":
        text = (f"Call {_carrier(details)} about claim #{subject} sent "
                f"{_short_date(details.get('date_sent'))}, {amount} unpaid")
    elif kind == "claim_denied":
        text = f"Claim #{subject} denied by {_carrier(details)}: appeal or bill, {amount}"
    elif kind == "claim_underpaid":
        text = f"Claim #{subject} underpaid by {amount}: review with {_carrier(details)}"
    elif kind == "planned_appointment_unscheduled":
        text = f"Schedule planned appointment #{subject} ({codes})"
    elif kind == "broken_appointment":
        text = f"Reschedule broken appointment #{subject} ({codes})"
    else:
        text = _duty_text(kind, details) or f"Follow up: {kind} {codes} {amount}".strip()
    return text[:TASK_TEXT_LIMIT]


def _duty_text(kind: str, details: Mapping[str, Any]) -> str | None:
    """Task text for a lab case, a referral or an insurance verification."""
    if kind == "lab_case_not_ready":
        lab = details.get("lab") or "the lab"
        phone = f" ({details['lab_phone']})" if details.get("lab_phone") else ""
        sent = "sent" if details.get("sent") else "NOT SENT"
        return (f"Lab case for appointment {_short_date(details.get('appointment_on'))} not "
                f"back: call {lab}{phone}; case {sent}")
    if kind == "referral_no_outcome":
        who = details.get("specialist") or "the specialist"
        return (f"Referral to {who} on {_short_date(details.get('referred_on'))}: no outcome "
                f"yet ({str(details.get('referral_status') or '').replace('_', ' ')})")
    if kind == "insurance_not_verified":
        stale = " and ".join(details.get("stale") or ["insurance"])
        return (f"Verify {stale} with {_carrier(details)} before appointment "
                f"{_short_date(details.get('appointment_on'))}")
    return None


def with_marker(text: str, marker: str) -> str:
    """The task text with the outbox marker that finds it again: '... [tc:1a2b3c4d5e6f]'."""
    return f"{text} [{marker}]"


def resolved_text(text: str, reason: str, on: date) -> str:
    """What a task says once its item resolved, where Open Dental cannot mark it done."""
    return f"RESOLVED {on:%Y-%m-%d} ({reason.replace('_', ' ')}): {text}"


SAFE_ALERT_KEYS = ("event", "source", "item_key", "kind", "attempts", "queue", "colour",
                   "previous", "target", "action_id", "action", "error_code")
"""What an alert may show in a chat webhook: ids, kinds, counts and codes."""


def alert_subject(site_id: str, payloads: Sequence[Mapping[str, Any]]) -> str:
    events = sorted({str(p.get("event")) for p in payloads})
    counts = {e: sum(1 for p in payloads if p.get("event") == e) for e in events}
    parts = [f"{count} {_EVENT_WORDS.get(event, event)}" for event, count in counts.items()]
    return f"tc-sync at {site_id}: {', '.join(parts)}"


_EVENT_WORDS = {"escalated": "item(s) escalated", "dead_letter": "action(s) failed for good",
                "health": "sync health change(s)"}


def alert_lines(payloads: Sequence[Mapping[str, Any]], *, with_amounts: bool) -> list[str]:
    """One line per alert. Webhooks pass `with_amounts=False`."""
    lines = []
    for payload in payloads:
        event = payload.get("event")
        if event == "escalated":
            line = (f"escalated: {payload.get('item_key')} ({payload.get('kind')}) after "
                    f"{payload.get('attempts')} attempts, queue {payload.get('queue')}")
            if with_amounts and payload.get("amount") is not None:
                line += f", {money(payload.get('amount'))}"
        elif event == "dead_letter":
            line = (f"failed for good: action {payload.get('action_id')} "
                    f"({payload.get('action')} to {payload.get('target')}), "
                    f"error {payload.get('error_code')}; see `tc-sync outbox dead`")
        elif event == "health":
            line = (f"sync health of source {payload.get('source')}: "
                    f"{payload.get('previous')} -> {payload.get('colour')}")
        else:
            line = f"{event}: {payload.get('item_key') or ''}"
        lines.append(line)
    return lines
