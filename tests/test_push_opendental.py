"""Follow-ups become Open Dental tasks once, and close when the PMS shows the work done.

End to end on MariaDB: the demo practice plus Open Dental's real task tables; sync and
reconcile enqueue actions; the dispatcher sends them through the Open Dental API stand-in
(tests/od_api_standin.py: a real HTTP server, since the real API cannot run here) or writes
them directly; every task is read back from the task table.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.commands.doctor import task_target_findings
from tc_sync.config import Settings, SyncSettings, settings_from_mapping
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.config.push import OpenDentalApiTarget
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.schema import item_events, items, outbox
from tc_sync.pull.run import sync_source
from tc_sync.push import outbox as store
from tc_sync.push.dispatcher import Dispatcher, build_targets
from tc_sync.push.outbox import Action, ActionKind, marker_of
from tc_sync.push.readback import read_back
from tc_sync.push.targets.base import Retryable
from tc_sync.push.targets.opendental_api import OpenDentalApi, encode_query, pace_seconds
from tests.od_api_standin import (
    ECONNECTOR,
    OFFICE_TIMEOUT,
    VERSIONING,
    Fault,
    RunningStandIn,
    StandIn,
    add_task_lists,
    add_users,
    create_task_tables,
    serve,
)

pytestmark = pytest.mark.mysql

TODAY = date(2026, 11, 26)
TREATMENT_LIST, INSURANCE_LIST, CLAIMS_LIST = 11, 12, 13


@pytest.fixture
def practice(mysql_server, mysql_database):
    connection = mysql_server.connect(mysql_database)
    write_mysql(connection, PracticeSpec(today=TODAY))
    create_task_tables(connection)
    add_task_lists(connection, [(TREATMENT_LIST, "Treatment coordinator", 0),
                                (INSURANCE_LIST, "Insurance", 0),
                                (CLAIMS_LIST, "Claims follow-up", INSURANCE_LIST)])
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO tasksubscription (UserNum, TaskListNum, TaskNum) VALUES (%s, %s, 0)",
            [(5, INSURANCE_LIST), (6, TREATMENT_LIST), (2, CLAIMS_LIST)])
    yield connection
    connection.close()


@pytest.fixture
def standin(mysql_server, mysql_database, practice) -> Iterator[RunningStandIn]:
    yield from serve(StandIn(mysql_server.host, mysql_server.port, mysql_server.user,
                             mysql_server.password, mysql_database))


def settings_for(source, base_url: str, **target: Any) -> Settings:
    connection = source.connection
    return settings_from_mapping({
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": connection.host, "port": connection.port, "user": connection.user,
            "database": connection.database,
            "password": connection.password.get_secret_value() if connection.password else None,
        }}},
        "push": {"first_retry_seconds": 1, "targets": {"od-api": {
            "kind": "opendental_api", "source": "main", "base_url": base_url,
            "developer_key": "dev-key", "customer_key": "cust-key", "timeout_seconds": 2,
            **target}}},
    }, label="test.yaml")


def mappings_with_tasks(tmp_path: Path, *, backfill: bool,
                        kinds: tuple[str, ...] = ("unscheduled_treatment", "claim_outstanding"),
                        ) -> Mappings:
    site = tmp_path / "site-mappings.yaml"
    site.write_text(yaml.safe_dump({"tasks": {
        "kinds": list(kinds), "backfill": backfill,
        "lists": [{"kinds": ["claim_outstanding"], "task_list": CLAIMS_LIST, "creator_user": 2},
                  {"task_list": TREATMENT_LIST, "creator_user": 3}]}}))
    return load_mappings(site)


def cycle(ledger, settings: Settings, mappings: Mappings) -> None:
    source = settings.sources["main"]
    result = sync_source(ledger, "main", source, SyncSettings(safety_lag_seconds=0))
    reconcile_source(ledger, "main", mappings, TODAY, complete_run=result.outcome == "ok",
                     run_id=result.run_id, push=settings.push)


def closing_later(request, dispatcher: Dispatcher) -> Dispatcher:
    request.addfinalizer(dispatcher.close)
    return dispatcher


def execute(connection, sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        cursor.execute(sql, params)


def open_items(ledger, *kinds: str) -> dict[str, dict[str, Any]]:
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(items).where(
            items.c.status == "open", items.c.kind.in_(kinds))).mappings().all()
    return {row["item_key"]: dict(row) for row in rows}


def actions(ledger) -> list[dict[str, Any]]:
    with ledger.connect() as connection:
        return [dict(row) for row in connection.execute(
            sa.select(outbox).order_by(outbox.c.action_id)).mappings()]


def markers_in(tasks: list[dict[str, Any]]) -> Counter[str]:
    return Counter(task["Descript"].rsplit("[", 1)[1].rstrip("]") for task in tasks)


def test_a_first_reconcile_makes_no_task_flood_and_a_new_follow_up_makes_one_task(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    mappings = mappings_with_tasks(tmp_path, backfill=False)
    cycle(ledger, settings, mappings)
    assert open_items(ledger, "unscheduled_treatment")
    assert actions(ledger) == []                    # already owed at install: no tasks

    key = sorted(open_items(ledger, "unscheduled_treatment"))[0]
    patient = int(key.rsplit(":", 1)[1])
    execute(practice, "INSERT INTO appointment (AptNum, PatNum, AptStatus, AptDateTime, ProvNum,"
            " ClinicNum) VALUES (900001, %s, 1, %s, 1, 0)", patient,
            f"{TODAY + timedelta(days=14)} 09:00:00")
    cycle(ledger, settings, mappings)               # resolved: it had no task, nothing to close
    assert actions(ledger) == []
    execute(practice, "UPDATE appointment SET AptStatus = 5 WHERE AptNum = 900001")  # broken
    cycle(ledger, settings, mappings)               # reopened: a new follow-up, a new task

    (create,) = actions(ledger)
    assert create["idempotency_key"] == f"od-api:create_task:{key}:2"
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    assert dispatcher.run_once().sent == 1
    (task,) = standin.state.tasks()
    assert task["KeyNum"] == patient and task["ObjectType"] == 1         # attached to patient
    assert task["TaskListNum"] == TREATMENT_LIST and task["UserNum"] == 3
    assert task["Descript"].startswith("Call to schedule: D")
    assert task["Descript"].endswith(f"[{marker_of(create['idempotency_key'])}]")
    assert task["TaskStatus"] == 0

    execute(practice, "UPDATE appointment SET AptStatus = 1 WHERE AptNum = 900001")
    cycle(ledger, settings, mappings)               # scheduled again: close the task
    assert dispatcher.run_once().sent == 1
    (task,) = standin.state.tasks()
    assert task["TaskStatus"] == 2                  # Done (Open Dental 24.3 allows it)
    assert str(task["DateTimeFinished"]) != "0001-01-01 00:00:00"
    assert [a["status"] for a in actions(ledger)] == ["sent", "sent"]
    with ledger.connect() as connection:
        history = connection.execute(sa.select(item_events.c.event).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id)).scalars().all()
    assert history[-4:] == ["reopened", "task_made", "resolved", "task_closed"]


def test_backfill_makes_one_task_per_open_item_in_its_kinds_list_and_never_a_second(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    mappings = mappings_with_tasks(tmp_path, backfill=True)
    cycle(ledger, settings, mappings)
    owed = open_items(ledger, "unscheduled_treatment", "claim_outstanding")
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    totals = dispatcher.run_once()
    assert totals.sent == len(owed) > 10
    cycle(ledger, settings, mappings)               # nothing changed: nothing new
    assert dispatcher.run_once().claimed == 0

    tasks = standin.state.tasks()
    assert len(tasks) == len(owed)
    keys = {f"od-api:create_task:{key}:1": item for key, item in owed.items()}
    assert markers_in(tasks) == Counter(marker_of(key) for key in keys)
    by_marker = {marker_of(key): item for key, item in keys.items()}
    for task in tasks:
        item = by_marker[task["Descript"].rsplit("[", 1)[1].rstrip("]")]
        assert task["KeyNum"] == item["patient_id"]
        expected = CLAIMS_LIST if item["kind"] == "claim_outstanding" else TREATMENT_LIST
        assert task["TaskListNum"] == expected


def test_429_is_honoured_and_the_other_actions_wait_without_losing_an_attempt(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("claim_outstanding",)))
    owed = len(open_items(ledger, "claim_outstanding"))
    standin.state.fail_next(Fault("POST", 429, retry_after=1))
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    first = dispatcher.run_once()
    assert first.sent == 0 and first.retried == 1 and first.waiting >= 1
    assert all(a["attempts"] <= 1 for a in actions(ledger))
    time.sleep(1.2)
    assert dispatcher.run_once().sent == owed
    assert len(standin.state.tasks()) == owed


@pytest.mark.parametrize("fault", [
    Fault("POST", 500, after_commit=True),
    Fault("POST", hang_seconds=3, after_commit=True),
    Fault("POST", 400, after_commit=True, body=OFFICE_TIMEOUT),
], ids=["500-after-the-task-was-made", "answer-lost-in-a-timeout", "400-office-timed-out"])
def test_a_create_whose_answer_was_lost_is_found_by_its_marker_not_made_twice(
        practice, standin, source, ledger, tmp_path, request, fault):
    settings = settings_for(source, standin.base_url, timeout_seconds=1)
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("claim_outstanding",)))
    owed = len(open_items(ledger, "claim_outstanding"))
    standin.state.fail_next(fault)
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    found = dispatcher.run_once().found
    time.sleep(1.5)                                  # the retry is due after about 1 s
    found += dispatcher.run_once().found
    assert found == 1                                # looked up by its marker, not re-sent
    (retried,) = [a for a in actions(ledger) if a["attempts"] == 2]
    assert retried["status"] == "sent" and retried["last_error"] is None
    tasks = standin.state.tasks()
    assert len(tasks) == owed
    assert max(markers_in(tasks).values()) == 1


def test_refused_keys_retry_with_a_clear_error_and_send_nothing(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url, customer_key="wrong")
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("claim_outstanding",)))
    with Dispatcher(ledger, settings) as dispatcher:
        totals = dispatcher.run_once()
    assert totals.sent == 0 and totals.dead == 0
    failed = [a for a in actions(ledger) if a["status"] == "retry" and a["attempts"] == 1]
    assert len(failed) == 1 and "refused the keys" in failed[0]["last_error"]
    assert standin.state.tasks() == []


def test_a_task_list_open_dental_does_not_have_is_a_dead_letter_with_an_alert(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    settings.push.targets["ops"] = settings_from_mapping({"push": {"targets": {"ops": {
        "kind": "webhook", "url": "http://127.0.0.1:9/hook"}}}}).push.targets["ops"]
    site = tmp_path / "m.yaml"
    site.write_text(yaml.safe_dump({"tasks": {"kinds": ["claim_outstanding"], "backfill": True,
                                              "lists": [{"task_list": 999, "creator_user": 3}]}}))
    cycle(ledger, settings, load_mappings(site))
    owed = len(open_items(ledger, "claim_outstanding"))
    api_only = {"od-api": build_targets(ledger, settings)["od-api"]}
    with Dispatcher(ledger, settings, targets=api_only) as dispatcher:
        totals = dispatcher.run_once()
    assert totals.dead == owed
    rows = actions(ledger)
    dead = [a for a in rows if a["status"] == "dead"]
    assert all("TaskListNum is invalid" in a["last_error"] for a in dead)
    alerts = [a for a in rows if a["target"] == "ops"]
    assert len(alerts) == owed and all(a["status"] == "pending" for a in alerts)


def test_before_24_2_10_a_resolved_task_is_rewritten_to_say_so(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url, mark_done="never")
    mappings = mappings_with_tasks(tmp_path, backfill=True, kinds=("unscheduled_treatment",))
    cycle(ledger, settings, mappings)
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    dispatcher.run_once()
    key = sorted(open_items(ledger, "unscheduled_treatment"))[0]
    patient = int(key.rsplit(":", 1)[1])
    execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
            "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient,
            f"{TODAY + timedelta(days=7)} 10:00:00")
    cycle(ledger, settings, mappings)
    assert dispatcher.run_once().sent == 1
    (task,) = [t for t in standin.state.tasks() if t["KeyNum"] == patient]
    assert task["TaskStatus"] == 0
    assert task["Descript"].startswith(f"RESOLVED {date.today():%Y-%m-%d} (scheduled): Call")
    assert task["Descript"].endswith(f"[{marker_of(f'od-api:create_task:{key}:1')}]")


def test_an_item_resolved_before_its_task_was_sent_cancels_it(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    mappings = mappings_with_tasks(tmp_path, backfill=True, kinds=("unscheduled_treatment",))
    cycle(ledger, settings, mappings)
    key = sorted(open_items(ledger, "unscheduled_treatment"))[0]
    patient = int(key.rsplit(":", 1)[1])
    execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
            "ClinicNum) VALUES (%s, 1, %s, 1, 0)", patient,
            f"{TODAY + timedelta(days=7)} 10:00:00")
    cycle(ledger, settings, mappings)
    mine = [a for a in actions(ledger) if a["item_key"] == key]
    assert [(a["action"], a["status"]) for a in mine] == [("create_task", "cancelled")]
    with Dispatcher(ledger, settings) as dispatcher:
        dispatcher.run_once()
    assert all(t["KeyNum"] != patient for t in standin.state.tasks())


@pytest.mark.parametrize("said", [ECONNECTOR, VERSIONING], ids=["econnector", "versioning"])
def test_an_econnector_or_versioning_400_is_waited_out_and_each_task_is_made_once(
        practice, standin, source, ledger, tmp_path, request, said):
    settings = settings_for(source, standin.base_url)
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("claim_outstanding",)))
    owed = len(open_items(ledger, "claim_outstanding"))
    standin.state.fail_next(Fault("POST", 400, body=said))
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    first = dispatcher.run_once()
    assert first.sent == 0 and first.dead == 0 and first.retried == 1   # not a dead letter
    (failed,) = [a for a in actions(ledger) if a["attempts"] == 1]
    assert failed["status"] == "retry" and said in failed["last_error"]
    time.sleep(1.3)                                  # the backoff: about 1 s here
    assert dispatcher.run_once().sent == owed
    tasks = standin.state.tasks()
    assert len(tasks) == owed and max(markers_in(tasks).values()) == 1


def test_outbox_retry_of_a_dead_create_that_was_made_finds_it_instead_of_a_duplicate(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("claim_outstanding",)))
    owed = len(open_items(ledger, "claim_outstanding"))
    standin.state.fail_next(Fault("POST", 400, after_commit=True, body="Bad request."))
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    assert dispatcher.run_once().dead == 1           # Open Dental made it, then said 400
    assert store.retry_dead(ledger, None) == 1       # what `tc-sync outbox retry` does
    assert dispatcher.run_once().found == 1
    tasks = standin.state.tasks()
    assert len(tasks) == owed and max(markers_in(tasks).values()) == 1


def test_on_open_dental_24_1_closing_leaves_a_finished_task_done_and_keeps_staffs_words(
        practice, standin, source, ledger, tmp_path, request):
    standin.state.version = "24.1.5.0"                # no TaskStatus on PUT before 24.2.10
    settings = settings_for(source, standin.base_url)                     # mark_done: auto
    mappings = mappings_with_tasks(tmp_path, backfill=True, kinds=("unscheduled_treatment",))
    cycle(ledger, settings, mappings)
    api = OpenDentalApi("od-api", api_settings(settings), lambda: "24.1.5.0")
    dispatcher = closing_later(request, Dispatcher(ledger, settings, targets={"od-api": api}))
    dispatcher.run_once()
    finished_key, edited_key = sorted(open_items(ledger, "unscheduled_treatment"))[:2]
    by_patient = {t["KeyNum"]: t for t in standin.state.tasks()}
    finished = by_patient[int(finished_key.rsplit(":", 1)[1])]
    edited = by_patient[int(edited_key.rsplit(":", 1)[1])]
    standin.state.staff("UPDATE task SET TaskStatus = 2, DateTimeFinished = NOW() "
                        "WHERE TaskNum = %s", finished["TaskNum"])
    staff_words = "Left a voicemail 11/27. " + edited["Descript"]
    standin.state.staff("UPDATE task SET Descript = %s WHERE TaskNum = %s", staff_words,
                        edited["TaskNum"])
    for key in (finished_key, edited_key):            # both get scheduled: both items resolve
        execute(practice, "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, "
                "ClinicNum) VALUES (%s, 1, %s, 1, 0)", int(key.rsplit(":", 1)[1]),
                f"{TODAY + timedelta(days=7)} 10:00:00")
    cycle(ledger, settings, mappings)
    assert dispatcher.run_once().sent == 2
    now = {t["TaskNum"]: t for t in standin.state.tasks()}
    assert now[finished["TaskNum"]]["TaskStatus"] == 2                    # still Done
    assert now[finished["TaskNum"]]["Descript"] == finished["Descript"]   # not touched
    assert now[edited["TaskNum"]]["TaskStatus"] == 0
    assert now[edited["TaskNum"]]["Descript"] == (
        f"RESOLVED {date.today():%Y-%m-%d} (scheduled): {staff_words}")


def api_settings(settings: Settings) -> OpenDentalApiTarget:
    target = settings.push.targets["od-api"]
    assert isinstance(target, OpenDentalApiTarget)
    return target


def api_action(number: int, key: str = "od-api:create_task:unscheduled_treatment:main") -> Action:
    return Action(action_id=number, idempotency_key=f"{key}:{number}:1", source_id="main",
                  item_key=None, target="od-api", action=ActionKind.CREATE_TASK,
                  payload={"patient_id": number, "task_list": TREATMENT_LIST,
                           "creator_user": 3, "priority": None, "text": f"Call #{number}"},
                  verify_first=False, attempts=1, created_at=datetime.now(UTC).replace(
                      tzinfo=None))


def test_remote_mode_is_paced_to_at_most_one_request_a_second(practice, standin, source):
    # How Open Dental answers a throttled request is not documented: the stand-in's 429 is a
    # guess. What is documented is the pace: one request a second per customer key.
    standin.state.remote_pacing_seconds = 1.0
    assert pace_seconds(api_settings(settings_for(source, "https://api.opendental.com/api/v1")))\
        >= 1.0
    assert pace_seconds(api_settings(settings_for(source, "http://od-server:30223/api/v1"))) == 0
    paced = api_settings(settings_for(source, standin.base_url, pace_seconds=1.05))
    api = OpenDentalApi("od-api", paced, lambda: None)
    try:
        made = [api.create_task(api_action(number)) for number in range(1, 5)]
        assert api.find_task(api_action(2)) == made[1]
    finally:
        api.close()
    arrivals = standin.state.arrivals
    assert standin.state.throttled == 0 and len(arrivals) == 5
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 1.0

    unpaced = api_settings(settings_for(source, standin.base_url, pace_seconds=0))
    api = OpenDentalApi("od-api", unpaced, lambda: None)
    try:
        with pytest.raises(Retryable):                  # unpaced, the throttle objects at once
            for number in (9, 10):
                api.create_task(api_action(number))
    finally:
        api.close()


def test_queries_are_percent_encoded_with_a_space_as_20():
    assert encode_query({"DateTimeOriginal": "2022-07-01 05:30:00", "KeyNum": 5}) == (
        "DateTimeOriginal=2022-07-01%2005%3A30%3A00&KeyNum=5")


def test_what_staff_did_with_tc_syncs_tasks_is_read_back_and_recorded_once(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    cycle(ledger, settings, mappings_with_tasks(tmp_path, backfill=True,
                                                kinds=("unscheduled_treatment",)))
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    dispatcher.run_once()
    done, deleted, moved = (t["TaskNum"] for t in standin.state.tasks()[:3])
    standin.state.staff("UPDATE task SET TaskStatus = 2, DateTimeFinished = NOW() "
                        "WHERE TaskNum = %s", done)
    standin.state.staff("DELETE FROM task WHERE TaskNum = %s", deleted)
    standin.state.staff("UPDATE task SET TaskListNum = %s WHERE TaskNum = %s", INSURANCE_LIST,
                        moved)
    changes = read_back(ledger, dispatcher.targets, ["main"])
    assert {(c.task, c.state) for c in changes} == {
        (str(done), "done"), (str(deleted), "gone"), (str(moved), "moved")}
    (finished,) = [c for c in changes if c.state == "done"]
    assert finished.finished is not None and not finished.finished.startswith("0001")
    assert read_back(ledger, dispatcher.targets, ["main"]) == []     # seen once, told once
    with ledger.connect() as connection:
        recorded = connection.execute(sa.select(item_events.c.item_key).where(
            item_events.c.event == "task_by_staff")).scalars().all()
    assert sorted(recorded) == sorted(c.item_key for c in changes)


def test_a_task_staff_marked_done_while_its_item_is_owed_counts_as_an_attempt(
        practice, standin, source, ledger, tmp_path, request):
    settings = settings_for(source, standin.base_url)
    mappings = mappings_with_tasks(tmp_path, backfill=True, kinds=("unscheduled_treatment",))
    cycle(ledger, settings, mappings)
    dispatcher = closing_later(request, Dispatcher(ledger, settings))
    dispatcher.run_once()                                    # the tasks are made
    task = standin.state.tasks()[0]
    with ledger.connect() as connection:
        key = connection.scalar(sa.select(outbox.c.item_key).where(
            outbox.c.external_id == str(task["TaskNum"])))
        before = connection.execute(sa.select(items.c.attempts).where(
            items.c.item_key == key)).scalar_one()
    standin.state.staff("UPDATE task SET TaskStatus = 2, DateTimeFinished = NOW() "
                        "WHERE TaskNum = %s", task["TaskNum"])
    dispatcher._read_back_at = None                          # its next look is due now
    dispatcher.run_once()
    cycle(ledger, settings, mappings)                        # the next cycle sees it
    with ledger.connect() as connection:
        after = connection.execute(sa.select(items.c.attempts, items.c.status).where(
            items.c.item_key == key)).one()
        contacted = connection.execute(sa.select(item_events.c.detail).where(
            item_events.c.item_key == key, item_events.c.event == "contacted")).scalars().all()
    assert after == (before + 1, "open")
    assert '"what": "task done"' in contacted[-1]


def test_doctor_names_the_creator_users_task_lists_and_priorities_open_dental_lacks(
        practice, standin, source, ledger, tmp_path):
    settings = settings_for(source, standin.base_url)
    site = tmp_path / "m.yaml"
    site.write_text(yaml.safe_dump({"tasks": {"kinds": ["claim_outstanding"], "lists": [
        {"task_list": CLAIMS_LIST, "creator_user": 2, "priority": 9002},
        {"task_list": 77, "creator_user": 3}]}}))
    mappings = load_mappings(site)
    add_users(practice, [(3, "Front desk")])
    execute(practice, "INSERT INTO definition (DefNum, Category, ItemOrder, ItemName, ItemValue,"
            " ItemColor, IsHidden) VALUES (9001, 33, 0, 'High', '', 0, 0)")
    (finding,) = task_target_findings(settings, mappings)
    assert finding.status == "fail"
    assert finding.summary.startswith("Open Dental has no users 2; task lists 77; priorities 9002")

    site.write_text(yaml.safe_dump({"tasks": {"kinds": ["claim_outstanding"], "lists": [
        {"task_list": CLAIMS_LIST, "creator_user": 3, "priority": 9001}]}}))
    (finding,) = task_target_findings(settings, load_mappings(site))
    assert finding.status == "ok"
    wrong_keys = settings_for(source, standin.base_url, customer_key="wrong")
    (finding,) = task_target_findings(wrong_keys, load_mappings(site))
    assert finding.status == "fail" and "permissions" in (finding.fix or "")
