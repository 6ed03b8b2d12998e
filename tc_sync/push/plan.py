"""Which actions an item change owes, written into the outbox in the same transaction.

- An item that opens (or reopens: a new episode) makes a task at each task target of its
  source, when the mappings give its kind and clinic a task list.
- An item that resolves closes that task; if the task was never sent it is simply cancelled.
- An item that escalates raises an alert at each alert target that wants escalations.
Idempotency keys are `<target>:<action>:<item key>:<episode>`, so reconciling the same change
twice, or crashing between the change and the push, never makes a second action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import items, outbox
from tc_sync.mappings import Mappings
from tc_sync.push.outbox import ActionKind, Status, cancel_unsent, enqueue, status_of
from tc_sync.push.settings import TASK_TARGET_KINDS, AlertEvent, PushSettings
from tc_sync.push.text import task_text


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
        task_list = self.mappings.tasks.task_list_for(fields["kind"], fields["clinic_id"])
        if task_list is None:
            return
        payload = {
            "patient_id": fields["patient_id"], "kind": fields["kind"],
            "task_list": task_list.task_list,
            "creator_user": self.mappings.tasks.creator_for(task_list),
            "priority": task_list.priority, "text": task_text(fields),
        }
        for target in self.task_targets:
            self.actions += enqueue(
                connection, key=f"{target}:{ActionKind.CREATE_TASK}:{key}:{episode}",
                source_id=self.source_id, item_key=key, target=target,
                action=ActionKind.CREATE_TASK, payload=payload)

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
        """An item resolved: close its task, or cancel the task if it was never sent."""
        for target in self.task_targets:
            create_key = f"{target}:{ActionKind.CREATE_TASK}:{key}:{episode}"
            if cancel_unsent(connection, create_key):
                continue
            state = status_of(connection, create_key)
            if state is None or state[0] in (Status.DEAD, Status.CANCELLED):
                continue
            self.actions += enqueue(
                connection, key=f"{target}:{ActionKind.CLOSE_TASK}:{key}:{episode}",
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
