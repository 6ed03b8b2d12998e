"""Set a report's rows beside the open items of its kind: what agrees and what differs (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from tc_sync.items.model import ItemKind, item_key
from tc_sync.verify.query import ReportRow


class What(StrEnum):
    """How an item and a report row differ."""

    MISSING = "missing"
    """The report lists it; tc-sync has no open item."""
    EXTRA = "extra"
    """tc-sync has an open item; the report does not list it."""
    AMOUNT = "amount"
    """Both have it, with different amounts."""
    SET_ASIDE = "set_aside"
    """Both have it, but the item is snoozed past today."""


class Reason(StrEnum):
    KNOB = "filtered by mapping knob"
    SNOOZED = "snoozed"
    UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class OpenItem:
    """What verify needs of an open item."""

    key: str
    subject_id: int
    patient_id: int
    amount: int | None
    snoozed_until: date | None = None


@dataclass(frozen=True)
class Difference:
    """One subject on which a report and the open items disagree, and why (once explained)."""

    what: What
    key: str
    subject_id: int
    patient_id: int
    open_dental_amount: int | None
    tc_sync_amount: int | None
    snoozed_until: date | None = None
    reason: Reason | None = None
    knobs: tuple[str, ...] = ()


@dataclass
class Comparison:
    """A report beside its kind's open items."""

    agree: int
    total: int
    differences: list[Difference] = field(default_factory=list)


def compare(kind: ItemKind, source_id: str, rows: Mapping[int, ReportRow],
            items: Mapping[int, OpenItem], today: date) -> Comparison:
    """Subjects in the report or open in tc-sync: those that agree (same amount, in cents;
    an item without an amount counts as 0) and every difference. An item snoozed past today
    is set aside from the coordinator's work, so the report's row for it is a difference,
    explained by the snooze."""
    differences = []
    subjects = sorted(rows.keys() | items.keys())
    for subject in subjects:
        row, item = rows.get(subject), items.get(subject)
        key = item.key if item is not None else item_key(kind, source_id, subject)
        if item is None:
            assert row is not None
            differences.append(Difference(What.MISSING, key, subject, row.patient_id,
                                          row.amount, None))
            continue
        if row is None:
            differences.append(Difference(What.EXTRA, key, subject, item.patient_id, None,
                                          item.amount, item.snoozed_until))
            continue
        if (item.amount or 0) != row.amount:
            differences.append(Difference(What.AMOUNT, key, subject, item.patient_id,
                                          row.amount, item.amount, item.snoozed_until))
        elif item.snoozed_until is not None and item.snoozed_until > today:
            differences.append(Difference(What.SET_ASIDE, key, subject, item.patient_id,
                                          row.amount, item.amount, item.snoozed_until,
                                          Reason.SNOOZED))
    return Comparison(len(subjects) - len(differences), len(subjects), differences)
