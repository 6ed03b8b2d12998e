"""Direct writes into Open Dental's task tables (opt-in only), read back from its real schema."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pymysql
import pytest

from tc_sync.config import ConfigError, settings_from_mapping
from tc_sync.push.outbox import Action, ActionKind, marker_of
from tc_sync.push.targets.opendental_direct import OpenDentalDirect
from tests.od_api_standin import add_task_lists, create_task_tables

pytestmark = pytest.mark.mysql

TRUNK, INSURANCE, CLAIMS = 40, 41, 42
CREATOR, SUBSCRIBER, OTHER_SUBSCRIBER = 3, 5, 6


@pytest.fixture
def od(mysql_server, mysql_database):
    connection = mysql_server.connect(mysql_database)
    create_task_tables(connection)
    add_task_lists(connection, [(TRUNK, "Office", 0), (INSURANCE, "Insurance", TRUNK),
                                (CLAIMS, "Claims", INSURANCE)])
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO tasksubscription (UserNum, TaskListNum, TaskNum) VALUES (%s, %s, 0)",
            [(SUBSCRIBER, INSURANCE), (OTHER_SUBSCRIBER, TRUNK), (CREATOR, CLAIMS)])
    yield connection
    connection.close()


def target_for(mysql_server, database: str, tmp_path: Path) -> OpenDentalDirect:
    settings = settings_from_mapping({
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": mysql_server.host, "port": mysql_server.port, "database": database,
            "user": "tc_sync_readonly"}}},
        "push": {"targets": {"od-direct": {
            "kind": "opendental_direct", "source": "main", "acknowledge_unsupported": True,
            "user": mysql_server.user, "password": mysql_server.password or None}}},
    })
    target = settings.push.targets["od-direct"]
    assert target.kind == "opendental_direct"
    return OpenDentalDirect("od-direct", target, settings.sources["main"])


def action(kind: ActionKind = ActionKind.CREATE_TASK, **payload: object) -> Action:
    key = "od-direct:create_task:claim_outstanding:main:77:1"
    return Action(action_id=1, idempotency_key=key if kind == ActionKind.CREATE_TASK else
                  key.replace("create", "close"), source_id="main",
                  item_key="claim_outstanding:main:77", target="od-direct", action=kind,
                  payload=payload or {"patient_id": 1234, "kind": "claim_outstanding",
                                      "task_list": CLAIMS, "creator_user": CREATOR,
                                      "priority": None,
                                      "text": "Call Delta Dental about claim #77"},
                  verify_first=False, attempts=1, created_at=datetime(2026, 11, 27))


def rows(connection: pymysql.connections.Connection, sql: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_direct_writes_need_an_explicit_acknowledgement():
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({
            "sources": {"main": {"kind": "opendental"}},
            "push": {"targets": {"od": {"kind": "opendental_direct", "source": "main",
                                        "user": "writer"}}}}, label="site.yaml")
    assert "unsupported by Open Dental" in str(caught.value)
    assert "push.targets.od" in str(caught.value)


def test_a_direct_task_has_every_row_open_dental_writes_and_is_made_once(
        od, mysql_server, mysql_database, tmp_path):
    target = target_for(mysql_server, mysql_database, tmp_path)
    task_num = int(target.create_task(action()))
    assert target.create_task(action()) == str(task_num)          # again: found, not re-made
    (task,) = rows(od, "SELECT TaskListNum, KeyNum, ObjectType, TaskStatus, UserNum, Descript, "
                       "DateTimeEntry, DateTimeOriginal, DateTimeFinished FROM task")
    assert task[:5] == (CLAIMS, 1234, 1, 0, CREATOR)
    assert task[5] == f"Call Delta Dental about claim #77 [{marker_of(action().idempotency_key)}]"
    assert task[6].year >= 2026 and task[7] == task[6]
    assert str(task[8]) == "0001-01-01 00:00:00"
    assert sorted(r[0] for r in rows(od, "SELECT TaskListNum FROM taskancestor")) == [
        TRUNK, INSURANCE, CLAIMS]
    assert sorted(r[0] for r in rows(od, "SELECT UserNum FROM taskunread")) == [
        SUBSCRIBER, OTHER_SUBSCRIBER]                              # not the creator
    assert sorted(rows(od, "SELECT IType, FKey, FKeyType FROM signalod")) == [
        (3, task_num, "Task"), (90, CLAIMS, "Undefined"), (92, 1234, "PatNum")]


def test_a_create_cut_short_after_the_task_row_is_completed_when_retried(
        od, mysql_server, mysql_database, tmp_path):
    target = target_for(mysql_server, mysql_database, tmp_path)
    task_num = int(target.create_task(action()))
    with od.cursor() as cursor:                  # as if the process died after the task row
        for table in ("taskancestor", "taskunread", "signalod"):
            cursor.execute(f"DELETE FROM {table}")
    assert target.find_task(action()) == str(task_num)
    assert len(rows(od, "SELECT * FROM taskancestor")) == 3
    assert len(rows(od, "SELECT * FROM taskunread")) == 2
    assert len(rows(od, "SELECT * FROM task")) == 1


def test_closing_marks_the_task_done_clears_unread_and_signals(
        od, mysql_server, mysql_database, tmp_path):
    target = target_for(mysql_server, mysql_database, tmp_path)
    task_num = target.create_task(action())
    close = action(ActionKind.CLOSE_TASK, create_key=action().idempotency_key,
                   reason="paid")
    target.close_task(close, task_num, dict(action().payload))
    ((status, finished),) = rows(od, "SELECT TaskStatus, DateTimeFinished FROM task")
    assert status == 2 and finished.year >= 2026
    assert rows(od, "SELECT * FROM taskunread") == []
    assert len(rows(od, f"SELECT * FROM signalod WHERE IType = 3 AND FKey = {task_num}")) == 2


def test_an_unknown_task_list_is_refused_before_anything_is_written(
        od, mysql_server, mysql_database, tmp_path):
    from tc_sync.push.targets.base import Permanent

    target = target_for(mysql_server, mysql_database, tmp_path)
    payload = dict(action().payload, task_list=999)
    with pytest.raises(Permanent, match="task list 999 does not exist"):
        target.create_task(action(**payload))
    assert rows(od, "SELECT * FROM task") == []
