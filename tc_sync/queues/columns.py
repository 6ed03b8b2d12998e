"""The columns of a work queue: header, format, widest width, and the kinds they apply to.

Every format (workbook, CSV, page) shows the same columns in the same order: the ones that
apply to some item in the queue, what to do first on the left, the PMS ids on the right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tc_sync.items.model import ItemKind
from tc_sync.queues.rows import QueueRow


class Format(StrEnum):
    """How a column's values are written and compared."""

    TEXT = "text"
    INTEGER = "integer"
    PRIORITY = "priority"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    """One column: the row attribute it shows, its header, format and widest width."""

    key: str
    header: str
    format: Format
    max_width: int
    kinds: frozenset[ItemKind] | None = None
    """The kinds it applies to (None: every kind)."""

    def value(self, row: QueueRow) -> Any:
        """The row's value in this column: text, a number, a date or None."""
        raw = getattr(row, self.key)
        if isinstance(raw, bool):
            return "Yes" if raw else ""
        if isinstance(raw, tuple):
            return (" " if self.key == "codes" else ", ").join(str(part) for part in raw)
        return raw


_K = ItemKind
_CLAIMS = frozenset({_K.PREDETERMINATION_PENDING, _K.PREDETERMINATION_RETURNED,
                     _K.CLAIM_UNSENT, _K.CLAIM_OUTSTANDING, _K.CLAIM_DENIED,
                     _K.CLAIM_UNDERPAID})
_APPOINTMENTS = frozenset({_K.PLANNED_APPOINTMENT_UNSCHEDULED, _K.BROKEN_APPOINTMENT})
_BENEFITS = frozenset({_K.UNSCHEDULED_TREATMENT, _K.BENEFITS_EXPIRING,
                       _K.PLANNED_APPOINTMENT_UNSCHEDULED, _K.PREDETERMINATION_RETURNED})
_WITH_AMOUNT = frozenset(ItemKind) - {_K.BROKEN_APPOINTMENT}

COLUMNS: tuple[Column, ...] = (
    Column("priority", "Priority", Format.PRIORITY, 9),
    Column("next_follow_up", "Next follow-up", Format.DATE, 14),
    Column("what", "What", Format.TEXT, 30),
    Column("patient", "Patient", Format.TEXT, 28),
    Column("preferred_name", "Preferred name", Format.TEXT, 16),
    Column("contact_by", "Contact by", Format.TEXT, 28),
    Column("contact", "Phone / email", Format.TEXT, 32),
    Column("amount", "Amount", Format.MONEY, 14, _WITH_AMOUNT),
    Column("age_days", "Age (days)", Format.INTEGER, 10),
    Column("codes", "Codes", Format.TEXT, 24),
    Column("treatment", "Treatment", Format.TEXT, 50),
    Column("remaining_benefits", "Remaining benefits", Format.MONEY, 14, _BENEFITS),
    Column("benefits_renew_on", "Benefits renew", Format.DATE, 14, _BENEFITS),
    Column("carrier", "Carrier", Format.TEXT, 28, _CLAIMS | _BENEFITS),
    Column("carrier_phone", "Carrier phone", Format.TEXT, 16, _CLAIMS | _BENEFITS),
    Column("date_sent", "Date sent", Format.DATE, 12, _CLAIMS),
    Column("bucket", "Bucket", Format.TEXT, 9, frozenset({_K.CLAIM_OUTSTANDING})),
    Column("estimate", "Insurance estimate", Format.MONEY, 14,
           frozenset({_K.CLAIM_OUTSTANDING, _K.CLAIM_DENIED, _K.CLAIM_UNDERPAID,
                      _K.PREDETERMINATION_RETURNED})),
    Column("paid", "Paid", Format.MONEY, 12, frozenset({_K.CLAIM_UNDERPAID})),
    Column("status", "Status", Format.TEXT, 20,
           frozenset({_K.CLAIM_UNSENT, _K.PREDETERMINATION_PENDING, _K.CLAIM_OUTSTANDING,
                      _K.BROKEN_APPOINTMENT})),
    Column("last_contact_at", "Last contact", Format.DATETIME, 17),
    Column("attempts", "Attempts", Format.INTEGER, 9),
    Column("escalated", "Escalated", Format.TEXT, 10),
    Column("owner", "Owner", Format.TEXT, 14),
    Column("clinic", "Clinic", Format.TEXT, 14),
    Column("patient_id", "Patient #", Format.INTEGER, 10),
    Column("claim_id", "Claim #", Format.INTEGER, 10, _CLAIMS),
    Column("appointment_id", "Appointment #", Format.INTEGER, 14, _APPOINTMENTS),
    Column("procedure_ids", "Procedure #s", Format.TEXT, 24),
    Column("source_id", "Source", Format.TEXT, 12),
    Column("item_key", "Item", Format.TEXT, 44),
)
"""Every column, in the order shown."""


def columns_for(rows: Iterable[QueueRow], *, clinics: bool, sources: bool) -> list[Column]:
    """The columns of a queue: those that apply to a kind in it (the common ones if empty).

    `clinics` shows the clinic column (the site has clinics); `sources` the source column
    (the site has more than one PMS database).
    """
    kinds = {row.kind for row in rows}
    hidden = {"clinic"} if not clinics else set()
    if not sources:
        hidden.add("source_id")
    return [column for column in COLUMNS if column.key not in hidden
            and (column.kinds is None or column.kinds & kinds)]
