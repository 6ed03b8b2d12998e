"""Open Dental tasks written straight into its MySQL database: only when an admin opts in.

Open Dental does not support third-party writes to its database; its API is the supported
way (targets.opendental_api). Where the API is not available, this writes what Open Dental
itself writes for a new task, as read from its schema documentation and source:
- `task` with every NOT NULL column set (status New, attached to the patient, the outbox
  marker at the end of Descript), `DateTimeEntry`/`DateTimeOriginal` = the server's NOW();
- `taskancestor`: one row per task list from the task's list up to the trunk;
- `taskunread`: one row per user subscribed (`tasksubscription`) to any of those lists, but not
  the creator;
- `signalod` rows (InvalidType Task 3, TaskList 90, TaskPatient 92) so open workstations
  refresh their task lists.
Most Open Dental tables are MyISAM, so these rows cannot commit atomically: the task row goes
first, carrying the marker, and the other rows are made idempotently, so a crash in between
is repaired when the action is retried (the task is found by its marker, its rows completed).
Closing sets TaskStatus Done (2) with DateTimeFinished and clears its unread rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import structlog

from tc_sync.config import SourceSettings
from tc_sync.config.push import OpenDentalDirectTarget
from tc_sync.push.outbox import Action
from tc_sync.push.targets.base import Permanent, Retryable, TargetContext, UnknownOutcome
from tc_sync.push.text import with_marker

TASK_STATUS_DONE = 2
OBJECT_TYPE_PATIENT = 1
SIGNAL_TASK, SIGNAL_TASK_LIST, SIGNAL_TASK_PATIENT = 3, 90, 92
_TRANSIENT = {1205, 1213, 2002, 2003, 2006, 2013}
_MAX_DEPTH = 50
log = structlog.get_logger(__name__)


class OpenDentalDirect:
    """Task rows written into one Open Dental database by a write-capable MySQL user."""

    @classmethod
    def from_settings(cls, name: str, target: OpenDentalDirectTarget,
                      context: TargetContext) -> OpenDentalDirect:
        log.warning("opendental_direct_writes_unsupported", target=name, source=target.source)
        return cls(name, target, context.settings.sources[target.source])

    def __init__(self, name: str, settings: OpenDentalDirectTarget,
                 source: SourceSettings) -> None:
        self.name = name
        self.settings = settings
        self.connection_settings = source.connection

    @contextmanager
    def _database(self) -> Iterator[pymysql.cursors.Cursor]:
        settings = self.connection_settings
        password = self.settings.password.get_secret_value() if self.settings.password else ""
        try:
            connection = pymysql.connect(
                host=settings.host, port=settings.port, user=self.settings.user,
                password=password, database=settings.database, charset="utf8mb4",
                connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
                write_timeout=settings.write_timeout, autocommit=False)
        except pymysql.err.OperationalError as error:
            raise Retryable(f"mysql-{error.args[0]}", "cannot reach Open Dental's database",
                            target_down=True) from None
        try:
            with connection.cursor() as cursor:
                yield cursor
            connection.commit()
        except pymysql.err.MySQLError as error:
            connection.rollback()
            code = error.args[0] if error.args and isinstance(error.args[0], int) else 0
            if code in _TRANSIENT:
                raise UnknownOutcome(f"mysql-{code}", "the database connection failed") from None
            raise Permanent(f"mysql-{code}", "Open Dental's database refused the write "
                            "(check the user's INSERT/UPDATE grants on task tables)") from None
        finally:
            connection.close()

    def find_task(self, action: Action) -> str | None:
        with self._database() as cursor:
            found = self._find(cursor, action)
            if found is not None:                          # repair a cut-short create
                ancestors = self._ancestors(cursor, int(action.payload["task_list"]))
                self._complete(cursor, found, action, ancestors)
            return None if found is None else str(found)

    def create_task(self, action: Action) -> str:
        payload = action.payload
        with self._database() as cursor:
            ancestors = self._ancestors(cursor, int(payload["task_list"]))
            task_num = self._find(cursor, action)
            if task_num is None:
                cursor.execute(
                    "INSERT INTO task (TaskListNum, DateTask, KeyNum, Descript, TaskStatus, "
                    "IsRepeating, DateType, FromNum, ObjectType, DateTimeEntry, UserNum, "
                    "DateTimeFinished, PriorityDefNum, ReminderGroupId, ReminderType, "
                    "ReminderFrequency, DateTimeOriginal, DescriptOverride) VALUES "
                    "(%s, '0001-01-01', %s, %s, 0, 0, 0, 0, %s, NOW(), %s, "
                    "'0001-01-01 00:00:00', %s, '', 0, 0, NOW(), '')",
                    (payload["task_list"], payload["patient_id"],
                     with_marker(payload["text"], action.marker), OBJECT_TYPE_PATIENT,
                     payload.get("creator_user") or 1, payload.get("priority") or 0))
                task_num = int(cursor.lastrowid)
            self._complete(cursor, task_num, action, ancestors)
        return str(task_num)

    def close_task(self, action: Action, task_id: str, create_payload: dict[str, object]) -> None:
        with self._database() as cursor:
            cursor.execute("SELECT TaskListNum, KeyNum FROM task WHERE TaskNum = %s",
                           (int(task_id),))
            row = cursor.fetchone()
            if row is None:
                return                       # deleted in Open Dental: nothing left to close
            cursor.execute(
                "UPDATE task SET TaskStatus = %s, DateTimeFinished = NOW() "
                "WHERE TaskNum = %s AND TaskStatus <> %s",
                (TASK_STATUS_DONE, int(task_id), TASK_STATUS_DONE))
            cursor.execute("DELETE FROM taskunread WHERE TaskNum = %s", (int(task_id),))
            self._signal(cursor, int(task_id), int(row[0]), int(row[1]))

    # ---------------------------------------------------------------------------------------

    @staticmethod
    def _find(cursor: Any, action: Action) -> int | None:
        cursor.execute(
            "SELECT TaskNum FROM task WHERE KeyNum = %s AND ObjectType = %s AND "
            "TaskListNum = %s AND Descript LIKE %s ORDER BY TaskNum LIMIT 1",
            (action.payload["patient_id"], OBJECT_TYPE_PATIENT, action.payload["task_list"],
             f"%[{action.marker}]"))
        row = cursor.fetchone()
        return None if row is None else int(row[0])

    def _complete(self, cursor: Any, task_num: int, action: Action,
                  ancestors: list[int]) -> None:
        """The rows that go with a new task, each made only if missing."""
        task_list = int(action.payload["task_list"])
        for list_num in ancestors:
            cursor.execute(
                "INSERT INTO taskancestor (TaskNum, TaskListNum) SELECT %s, %s FROM DUAL "
                "WHERE NOT EXISTS (SELECT 1 FROM taskancestor WHERE TaskNum = %s AND "
                "TaskListNum = %s)", (task_num, list_num, task_num, list_num))
        if ancestors:
            marks = ", ".join(["%s"] * len(ancestors))
            cursor.execute(
                f"SELECT DISTINCT UserNum FROM tasksubscription WHERE TaskListNum IN ({marks})",
                tuple(ancestors))
            creator = int(action.payload.get("creator_user") or 1)
            for (user_num,) in cursor.fetchall():
                if int(user_num) == creator:
                    continue
                cursor.execute(
                    "INSERT INTO taskunread (TaskNum, UserNum) SELECT %s, %s FROM DUAL "
                    "WHERE NOT EXISTS (SELECT 1 FROM taskunread WHERE TaskNum = %s AND "
                    "UserNum = %s)", (task_num, user_num, task_num, user_num))
        cursor.execute("SELECT COUNT(*) FROM signalod WHERE IType = %s AND FKey = %s",
                       (SIGNAL_TASK, task_num))
        if not cursor.fetchone()[0]:
            self._signal(cursor, task_num, task_list, int(action.payload["patient_id"]))

    @staticmethod
    def _ancestors(cursor: Any, task_list: int) -> list[int]:
        """The task list and every list above it, up to the trunk (Parent 0)."""
        chain: list[int] = []
        current = task_list
        while current and current not in chain and len(chain) < _MAX_DEPTH:
            cursor.execute("SELECT Parent FROM tasklist WHERE TaskListNum = %s", (current,))
            row = cursor.fetchone()
            if row is None:
                if not chain:
                    raise Permanent("no-task-list", f"task list {task_list} does not exist in "
                                    "Open Dental (see tasks.lists in the mappings)")
                break
            chain.append(current)
            current = int(row[0])
        return chain

    @staticmethod
    def _signal(cursor: Any, task_num: int, task_list: int, patient_id: int) -> None:
        for itype, fkey, fkey_type in ((SIGNAL_TASK, task_num, "Task"),
                                       (SIGNAL_TASK_LIST, task_list, "Undefined"),
                                       (SIGNAL_TASK_PATIENT, patient_id, "PatNum")):
            cursor.execute(
                "INSERT INTO signalod (DateViewing, SigDateTime, FKey, FKeyType, IType, "
                "RemoteRole, MsgValue) VALUES ('0001-01-01', NOW(), %s, %s, %s, 0, '')",
                (fkey, fkey_type, itype))
