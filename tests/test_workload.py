"""A day she can finish: follow-ups spread over working days within capacity, best first."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from tc_sync.config.mappings import Workload
from tc_sync.items.workload import Planned, is_working_day, plan

MONDAY = date(2026, 11, 30)
WEEK = Workload(capacity_per_day=3)


def items(count: int, bucket: str = "owner:ana", earliest: date = MONDAY - timedelta(days=400),
          priority: float = 1.0, prefix: str = "i") -> list[Planned]:
    return [Planned(f"{prefix}{n}", bucket, priority - n / 1000, earliest) for n in range(count)]


def test_a_backlog_is_spread_so_no_day_holds_more_than_the_capacity():
    days = plan(items(10), MONDAY, WEEK, lambda bucket: 3)
    per_day = Counter(days.values())
    assert max(per_day.values()) == 3
    assert per_day[MONDAY] == 3 and min(per_day) == MONDAY
    assert all(is_working_day(day, WEEK) for day in per_day)


def test_the_highest_priority_items_are_due_first():
    days = plan(items(6), MONDAY, WEEK, lambda bucket: 3)
    assert {key for key, day in days.items() if day == MONDAY} == {"i0", "i1", "i2"}


def test_a_new_item_that_outranks_todays_list_takes_a_place_in_it():
    backlog = items(3, priority=1.0)
    urgent = Planned("implant", "owner:ana", 50.0, MONDAY)
    days = plan([*backlog, urgent], MONDAY, WEEK, lambda bucket: 3)
    assert days["implant"] == MONDAY
    assert days["i2"] == MONDAY + timedelta(days=1)


def test_weekends_and_closed_days_get_nothing():
    friday = MONDAY + timedelta(days=4)
    closed = Workload(capacity_per_day=1, closed_days=[MONDAY + timedelta(days=7)])
    days = plan(items(3), friday, closed, lambda bucket: 1)
    assert sorted(days.values()) == [friday, MONDAY + timedelta(days=8),
                                     MONDAY + timedelta(days=9)]


def test_each_owner_and_each_unowned_queue_has_its_own_capacity():
    days = plan([*items(3, "owner:ana", prefix="a"), *items(3, "owner:ben", prefix="b"),
                 *items(3, "queue:insurance", prefix="q")], MONDAY, WEEK,
                lambda bucket: 2 if bucket == "owner:ana" else 3)
    due_today = Counter(key[0] for key, day in days.items() if day == MONDAY)
    assert due_today == {"a": 2, "b": 3, "q": 3}


def test_nothing_is_planned_before_its_cadence_or_snooze_allows():
    later = MONDAY + timedelta(days=9)
    days = plan([Planned("x", "owner:ana", 99.0, later)], MONDAY, WEEK, lambda bucket: 3)
    assert days["x"] == later
