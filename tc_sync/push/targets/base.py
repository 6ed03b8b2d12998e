"""What every target does, and the three ways an attempt can fail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.push.outbox import Action


@dataclass(frozen=True)
class TargetContext:
    """What a target may need besides its own settings: the ledger and the whole
    configuration. Each target class builds itself from it (`from_settings`)."""

    engine: sa.Engine
    settings: Settings


class PushError(Exception):
    """An attempt failed. `code` is short and PHI-free (an HTTP status, an SMTP code, a class
    name): it is what logs and alerts show. `message` may quote the target's own words and is
    kept in the ledger only."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code


class Retryable(PushError):
    """Nothing reached the target (or it said 'later'): try again after the backoff."""

    def __init__(self, code: str, message: str = "", retry_after: float | None = None,
                 target_down: bool = False) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after
        self.target_down = target_down
        """The target refuses everything now (down, bad keys): stop sending to it this pass."""


class UnknownOutcome(Retryable):
    """The request may have reached the target (a timeout after sending, a 5xx on a create):
    before sending again, look for the action's marker."""


class Permanent(PushError):
    """The target rejected the action as it is (a 400, an unknown task list): a dead letter."""


class TaskTarget(Protocol):
    """Open Dental tasks: create with a marker, find by marker, close."""

    name: str

    def create_task(self, action: Action) -> str:
        """Create the task; return its id (TaskNum)."""

    def find_task(self, action: Action) -> str | None:
        """The id of the task carrying this action's marker, or None if it was never made."""

    def close_task(self, action: Action, task_id: str, create_payload: dict[str, object]) -> None:
        """Mark the task done (or say it is resolved where that is not possible).
        `create_payload` is the create's payload plus its `created_at` (ISO text)."""


class AlertTarget(Protocol):
    """Email and chat: one message for a batch of alerts. No lookup: at least once."""

    name: str

    def send_alerts(self, actions: Sequence[Action]) -> str | None:
        """Deliver the alerts as one message; return a message id if the target gives one."""
