"""Report periods: an ISO week (Monday to Sunday) or a calendar month. Pure date arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["weekly", "monthly"]


class PeriodError(ValueError):
    """A --period that cannot be read; the message says what to write instead."""


@dataclass(frozen=True)
class Period:
    """The days a report covers, both ends included."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        """`2026-W47` for a week, `2026-11` for a month: the report's file name uses it."""
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def title(self) -> str:
        """How the report's heading names the period."""
        if self.kind == "weekly":
            return (f"week {self.label} ({self.start:%b} {self.start.day} to "
                    f"{self.end:%b} {self.end.day}, {self.end.year})")
        return f"{self.start:%B %Y}"

    @property
    def after(self) -> date:
        """The first day after the period."""
        return self.end + timedelta(days=1)


def week_of(day: date) -> Period:
    """The Monday-to-Sunday week holding `day`."""
    start = day - timedelta(days=day.weekday())
    return Period("weekly", start, start + timedelta(days=6))


def month_of(day: date) -> Period:
    """The calendar month holding `day`."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period("monthly", start, following - timedelta(days=1))


def last_complete(kind: PeriodKind, today: date) -> Period:
    """The latest week or month that ended before `today`."""
    if kind == "weekly":
        return week_of(today - timedelta(days=today.weekday() + 1))
    return month_of(today.replace(day=1) - timedelta(days=1))


def parse_period(kind: PeriodKind, text: str | None, today: date) -> Period:
    """`--period`: a week by any day in it (YYYY-MM-DD), a month as YYYY-MM (or a day in it);
    none means the last complete one. A period that has not ended by `today` is refused: its
    figures would change."""
    if text is None:
        return last_complete(kind, today)
    value = text.strip()
    if kind == "monthly" and re.fullmatch(r"\d{4}-\d{2}", value):
        value += "-01"
    try:
        day = date.fromisoformat(value)
    except ValueError:
        example = "2026-11-16 (any day of the week)" if kind == "weekly" else "2026-11"
        raise PeriodError(f"'{text}' is not a {kind} period: write e.g. {example}") from None
    period = week_of(day) if kind == "weekly" else month_of(day)
    if period.end >= today:
        raise PeriodError(f"{period.title} has not ended yet (its last day is {period.end}): "
                          "choose a period that has, or leave --period out for the last "
                          "complete one")
    return period
