"""A day she can finish: follow-ups spread over working days within capacity, best first."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from tc_sync.config.mappings import Workload
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import plan_follow_ups
from tc_sync.items.workload import Planned, is_working_day, last_useful_day, plan
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items as ledger_items
from tests.test_reports import SEEN, put

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


def test_an_item_owed_before_a_visit_goes_over_capacity_rather_than_past_the_visit():
    wednesday = MONDAY + timedelta(days=2)
    lab_case = Planned("lab", "owner:ana", 0.5, MONDAY, last_useful_day(wednesday, MONDAY))
    days = plan([*items(6), lab_case], MONDAY, WEEK, lambda bucket: 3)
    assert days["lab"] == MONDAY           # Monday and Tuesday are full of higher priorities
    assert max(days[f"i{n}"] for n in range(6)) == MONDAY + timedelta(days=1)


def test_a_visit_on_a_closed_day_is_worked_on_that_day_not_the_next_open_one():
    sunday = MONDAY - timedelta(days=1)
    today = Planned("verify", "queue:insurance", 5.0, sunday - timedelta(days=3),
                    last_useful_day(sunday, sunday - timedelta(days=3)))
    monday = Planned("lab", "queue:insurance", 5.0, sunday, last_useful_day(MONDAY, sunday))
    days = plan([today, monday], sunday, WEEK, lambda bucket: 3)
    assert days == {"verify": sunday, "lab": sunday}


def test_a_before_visit_item_snoozed_past_its_visit_keeps_its_snooze():
    assert last_useful_day(MONDAY, MONDAY + timedelta(days=3)) is None
    assert last_useful_day(MONDAY, MONDAY) == MONDAY                 # due on the day: that day
    assert last_useful_day(MONDAY, MONDAY - timedelta(days=9)) == MONDAY - timedelta(days=1)


def test_the_plan_keeps_a_ledgers_before_visit_items_before_their_visits(tmp_path):
    sunday = MONDAY - timedelta(days=1)
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as connection:
        for n in range(8):                    # a full Monday for the insurance queue
            put(connection, ledger_items, item_key=f"claim_outstanding:main:{n}",
                source_id="main", kind="claim_outstanding", status="open", patient_id=n,
                queue="insurance", priority=50.0 - n, next_follow_up=sunday, due_on=sunday,
                codes="", details="{}", opened_at=SEEN, updated_at=SEEN)
        put(connection, ledger_items, item_key="insurance_not_verified:main:77",
            source_id="main", kind="insurance_not_verified", status="open", patient_id=99,
            queue="insurance", priority=1.0, next_follow_up=sunday, due_on=sunday - timedelta(3),
            codes="", details=json.dumps({"appointment_on": MONDAY.isoformat()}),
            opened_at=SEEN, updated_at=SEEN)
    mappings = load_mappings().model_copy(update={"workload": Workload(capacity_per_day=5)})
    plan_follow_ups(engine, "main", mappings, sunday)
    with engine.connect() as connection:
        days = dict(connection.execute(sa.select(ledger_items.c.item_key,
                                                 ledger_items.c.next_follow_up)).all())
    assert days["insurance_not_verified:main:77"] == sunday
    assert days["claim_outstanding:main:7"] == MONDAY + timedelta(days=1)
    engine.dispose()
