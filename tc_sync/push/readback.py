"""What staff did with tc-sync's own tasks: finished them, deleted them, moved them.

For each task tc-sync made whose close is not owed yet, the task target is asked how the task
stands now. What changed is recorded once, as the item event `task_by_staff` with the target,
the task, its state (`done`, `gone` or `moved`), DateTimeFinished and the task list: ids and
dates only, never the task's text. The follow-up logic can count a task done by staff as an
attempt from these events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import sqlalchemy as sa
import structlog

from tc_sync.ledger.items import STAFF_EVENT, record_event
from tc_sync.ledger.schema import item_events, outbox
from tc_sync.push.outbox import ActionKind, Status
from tc_sync.push.plan import task_step
from tc_sync.push.targets.base import PushError
from tc_sync.push.targets.opendental_api import TaskSeen

log = structlog.get_logger(__name__)
EVENT = STAFF_EVENT
StaffState = Literal["done", "gone", "moved"]


class ReadableTasks(Protocol):
    """A task target that can say how one of its tasks stands."""

    def task_state(self, patient_id: int, task_id: str, since: Any) -> TaskSeen | None: ...


@dataclass(frozen=True)
class StaffChange:
    """One thing staff did with one of tc-sync's tasks, first seen now."""

    item_key: str
    target: str
    task: str
    state: StaffState
    finished: str | None
    task_list: int | None


def staff_state(seen: TaskSeen | None, task_list: int) -> StaffState | None:
    """Done, gone (deleted or detached from the patient), moved to another list, or None."""
    if seen is None:
        return "gone"
    if seen.status == "Done":
        return "done"
    if seen.task_list != task_list:
        return "moved"
    return None


def read_back(engine: sa.Engine, targets: Mapping[str, Any],
              sources: Sequence[str]) -> list[StaffChange]:
    """Ask each task target about the open tasks tc-sync made for these sources; record and
    return what changed since the last look. A target that does not answer is skipped."""
    readable = [name for name, target in targets.items() if hasattr(target, "task_state")]
    if not readable or not sources:
        return []
    closes = sa.select(outbox.c.idempotency_key).where(
        outbox.c.action == ActionKind.CLOSE_TASK.value).scalar_subquery()
    with engine.connect() as connection:
        rows = connection.execute(sa.select(
            outbox.c.idempotency_key, outbox.c.item_key, outbox.c.target, outbox.c.payload,
            outbox.c.external_id, outbox.c.created_at).where(
            outbox.c.action == ActionKind.CREATE_TASK.value,
            outbox.c.status == Status.SENT.value, outbox.c.external_id.is_not(None),
            outbox.c.item_key.is_not(None), outbox.c.source_id.in_(list(sources)),
            outbox.c.target.in_(readable),
            sa.func.replace(outbox.c.idempotency_key, ":create_task:", ":close_task:")
            .not_in(closes)).order_by(outbox.c.action_id)).mappings().all()
    changes = []
    for row in _latest_steps(rows):
        payload = json.loads(row["payload"])
        target: ReadableTasks = targets[row["target"]]
        try:
            seen = target.task_state(int(payload["patient_id"]), str(row["external_id"]),
                                     row["created_at"])
        except PushError as error:
            log.warning("task_read_back_failed", target=row["target"], code=error.code)
            continue
        state = staff_state(seen, int(payload["task_list"]))
        if state is None:
            continue
        change = StaffChange(
            item_key=row["item_key"], target=row["target"], task=str(row["external_id"]),
            state=state, finished=seen.finished if seen else None,
            task_list=seen.task_list if seen else None)
        if _record_once(engine, change):
            changes.append(change)
    return changes


def _latest_steps(rows: Sequence[Any]) -> list[Any]:
    """Each item's latest task at each target (staff finished the earlier steps already), in
    the order given."""
    def step(row: Any) -> tuple[int, int]:
        return task_step(row["idempotency_key"], row["target"], ActionKind.CREATE_TASK,
                         row["item_key"]) or (0, 0)

    latest: dict[tuple[str, str], tuple[int, int]] = {}
    for row in rows:
        mine = (row["item_key"], row["target"])
        latest[mine] = max(latest.get(mine, (0, 0)), step(row))
    return [row for row in rows if step(row) == latest[(row["item_key"], row["target"])]]


def _record_once(engine: sa.Engine, change: StaffChange) -> bool:
    detail = {"target": change.target, "task": change.task, "state": change.state,
              "finished": change.finished, "task_list": change.task_list}
    with engine.begin() as connection:
        earlier = connection.execute(sa.select(item_events.c.detail).where(
            item_events.c.item_key == change.item_key, item_events.c.event == EVENT)).scalars()
        for text in earlier:
            seen = json.loads(text)
            if (seen.get("target"), seen.get("task"), seen.get("state")) == (
                    change.target, change.task, change.state):
                return False
        record_event(connection, change.item_key, EVENT, detail, None)
    log.info("task_by_staff", target=change.target, task=change.task, state=change.state)
    return True
