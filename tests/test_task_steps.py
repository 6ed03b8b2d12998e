"""A task staff finish in Open Dental while its follow-up is still owed leads to the next one.

End to end on MariaDB with the demo practice and Open Dental's task tables, through the Open
Dental API stand-in (tests/od_api_standin.py: a real HTTP server; the real API cannot run
here): staff mark tc-sync's task Done, the dispatcher reads it back, the cadence's next
follow-up moves, and the day it comes due the next task is made, exactly once, even when the
dispatcher dies after Open Dental made it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.config import Settings, SyncSettings
from tc_sync.config.mappings import Mappings
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.schema import items, outbox
from tc_sync.pull.run import sync_source
from tc_sync.push import outbox as store
from tc_sync.push.dispatcher import Dispatcher
from tc_sync.push.outbox import ActionKind, marker_of
from tc_sync.push.plan import task_key, task_step

from .test_push_opendental import (  # noqa: F401 - fixtures
    TODAY,
    closing_later,
    execute,
    mappings_with_tasks,
    practice,
    settings_for,
    standin,
)

pytestmark = pytest.mark.mysql


def cycle(ledger, settings: Settings, mappings: Mappings, today: date) -> None:
    result = sync_source(ledger, "main", settings.sources["main"],
                         SyncSettings(safety_lag_seconds=0))
    reconcile_source(ledger, "main", mappings, today, complete_run=result.outcome == "ok",
                     run_id=result.run_id, push=settings.push)


def creates_for(ledger, key: str) -> list[dict[str, Any]]:
    with ledger.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(outbox).where(
            outbox.c.item_key == key, outbox.c.action == "create_task").order_by(
            outbox.c.action_id)).mappings()]


def stored(ledger, key: str) -> dict[str, Any]:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items).where(
            items.c.item_key == key)).mappings().one())


def test_the_keys_of_an_episodes_tasks_name_their_step():
    key = "unscheduled_treatment:main:7"
    assert task_key("od", ActionKind.CREATE_TASK, key, 2) == f"od:create_task:{key}:2"
    assert task_key("od", ActionKind.CLOSE_TASK, key, 2, 3) == f"od:close_task:{key}:2:3"
    assert task_step(f"od:create_task:{key}:2", "od", ActionKind.CREATE_TASK, key) == (2, 1)
    assert task_step(f"od:create_task:{key}:2:3", "od", ActionKind.CREATE_TASK, key) == (2, 3)
    assert task_step(f"od:create_task:{key}7:2", "od", ActionKind.CREATE_TASK, key) is None


def test_a_task_staff_finish_makes_the_next_task_when_the_follow_up_comes_due_once(
        practice, standin, source, ledger, tmp_path, request):  # noqa: F811
    settings = settings_for(source, standin.base_url)
    mappings = mappings_with_tasks(tmp_path, backfill=True, kinds=("unscheduled_treatment",))
    cycle(ledger, settings, mappings, TODAY)
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    dispatcher.run_once()                                        # the first tasks are made
    first = standin.state.tasks()[0]
    with ledger.connect() as connection:
        key = connection.scalar(sa.select(outbox.c.item_key).where(
            outbox.c.external_id == str(first["TaskNum"])))
    attempts = stored(ledger, key)["attempts"]

    standin.state.staff("UPDATE task SET TaskStatus = 2, DateTimeFinished = %s "
                        "WHERE TaskNum = %s", f"{TODAY} 10:00:00", first["TaskNum"])
    dispatcher._read_back_at = None                              # its next look is due now
    dispatcher.run_once()                                        # ...and sees it done
    cycle(ledger, settings, mappings, TODAY)
    item = stored(ledger, key)
    due = item["due_on"]
    assert (item["status"], item["attempts"]) == ("open", attempts + 1)
    assert due > TODAY
    cycle(ledger, settings, mappings, due - timedelta(days=1))   # not due yet: no task
    assert len(creates_for(ledger, key)) == 1

    cycle(ledger, settings, mappings, due)                       # due: the next task
    cycle(ledger, settings, mappings, due)                       # ...once, however often
    cycle(ledger, settings, mappings, due + timedelta(days=1))
    first_create, second_create = creates_for(ledger, key)
    assert second_create["idempotency_key"] == f"od-api:create_task:{key}:1:2"

    # The dispatcher dies after Open Dental made the task, before it recorded so.
    claimed = store.claim(ledger, owner="killed", sources=["main"], targets=["od-api"],
                          limit=1000, lease_seconds=300)
    (action,) = [a for a in claimed if a.idempotency_key == second_create["idempotency_key"]]
    dispatcher.targets["od-api"].create_task(action)
    dispatcher.recover_at_start()
    assert dispatcher.run_once().found >= 1
    mine = [t for t in standin.state.tasks() if t["KeyNum"] == first["KeyNum"]]
    markers = sorted(t["Descript"].rsplit("[", 1)[1].rstrip("]") for t in mine)
    assert markers == sorted([marker_of(first_create["idempotency_key"]),
                              marker_of(second_create["idempotency_key"])])
    second = next(t for t in mine if t["TaskNum"] != first["TaskNum"])
    assert (second["TaskStatus"], second["TaskListNum"]) == (0, first["TaskListNum"])

    dispatcher._read_back_at = None                              # the new task is not done:
    dispatcher.run_once()                                        # nothing more is made
    cycle(ledger, settings, mappings, due + timedelta(days=60))
    assert len(creates_for(ledger, key)) == 2

    patient = first["KeyNum"]                                    # scheduled: the latest task
    execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
            "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient,
            f"{due + timedelta(days=70)} 09:00:00")              # ...is closed
    cycle(ledger, settings, mappings, due + timedelta(days=60))
    dispatcher.run_once()
    with ledger.connect() as connection:
        closes = connection.execute(sa.select(outbox.c.idempotency_key).where(
            outbox.c.item_key == key, outbox.c.action == "close_task")).scalars().all()
    assert closes == [f"od-api:close_task:{key}:1:2"]
    now = {t["TaskNum"]: t for t in standin.state.tasks()}
    assert now[second["TaskNum"]]["TaskStatus"] == 2
