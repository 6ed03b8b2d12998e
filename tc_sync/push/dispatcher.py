"""The dispatcher: drains the outbox to its targets, once in effect.

Each pass: put back actions whose lease ran out, claim a batch (the claim commits before any
call), deliver it, record each outcome in its own transaction. A task that may already exist
(`verify_first`) is looked up by its marker before it is created again. Alerts for one target
go as one message. A target that is down or refuses the keys is left alone for the rest of
the pass; its actions wait without losing an attempt.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.ledger.items import record_event
from tc_sync.ledger.schema import outbox
from tc_sync.push import outbox as store
from tc_sync.push.outbox import Action, ActionKind, Status
from tc_sync.push.plan import enqueue_alert
from tc_sync.push.targets.base import (
    AlertTarget,
    Permanent,
    PushError,
    Retryable,
    TargetContext,
    TaskTarget,
    UnknownOutcome,
)
from tc_sync.push.targets.registry import build_target

log = structlog.get_logger(__name__)
MAX_BATCHES_PER_PASS = 20


@dataclass
class DispatchTotals:
    """What one pass did."""

    claimed: int = 0
    sent: int = 0
    found: int = 0
    """Tasks found at the target by their marker after a crash (not sent twice)."""
    retried: int = 0
    waiting: int = 0
    dead: int = 0
    cancelled: int = 0
    recovered: int = 0


def default_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def build_targets(engine: sa.Engine, settings: Settings) -> dict[str, Any]:
    """An object per configured target, by name."""
    context = TargetContext(engine, settings)
    return {name: build_target(name, target, context)
            for name, target in settings.push.targets.items()}


class Dispatcher:
    """Delivers one daemon's outbox: the actions of its own sources."""

    def __init__(self, engine: sa.Engine, settings: Settings, *,
                 targets: dict[str, Any] | None = None, owner: str | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.push = settings.push
        self.targets = targets if targets is not None else build_targets(engine, settings)
        self.owner = owner or default_owner()
        self.sources = list(settings.sources)
        self._read_back_at: float | None = None

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the targets' connections."""
        for target in self.targets.values():
            closer = getattr(target, "close", None)
            if closer is not None:
                closer()

    def recover_at_start(self) -> int:
        """Put back every in-flight action of our sources: their dispatcher (us, before a crash
        or a kill) is gone. Call it only while holding the daemon lock for these sources."""
        recovered = store.recover(self.engine, self.sources, everything=True)
        if recovered:
            log.warning("push_recovered_in_flight", actions=recovered)
        return recovered

    def run_once(self, stop: threading.Event | None = None) -> DispatchTotals:
        """Deliver what is due now; returns when nothing due is left (or after a bounded
        number of batches, or when `stop` is set)."""
        totals = DispatchTotals()
        totals.recovered = store.recover(self.engine, self.sources, everything=False)
        down: dict[str, float] = {}
        """Targets refusing everything this pass, and how long their actions should wait."""
        for _ in range(MAX_BATCHES_PER_PASS):
            if stop is not None and stop.is_set():
                break
            usable = [name for name in self.targets if name not in down]
            actions = store.claim(self.engine, owner=self.owner, sources=self.sources,
                                  targets=usable, limit=self.push.batch_size,
                                  lease_seconds=self.push.lease_seconds)
            if not actions:
                break
            totals.claimed += len(actions)
            self._deliver(actions, down, totals)
        if totals.claimed:
            log.info("push_pass", **{k: v for k, v in vars(totals).items() if v})
        self._read_back_if_due()
        return totals

    def _read_back_if_due(self) -> None:
        """Every `push.read_back_minutes`, record what staff did with tc-sync's open tasks."""
        every = self.push.read_back_minutes * 60
        now = time.monotonic()
        if not every or (self._read_back_at is not None and now - self._read_back_at < every):
            return
        self._read_back_at = now
        from tc_sync.push.readback import read_back

        changes = read_back(self.engine, self.targets, self.sources)
        if changes:
            log.info("tasks_read_back", changes=len(changes))

    def _deliver(self, actions: Sequence[Action], down: dict[str, float],
                 totals: DispatchTotals) -> None:
        alerts: dict[str, list[Action]] = defaultdict(list)
        for action in actions:
            if action.action == ActionKind.ALERT:
                alerts[action.target].append(action)
                continue
            if action.target in down:
                self._wait(action, totals, "its target is unavailable", down[action.target])
                continue
            self._attempt([action], down, totals, partial(self._task, action, totals))
        for target, batch in alerts.items():
            if target in down:
                for action in batch:
                    self._wait(action, totals, "its target is unavailable", down[target])
                continue
            alert_target: AlertTarget = self.targets[target]
            self._attempt(batch, down, totals, partial(alert_target.send_alerts, batch))

    def _task(self, action: Action, totals: DispatchTotals) -> str | None:
        target: TaskTarget = self.targets[action.target]
        if action.action == ActionKind.CREATE_TASK:
            if action.verify_first:
                existing = target.find_task(action)
                if existing is not None:
                    totals.found += 1
                    return existing
            return target.create_task(action)
        create_key = str(action.payload["create_key"])
        with self.engine.connect() as connection:
            create = connection.execute(sa.select(
                outbox.c.status, outbox.c.external_id, outbox.c.payload,
                outbox.c.created_at).where(outbox.c.idempotency_key == create_key)).first()
        if create is None or create[0] in (Status.DEAD, Status.CANCELLED):
            raise _NothingToClose
        if create[0] != Status.SENT or create[1] is None:
            raise _NotYet
        target.close_task(action, str(create[1]),
                          {**json.loads(create[2]), "created_at": create[3].isoformat()})
        return str(create[1])

    def _attempt(self, batch: Sequence[Action], down: dict[str, float], totals: DispatchTotals,
                 send: Callable[[], str | None]) -> None:
        try:
            external_id = send()
        except _NotYet:
            for action in batch:
                self._wait(action, totals, "its task is not created yet",
                           self.push.interval_seconds)
            return
        except _NothingToClose:
            for action in batch:
                store.cancel(self.engine, action, self.owner, "the task was never created")
                totals.cancelled += 1
            return
        except PushError as error:
            self._failed(batch, error, down, totals)
            return
        except Exception as error:  # a defect in a target must not stop the others
            log.error("push_target_error", target=batch[0].target,
                      error_class=type(error).__name__)
            self._failed(batch, Retryable(type(error).__name__), down, totals)
            return
        for action in batch:
            if store.finish(self.engine, action, self.owner, external_id,
                            also=partial(_note_on_item, action, external_id)):
                totals.sent += 1
                log.info("push_sent", target=action.target, action=action.action.value,
                         action_id=action.action_id)

    def _wait(self, action: Action, totals: DispatchTotals, why: str, seconds: float) -> None:
        """Put an action back without counting the attempt: it was not tried."""
        store.fail(self.engine, action, self.owner, error=why, retry_in=seconds,
                   verify_first=False,
                   max_attempts=self.push.max_attempts, count_attempt=False)
        totals.waiting += 1

    def _failed(self, batch: Sequence[Action], error: PushError, down: dict[str, float],
                totals: DispatchTotals) -> None:
        permanent = isinstance(error, Permanent)
        retry_after = error.retry_after if isinstance(error, Retryable) else None
        if isinstance(error, Retryable) and error.target_down:
            down[batch[0].target] = retry_after or float(self.push.first_retry_seconds)
        for action in batch:
            wait = retry_after or store.backoff(action.attempts, self.push.first_retry_seconds,
                                                self.push.max_retry_seconds)
            status = store.fail(
                self.engine, action, self.owner, error=str(error), retry_in=wait,
                verify_first=isinstance(error, UnknownOutcome),
                max_attempts=self.push.max_attempts, dead_now=permanent)
            log.warning("push_failed", target=action.target, action=action.action.value,
                        action_id=action.action_id, code=error.code, status=status.value,
                        attempts=action.attempts)
            if status == Status.DEAD:
                totals.dead += 1
                self._dead_letter(action, error)
            else:
                totals.retried += 1

    def _dead_letter(self, action: Action, error: PushError) -> None:
        if action.payload.get("event") == "dead_letter":
            return                       # never an alert about an alert about an alert
        with self.engine.begin() as connection:
            enqueue_alert(connection, self.push, "dead_letter", source_id=action.source_id,
                          key=str(action.action_id), skip_target=action.target,
                          payload={"action_id": action.action_id,
                                   "action": action.action.value, "target": action.target,
                                   "error_code": error.code, "item_key": action.item_key})


def _note_on_item(action: Action, external_id: str | None, connection: sa.Connection) -> None:
    """A task made or closed shows in the item's history (`tc-sync items show`)."""
    if action.item_key is None or action.action == ActionKind.ALERT:
        return
    event = "task_made" if action.action == ActionKind.CREATE_TASK else "task_closed"
    record_event(connection, action.item_key, event,
                 {"target": action.target, "task": external_id}, None)


class _NotYet(Exception):
    """A close whose task is still being created: wait."""


class _NothingToClose(Exception):
    """A close whose task was never created: nothing to do."""
