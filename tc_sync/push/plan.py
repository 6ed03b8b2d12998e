"""Which actions an item change owes, written into the outbox in the same transaction.

- An item that opens (or reopens: a new episode) makes a task at each task target of its
  source, when the mappings give its kind and clinic a task list.
- Staff finished that task in the PMS while the item is still owed: when the cadence's next
  follow-up comes due, the next step makes the next task.
- An item that resolves closes its latest task; if that was never sent it is cancelled.
- An item that escalates raises an alert at each alert target that wants escalations.
Idempotency keys are `<target>:<action>:<item key>:<episode>`, with `:<step>` after it from an
episode's second task on, so reconciling the same change twice, or crashing between the change
and the push, never makes a second action.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.config.push import TASK_TARGET_KINDS, AlertEvent, PushSettings
from tc_sync.ledger.items import STAFF_EVENT
from tc_sync.ledger.schema import item_events, items, outbox
from tc_sync.push.outbox import ActionKind, Status, cancel_unsent, enqueue, status_of
from tc_sync.push.text import task_text


def task_key(target: str, action: ActionKind, item_key: str, episode: int,
             step: int = 1) -> str:
    """The idempotency key of an item's task action: one per target, episode and step."""
    key = f"{target}:{action}:{item_key}:{episode}"
    return key if step == 1 else f"{key}:{step}"


def task_step(key: str, target: str, action: ActionKind, item_key: str
              ) -> tuple[int, int] | None:
    """The (episode, step) a task action's key names, or None if it is not this item's."""
    prefix = f"{target}:{action}:{item_key}:"
    numbers = key[len(prefix):].split(":") if key.startswith(prefix) else []
    if not 1 <= len(numbers) <= 2 or not all(number.isdigit() for number in numbers):
        return None
    return int(numbers[0]), int(numbers[1]) if len(numbers) == 2 else 1


def latest_tasks(connection: sa.Connection, target: str, item_key: str, episode: int
                 ) -> tuple[int, str | None, str | None]:
    """The latest step of an item's tasks in this episode at a target: (step, status,
    task id); (0, None, None) when the episode made none."""
    rows = connection.execute(sa.select(
        outbox.c.idempotency_key, outbox.c.status, outbox.c.external_id).where(
        outbox.c.item_key == item_key, outbox.c.target == target,
        outbox.c.action == ActionKind.CREATE_TASK.value)).all()
    latest: tuple[int, str | None, str | None] = (0, None, None)
    for key, status, external_id in rows:
        found = task_step(key, target, ActionKind.CREATE_TASK, item_key)
        if found is not None and found[0] == episode and found[1] > latest[0]:
            latest = (found[1], status, external_id)
    return latest


def alert_targets(push: PushSettings, event: AlertEvent) -> list[str]:
    """The alert targets (email, webhook) that want this kind of event."""
    return [name for name, target in push.targets.items()
            if target.kind in ("email", "webhook") and event in getattr(target, "events", ())]


def enqueue_alert(connection: sa.Connection, push: PushSettings, event: AlertEvent, *,
                  source_id: str, key: str, payload: Mapping[str, Any],
                  item_key: str | None = None, skip_target: str | None = None) -> int:
    """An alert to every target that wants `event`; `key` identifies the occurrence."""
    added = 0
    for target in alert_targets(push, event):
        if target == skip_target:
            continue
        added += enqueue(connection, key=f"{target}:alert:{event}:{key}", source_id=source_id,
                         item_key=item_key, target=target, action=ActionKind.ALERT,
                         payload={"event": event, "source": source_id, **payload})
    return added


class OutboxPlanner:
    """Turns one source's item events into outbox actions."""

    def __init__(self, push: PushSettings, mappings: Mappings, source_id: str, *,
                 initial: bool) -> None:
        self.push = push
        self.mappings = mappings
        self.source_id = source_id
        self.suppress_tasks = initial and not mappings.tasks.backfill
        """The first reconcile of a source finds everything already owed: no flood of tasks."""
        self.task_targets = [name for name, target in push.targets.items()
                             if target.kind in TASK_TARGET_KINDS
                             and getattr(target, "source", None) == source_id]
        self.wants_escalations = bool(alert_targets(push, "escalated"))
        self.actions = 0

    @property
    def active(self) -> bool:
        return bool(self.task_targets) or self.wants_escalations

    def opened(self, connection: sa.Connection, key: str, fields: Mapping[str, Any],
               episode: int) -> None:
        """An item opened (or reopened) with these stored fields."""
        if self.suppress_tasks or not self.task_targets:
            return
        payload = self._task_payload(fields)
        if payload is None:
            return
        for target in self.task_targets:
            self.actions += enqueue(
                connection, key=task_key(target, ActionKind.CREATE_TASK, key, episode),
                source_id=self.source_id, item_key=key, target=target,
                action=ActionKind.CREATE_TASK, payload=payload)

    def _task_payload(self, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        task_list = self.mappings.tasks.task_list_for(fields["kind"], fields["clinic_id"])
        if task_list is None:
            return None
        return {
            "patient_id": fields["patient_id"], "kind": fields["kind"],
            "task_list": task_list.task_list,
            "creator_user": self.mappings.tasks.creator_for(task_list),
            "priority": task_list.priority, "text": task_text(fields),
        }

    def next_step(self, connection: sa.Connection, key: str, fields: Mapping[str, Any],
                  episode: int) -> None:
        """An owed item whose next follow-up has come due: where staff finished its latest
        task in the PMS, make the next one (once per step: its key names the step)."""
        payload = self._task_payload(fields) if self.task_targets else None
        if payload is None:
            return
        done = set()
        for text in connection.execute(sa.select(item_events.c.detail).where(
                item_events.c.item_key == key, item_events.c.event == STAFF_EVENT)).scalars():
            seen = json.loads(text)
            if seen.get("state") == "done":
                done.add((seen.get("target"), str(seen.get("task"))))
        for target in self.task_targets:
            step, status, task = latest_tasks(connection, target, key, episode)
            if step and status == Status.SENT and (target, str(task)) in done:
                self.actions += enqueue(
                    connection, key=task_key(target, ActionKind.CREATE_TASK, key, episode,
                                             step + 1),
                    source_id=self.source_id, item_key=key, target=target,
                    action=ActionKind.CREATE_TASK, payload={**payload, "step": step + 1})

    def backfill(self, connection: sa.Connection) -> int:
        """Tasks for open items that have none (`tasks.backfill: true`): items that were owed
        before tasks were configured, or before tc-sync first reconciled this source."""
        if not self.mappings.tasks.backfill or not self.task_targets:
            return 0
        before = self.actions
        for target in self.task_targets:
            expected_key = (sa.literal(f"{target}:{ActionKind.CREATE_TASK}:") + items.c.item_key
                            + sa.literal(":") + sa.cast(items.c.episode, sa.String))
            missing = connection.execute(sa.select(items).where(
                items.c.source_id == self.source_id, items.c.status == "open",
                items.c.kind.in_(self.mappings.tasks.kinds),
                ~sa.exists().where(outbox.c.idempotency_key == expected_key))).mappings().all()
            for row in missing:
                self.opened(connection, row["item_key"], dict(row), row["episode"])
        return self.actions - before

    def resolved(self, connection: sa.Connection, key: str, episode: int, reason: str) -> None:
        """An item resolved: close its latest task (earlier ones staff finished), or cancel
        it if it was never sent."""
        for target in self.task_targets:
            step = max(1, latest_tasks(connection, target, key, episode)[0])
            create_key = task_key(target, ActionKind.CREATE_TASK, key, episode, step)
            if cancel_unsent(connection, create_key):
                continue
            state = status_of(connection, create_key)
            if state is None or state[0] in (Status.DEAD, Status.CANCELLED):
                continue
            self.actions += enqueue(
                connection, key=task_key(target, ActionKind.CLOSE_TASK, key, episode, step),
                source_id=self.source_id, item_key=key, target=target,
                action=ActionKind.CLOSE_TASK,
                payload={"create_key": create_key, "reason": reason})

    def escalated(self, connection: sa.Connection, key: str, fields: Mapping[str, Any],
                  episode: int) -> None:
        """An item ran out of follow-up attempts: tell whoever wants escalations."""
        if not self.wants_escalations:
            return
        self.actions += enqueue_alert(
            connection, self.push, "escalated", source_id=self.source_id,
            key=f"{key}:{episode}", item_key=key,
            payload={"item_key": key, "kind": fields["kind"], "amount": fields["amount"],
                     "attempts": fields["attempts"], "queue": fields.get("queue"),
                     "owner": fields.get("owner")})
