"""Run a report's query on the PMS (read-only) and read its rows as subject, patient, cents."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tc_sync.adapter.convert import to_cents
from tc_sync.drivers.base import Driver
from tc_sync.verify.reports import Report, ReportsError

_WHOLE = re.compile(r"[0-9]+")
_MOST_DAYS = 36_500
"""Longer suppressions are read as a century: date arithmetic has an end."""
_BLANK_BEFORE_YEAR = 1880
"""Open Dental reads any earlier date as blank."""


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: what it is about, whose it is and its amount in cents."""

    subject_id: int
    patient_id: int
    amount: int


def benefit_year(today: date, renewal_month: int) -> tuple[date, date]:
    """First and last day of the benefit year containing `today` for a plan renewing on the
    1st of `renewal_month` (0, as Open Dental writes it, is January)."""
    month = renewal_month or 1
    year = today.year if today.month >= month else today.year - 1
    return date(year, month, 1), date(year + 1, month, 1) - timedelta(days=1)


def whole_days(value: Any) -> int:
    """A custom tracking status's days suppressed: a whole number, anything else 0."""
    text = "" if value is None else str(value).strip()
    return min(int(text), _MOST_DAYS) if _WHOLE.fullmatch(text) else 0


def as_date(value: Any) -> date | None:
    """A date from the driver (a date, or ISO text); blank or unreadable is None."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    return value if value.year >= _BLANK_BEFORE_YEAR else None


def hidden_by_tracking(logged_on: Any, days: Any, today: date) -> bool:
    """Whether Open Dental's Outstanding Claims report hides a claim today: its custom tracking
    status was logged on `logged_on` and suppresses it for `days` days."""
    logged = as_date(logged_on)
    suppressed = whole_days(days)
    return logged is not None and suppressed > 0 and logged + timedelta(days=suppressed) > today


def parameter_sets(report: Report, today: date) -> Iterator[dict[str, Any]]:
    """The bound parameters of each run of the report (one run, or one per renewal month)."""
    if not report.spec.benefit_year:
        yield {"today": today.isoformat()}
        return
    for month in range(13):
        start, end = benefit_year(today, month)
        yield {"today": today.isoformat(), "month_renew": month,
               "year_start": start.isoformat(), "year_end": end.isoformat()}


def _column(report: Report, columns: Sequence[str], name: str) -> int:
    try:
        return list(columns).index(name.lower())
    except ValueError:
        raise ReportsError(f"report {report.name} ({report.spec.sql}) returns no column "
                           f"'{name}'") from None


def read_rows(report: Report, columns: Sequence[str], rows: Sequence[Sequence[Any]],
              today: date, into: dict[int, ReportRow]) -> None:
    """Add a run's rows to `into` by subject (the first row of a subject wins), leaving out
    claims their custom tracking suppresses today."""
    spec = report.spec
    key, patient, amount = (_column(report, columns, name)
                            for name in (spec.key, spec.patient, spec.amount))
    tracking = None if spec.suppression is None else (
        _column(report, columns, spec.suppression.logged_on),
        _column(report, columns, spec.suppression.days))
    for row in rows:
        if tracking is not None and hidden_by_tracking(row[tracking[0]], row[tracking[1]],
                                                       today):
            continue
        subject = int(row[key])
        if subject not in into:
            into[subject] = ReportRow(subject, int(row[patient]), to_cents(row[amount]))


def run_report(driver: Driver, report: Report, today: date) -> dict[int, ReportRow]:
    """The report's rows today, by subject (patient, claim or appointment id)."""
    found: dict[int, ReportRow] = {}
    for parameters in parameter_sets(report, today):
        columns, rows = driver.query(report.sql, parameters)
        read_rows(report, columns, rows, today, found)
    return found

