"""What an item's details say in a queue row's words: its status, who else to call, the plan
signed. Pure functions of an item's `details`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def status_of(details: Mapping[str, Any]) -> str:
    """The item's status as the Status column says it."""
    if "stale" in details:      # insurance not verified
        return " and ".join(details["stale"]) + " not verified"
    if "lab" in details:
        sent = f"sent {details['sent_on']}" if details.get("sent_on") else "not sent"
        due = f", slip due {details['due_on']}" if details.get("due_on") else ""
        return sent + due
    if "referral_status" in details:
        return f"{str(details['referral_status']).replace('_', ' ')}, " \
               f"{details.get('days_open')} days open"
    for key in ("custom_tracking", "unscheduled_status", "status", "appointment_status"):
        if details.get(key):
            return str(details[key]).replace("_", " ")
    return ""


def party_of(details: Mapping[str, Any]) -> str:
    """Who to call besides the patient: the lab or the specialist, with their phone."""
    for name, phone in (("lab", "lab_phone"), ("specialist", "specialist_phone")):
        if details.get(name):
            return f"{details[name]} {details.get(phone) or ''}".strip()
    return ""


def signed_of(details: Mapping[str, Any]) -> str:
    """Treatment the patient signed for: when, and who presented the plan."""
    if not details.get("signed"):
        return ""
    by = f", presented by {details['presenter']}" if details.get("presenter") else ""
    return f"{details.get('signed_on')}{by}"
