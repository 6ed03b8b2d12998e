"""A day she can finish: follow-ups spread over working days within each owner's capacity.

Every open item has a day its cadence makes it due (`due_on`: never before it opened). The plan
gives each one a working day on or after that (and after any snooze), highest priority first,
so that no owner (or, for unowned items, no queue) has more than its capacity due on a day:
an item that outranks today's list takes a place in it and pushes the least urgent to the next
working day. Weekends and closed days get none. An item owed before a visit (a lab case, an
insurance check) is never planned past the visit: with no room by then it goes over capacity
on the day it is due. Pure functions; `plan` does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tc_sync.config.mappings import Workload

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Planned:
    """What planning needs of one open item."""

    key: str
    bucket: str
    """Whose day it fills: 'owner:<name>' or 'queue:<name>'."""
    priority: float
    earliest: date
    """Its cadence's due day, or the end of a snooze: never planned before it."""
    latest: date | None = None
    """The last day it is of use (a before-visit item's appointment), or None."""


def last_useful_day(visit: date, earliest: date) -> date | None:
    """A before-visit item's `latest`: the day before the visit, or the visit's day if the
    item is not due sooner; None if its cadence or a snooze puts it after the visit."""
    if earliest > visit:
        return None
    return max(visit - timedelta(days=1), earliest)


def bucket_of(owner: str | None, queue: str) -> str:
    return f"owner:{owner}" if owner else f"queue:{queue}"


def is_working_day(day: date, settings: Workload) -> bool:
    return _WEEKDAYS[day.weekday()] in settings.working_days and day not in settings.closed_days


class _Days:
    """One bucket's planned days: how many items each holds, and the first with room."""

    def __init__(self, capacity: int, settings: Workload, today: date) -> None:
        self.capacity = capacity
        self.settings = settings
        self.today = today
        self.count: dict[date, int] = {}
        self.first_free = self._working(today)

    def _working(self, day: date) -> date:
        for _ in range(3660):     # a closed-days list cannot close ten years
            if is_working_day(day, self.settings):
                return day
            day += timedelta(days=1)
        return day

    def take(self, earliest: date, latest: date | None = None) -> date:
        due = self._working(max(earliest, self.today))
        day = max(self.first_free, due)
        while self.count.get(day, 0) >= self.capacity:
            day = self._working(day + timedelta(days=1))
        if latest is not None and day > latest:    # no room before the visit: over capacity
            day = due if due <= latest else self.today   # (a visit today on a closed day: now)
        self.count[day] = self.count.get(day, 0) + 1
        while self.count.get(self.first_free, 0) >= self.capacity:
            self.first_free = self._working(self.first_free + timedelta(days=1))
        return day


def plan(items: Iterable[Planned], today: date, settings: Workload,
         capacity_of: Callable[[str], int]) -> dict[str, date]:
    """Each item's planned follow-up day, by key."""
    days: dict[str, _Days] = {}
    planned: dict[str, date] = {}
    for item in sorted(items, key=lambda i: (-i.priority, i.earliest, i.key)):
        if item.bucket not in days:
            days[item.bucket] = _Days(capacity_of(item.bucket), settings, today)
        planned[item.key] = days[item.bucket].take(item.earliest, item.latest)
    return planned
