"""The columns of a work queue: header, format, widest width, and the kinds they apply to.

Every format (workbook, CSV, page) has the same columns in the same order: the ones that
apply to some item in the queue. The default columns come first (what a coordinator works
from, narrow enough for a 1366-pixel screen and a printed landscape page); the rest follow,
the PMS ids last: the page shows them in a row's detail or through its column chooser. The
workbook carries what a coordinator prints and works from: the default columns (printed),
those she sorts by (`sorted_by`), and the item key (in a collapsed group); the CSV files
carry every column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

from tc_sync.items.model import BEFORE_VISIT, ItemKind
from tc_sync.queues.patients import GROUPED, part_line
from tc_sync.queues.reasons import next_step, why_now
from tc_sync.queues.rows import TREATMENT_KINDS, QueueRow

_T = TypeVar("_T")


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
    default: bool = False
    """Shown by default (the others: in a row's detail, or when chosen)."""
    derive: Callable[[QueueRow], Any] | None = None
    """Worked out from the row (None: the row's attribute `key`)."""
    explain: str = ""
    """What the column means, when its header does not say (a tooltip, a note)."""
    sorted_by: bool = False
    """A coordinator sorts her queue by it: the workbook keeps it beside the default columns."""

    def value(self, row: QueueRow) -> Any:
        """The row's value in this column: text, a number, a date or None."""
        return self._shown(self.derive(row) if self.derive else getattr(row, self.key))

    def values(self, rows: Sequence[QueueRow]) -> list[Any]:
        """Each row's `value` in this column, the rows in order: a column at a time, so
        that a value many rows share (a date, a next step) is worked out once."""
        raw = list(map(self.derive or attrgetter(self.key), rows))
        kinds = set(map(type, raw))
        if bool in kinds or tuple in kinds:
            return list(map(self._shown, raw))
        return raw

    def _shown(self, raw: Any) -> Any:
        if isinstance(raw, bool):
            return "Yes" if raw else ""
        if isinstance(raw, tuple):
            return (" " if self.key == "codes" else ", ").join(str(part) for part in raw)
        return raw


class ColumnValues:
    """Some rows' values, one list per column (`Column.values`), each column's worked out
    when first asked for: a pass over the rows uses only the columns it writes."""

    __slots__ = ("_columns", "_lists", "_rows")

    def __init__(self, columns: Sequence[Column], rows: Sequence[QueueRow]) -> None:
        self._columns = columns
        self._rows = rows
        self._lists: list[list[Any] | None] = [None] * len(columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __getitem__(self, index: int) -> list[Any]:
        found = self._lists[index]
        if found is None:
            found = self._lists[index] = self._columns[index].values(self._rows)
        return found

    def __iter__(self) -> Iterator[list[Any]]:
        return (self[index] for index in range(len(self._columns)))


def each_once(convert: Callable[[Any], _T], values: Iterable[Any]) -> list[_T]:
    """`convert` of each value, worked out once per distinct value (values are hashable: text,
    numbers, dates; equal values give the same result in every format)."""
    values = values if isinstance(values, list) else list(values)
    converted = {value: convert(value) for value in set(values)}
    return list(map(converted.__getitem__, values))


_K = ItemKind
_CLAIMS = frozenset({_K.PREDETERMINATION_PENDING, _K.PREDETERMINATION_RETURNED,
                     _K.CLAIM_UNSENT, _K.CLAIM_OUTSTANDING, _K.CLAIM_DENIED,
                     _K.CLAIM_UNDERPAID})
_APPOINTMENTS = frozenset({_K.PLANNED_APPOINTMENT_UNSCHEDULED, _K.BROKEN_APPOINTMENT})
_BENEFITS = frozenset({_K.UNSCHEDULED_TREATMENT, _K.BENEFITS_EXPIRING,
                       _K.PLANNED_APPOINTMENT_UNSCHEDULED, _K.PREDETERMINATION_RETURNED})

PRIORITY_EXPLAINED = ("Points that order the queue: the money at stake weighed by how likely "
                      "it still is (the chance halves the longer it is owed), plus benefits "
                      "about to renew and a signed treatment plan. Highest first.")

COLUMNS: tuple[Column, ...] = (
    Column("source_id", "Practice", Format.TEXT, 12, default=True,
           explain="The practice (source) whose follow-up this is"),
    Column("patient", "Patient", Format.TEXT, 26, default=True),
    Column("contact", "Phone / email", Format.TEXT, 16, default=True),
    Column("what", "What", Format.TEXT, 22, default=True),
    Column("amount", "Amount", Format.MONEY, 12, default=True,
           explain="The dollars at stake, each counted once"),
    Column("why_now", "Why now", Format.TEXT, 34, default=True, derive=why_now),
    Column("next_step", "Next step", Format.TEXT, 20, default=True, derive=next_step),
    Column("next_follow_up", "Next follow-up", Format.DATE, 12, default=True),
    Column("last_contact_at", "Last contact", Format.DATETIME, 16, default=True),
    Column("attempts", "Attempts", Format.INTEGER, 9, default=True),
    Column("owner", "Owner", Format.TEXT, 12, default=True),
    Column("priority", "Priority", Format.PRIORITY, 9, explain=PRIORITY_EXPLAINED,
           sorted_by=True),
    Column("preferred_name", "Preferred name", Format.TEXT, 16),
    Column("contact_by", "Contact by", Format.TEXT, 28),
    Column("age_days", "Age (days)", Format.INTEGER, 10, sorted_by=True),
    Column("codes", "Codes", Format.TEXT, 24),
    Column("treatment", "Treatment", Format.TEXT, 50),
    Column("parts", "Follow-ups", Format.TEXT, 60, GROUPED,
           derive=lambda row: "; ".join(part_line(part) for part in row.parts)),
    Column("provider", "Provider", Format.TEXT, 12),
    Column("date_planned", "Date planned", Format.DATE, 12, TREATMENT_KINDS, sorted_by=True),
    Column("remaining_benefits", "Remaining benefits", Format.MONEY, 14, _BENEFITS,
           sorted_by=True),
    Column("benefits_renew_on", "Benefits renew", Format.DATE, 14, _BENEFITS, sorted_by=True),
    Column("signed", "Signed", Format.TEXT, 28,
           frozenset({_K.UNSCHEDULED_TREATMENT, _K.PREDETERMINATION_RETURNED}),
           explain="The patient signed a treatment plan with these procedures: when, and who "
                   "presented it"),
    Column("appointment_on", "Appointment", Format.DATE, 12, BEFORE_VISIT, sorted_by=True),
    Column("party", "Lab / specialist", Format.TEXT, 30,
           frozenset({_K.LAB_CASE_NOT_READY, _K.REFERRAL_NO_OUTCOME})),
    Column("carrier", "Carrier", Format.TEXT, 28,
           _CLAIMS | _BENEFITS | {_K.INSURANCE_NOT_VERIFIED}, sorted_by=True),
    Column("carrier_phone", "Carrier phone", Format.TEXT, 16,
           _CLAIMS | _BENEFITS | {_K.INSURANCE_NOT_VERIFIED}),
    Column("date_sent", "Date sent", Format.DATE, 12, _CLAIMS, sorted_by=True),
    Column("days_at_carrier", "Days at carrier", Format.INTEGER, 10,
           frozenset({_K.CLAIM_OUTSTANDING, _K.PREDETERMINATION_PENDING}), sorted_by=True),
    Column("bucket", "Bucket", Format.TEXT, 9, frozenset({_K.CLAIM_OUTSTANDING})),
    Column("estimate", "Insurance estimate", Format.MONEY, 14,
           frozenset({_K.CLAIM_OUTSTANDING, _K.CLAIM_DENIED, _K.CLAIM_UNDERPAID,
                      _K.PREDETERMINATION_RETURNED})),
    Column("patient_portion", "Patient portion", Format.MONEY, 14, TREATMENT_KINDS,
           explain="Fee less the insurance estimates on file for the planned procedures"),
    Column("paid", "Paid", Format.MONEY, 12, frozenset({_K.CLAIM_UNDERPAID})),
    Column("status", "Status", Format.TEXT, 20,
           frozenset({_K.CLAIM_UNSENT, _K.PREDETERMINATION_PENDING, _K.CLAIM_OUTSTANDING,
                      _K.BROKEN_APPOINTMENT}) | BEFORE_VISIT | {_K.REFERRAL_NO_OUTCOME}),
    Column("escalated", "Escalated", Format.TEXT, 10),
    Column("clinic", "Clinic", Format.TEXT, 14),
    Column("patient_id", "Patient #", Format.INTEGER, 10),
    Column("claim_id", "Claim #", Format.INTEGER, 10, _CLAIMS),
    Column("appointment_id", "Appointment #", Format.INTEGER, 14,
           _APPOINTMENTS | BEFORE_VISIT),
    Column("procedure_ids", "Procedure #s", Format.TEXT, 24),
    Column("item_key", "Item", Format.TEXT, 44, derive=lambda row: " ".join(row.keys)),
)
"""Every column, in the order shown: the default ones first (the page relies on it)."""

ITEM_COLUMN = "item_key"
"""The column that names a row's items (`tc-sync items show`): last in the workbook, grouped."""


def workbook_columns(columns: Iterable[Column]) -> list[Column]:
    """The columns of a queue the workbook carries: defaults, those sorted by, the item key."""
    return [column for column in columns
            if column.default or column.sorted_by or column.key == ITEM_COLUMN]


def columns_for(rows: Iterable[QueueRow], *, clinics: bool, sources: bool) -> list[Column]:
    """The columns of a queue: those that apply to a kind in it (the common ones if empty).

    `clinics` shows the clinic column (the site has clinics); `sources` the Practice column,
    first (the files show more than one source: a group's, or a site of several PMS
    databases).
    """
    kinds = {part.kind for row in rows for part in row.parts or (row,)}
    hidden = {"clinic"} if not clinics else set()
    if not sources:
        hidden.add("source_id")
    return [column for column in COLUMNS if column.key not in hidden
            and (column.kinds is None or column.kinds & kinds)]
