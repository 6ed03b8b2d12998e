"""The outbox table's state machine: enqueue, claim with a lease, finish, retry, recover.

pending ──claim──▶ in_flight ──▶ sent | retry (due later) | dead (after max attempts)
cancelled: a task never sent whose item resolved first (nothing to create, nothing to close).
A lease that runs out (the dispatcher died mid-call) puts the action back to pending with
`verify_first`: its target is asked for the action's marker before anything is sent again.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tc_sync.ledger.schema import outbox
from tc_sync.ledger.state import now_utc


class Status(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    RETRY = "retry"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class ActionKind(StrEnum):
    CREATE_TASK = "create_task"
    CLOSE_TASK = "close_task"
    ALERT = "alert"


DUE = (Status.PENDING.value, Status.RETRY.value)


@dataclass(frozen=True)
class Action:
    """One claimed outbox row, as a target sees it."""

    action_id: int
    idempotency_key: str
    source_id: str
    item_key: str | None
    target: str
    action: ActionKind
    payload: dict[str, Any]
    verify_first: bool
    attempts: int
    created_at: datetime
    external_id: str | None = None

    @property
    def marker(self) -> str:
        """A short tag carried by what the action creates, to find it again: `tc:1a2b3c4d5e6f`."""
        return marker_of(self.idempotency_key)


def marker_of(idempotency_key: str) -> str:
    return "tc:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]


def _row_to_action(row: Mapping[str, Any]) -> Action:
    return Action(
        action_id=row["action_id"], idempotency_key=row["idempotency_key"],
        source_id=row["source_id"], item_key=row["item_key"], target=row["target"],
        action=ActionKind(row["action"]), payload=json.loads(row["payload"]),
        verify_first=bool(row["verify_first"]), attempts=row["attempts"],
        created_at=row["created_at"], external_id=row["external_id"])


def enqueue(connection: sa.Connection, *, key: str, source_id: str, item_key: str | None,
            target: str, action: ActionKind, payload: Mapping[str, Any]) -> bool:
    """Add an action unless one with this idempotency key exists; True when added.

    Call it inside the transaction that makes the decision, so both commit or neither does.
    """
    now = now_utc()
    insert = (postgresql.insert(outbox) if connection.dialect.name == "postgresql"
              else sqlite.insert(outbox))
    result = connection.execute(insert.values(
        idempotency_key=key, source_id=source_id, item_key=item_key, target=target,
        action=action.value, payload=json.dumps(payload, sort_keys=True, default=str),
        status=Status.PENDING.value, verify_first=False, attempts=0, next_attempt_at=now,
        created_at=now, updated_at=now).on_conflict_do_nothing(
        index_elements=["idempotency_key"]))
    return bool(result.rowcount)


def cancel_unsent(connection: sa.Connection, key: str) -> bool:
    """Cancel the action with this key if it cannot have reached its target; True if so."""
    result = connection.execute(outbox.update().where(
        outbox.c.idempotency_key == key, outbox.c.status.in_(DUE),
        outbox.c.verify_first.is_(False)).values(
        status=Status.CANCELLED.value, updated_at=now_utc(), done_at=now_utc()))
    return bool(result.rowcount)


def status_of(connection: sa.Connection, key: str) -> tuple[Status, str | None] | None:
    """The status and external id of the action with this key, or None if there is none."""
    row = connection.execute(sa.select(outbox.c.status, outbox.c.external_id).where(
        outbox.c.idempotency_key == key)).first()
    return None if row is None else (Status(row[0]), row[1])


def claim(engine: sa.Engine, *, owner: str, sources: Sequence[str], targets: Iterable[str],
          limit: int, lease_seconds: int, now: datetime | None = None) -> list[Action]:
    """Lease up to `limit` due actions and commit the lease before anything is sent.

    On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so daemons sharing a ledger
    never claim the same row; each daemon claims only its own sources' actions.
    """
    moment = now or now_utc()
    names = list(targets)
    if not names or not sources:
        return []
    due = (sa.select(outbox.c.action_id)
           .where(outbox.c.status.in_(DUE), outbox.c.next_attempt_at <= moment,
                  outbox.c.source_id.in_(list(sources)), outbox.c.target.in_(names))
           .order_by(outbox.c.next_attempt_at, outbox.c.action_id).limit(limit)
           .with_for_update(skip_locked=True))
    claimed = (outbox.update()
               .where(outbox.c.action_id.in_(due.scalar_subquery()),
                      outbox.c.status.in_(DUE))
               .values(status=Status.IN_FLIGHT.value, lease_owner=owner,
                       lease_expires_at=moment + timedelta(seconds=lease_seconds),
                       attempts=outbox.c.attempts + 1, updated_at=moment)
               .returning(*outbox.c))
    with engine.begin() as connection:
        rows = connection.execute(claimed).mappings().all()
    return sorted((_row_to_action(dict(row)) for row in rows), key=lambda a: a.action_id)


def finish(engine: sa.Engine, action: Action, owner: str, external_id: str | None,
           also: Callable[[sa.Connection], None] | None = None) -> bool:
    """Record that the action reached its target (and run `also` in the same transaction);
    False if the lease was lost meanwhile."""
    now = now_utc()
    with engine.begin() as connection:
        result = connection.execute(outbox.update().where(
            outbox.c.action_id == action.action_id, outbox.c.status == Status.IN_FLIGHT.value,
            outbox.c.lease_owner == owner).values(
            status=Status.SENT.value, external_id=external_id, lease_owner=None,
            lease_expires_at=None, last_error=None, verify_first=False, updated_at=now,
            done_at=now))
        if result.rowcount and also is not None:
            also(connection)
    return bool(result.rowcount)


def cancel(engine: sa.Engine, action: Action, owner: str, why: str) -> None:
    """Nothing to do any more (a close whose task was never created)."""
    now = now_utc()
    with engine.begin() as connection:
        connection.execute(outbox.update().where(
            outbox.c.action_id == action.action_id, outbox.c.lease_owner == owner).values(
            status=Status.CANCELLED.value, lease_owner=None, lease_expires_at=None,
            last_error=why[:500], updated_at=now, done_at=now))


def backoff(attempts: int, first: int, most: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt: doubling from `first`, at most `most`, ±20% jitter."""
    base = min(float(most), first * 2.0 ** max(0, attempts - 1))
    return base * (rng or random).uniform(0.8, 1.2)


def fail(engine: sa.Engine, action: Action, owner: str, *, error: str, retry_in: float | None,
         verify_first: bool, max_attempts: int, dead_now: bool = False,
         count_attempt: bool = True) -> Status:
    """Record a failed attempt: retry later, or dead when attempts are used up (or `dead_now`).

    `count_attempt=False` gives the attempt back (the action was only waiting, e.g. a close
    whose task is still being created). Returns the new status.
    """
    now = now_utc()
    attempts = action.attempts if count_attempt else action.attempts - 1
    dead = dead_now or (count_attempt and attempts >= max_attempts)
    status = Status.DEAD if dead else Status.RETRY
    with engine.begin() as connection:
        connection.execute(outbox.update().where(
            outbox.c.action_id == action.action_id, outbox.c.lease_owner == owner).values(
            status=status.value, attempts=attempts, lease_owner=None, lease_expires_at=None,
            last_error=error[:500], verify_first=verify_first or action.verify_first,
            next_attempt_at=now + timedelta(seconds=retry_in or 0), updated_at=now,
            done_at=now if dead else None))
    return status


def recover(engine: sa.Engine, sources: Sequence[str], *, everything: bool,
            now: datetime | None = None) -> int:
    """Put back actions whose dispatcher died: leases that ran out, or (`everything`, at the
    start of the daemon that owns these sources) every in-flight one. They are sent again only
    after their target is asked whether they arrived (`verify_first`)."""
    moment = now or now_utc()
    condition = [outbox.c.status == Status.IN_FLIGHT.value,
                 outbox.c.source_id.in_(list(sources))]
    if not everything:
        condition.append(outbox.c.lease_expires_at < moment)
    with engine.begin() as connection:
        result = connection.execute(outbox.update().where(*condition).values(
            status=Status.PENDING.value, verify_first=True, lease_owner=None,
            lease_expires_at=None, next_attempt_at=moment, updated_at=moment))
    return int(result.rowcount)


def retry_dead(engine: sa.Engine, action_ids: Sequence[int] | None) -> int:
    """Give dead letters (these, or all) a fresh set of attempts. Any of them may have reached
    its target before it died (a 400 from an office that timed out), so each is looked up at
    its target by its marker before it is sent again (`verify_first`)."""
    now = now_utc()
    condition = [outbox.c.status == Status.DEAD.value]
    if action_ids is not None:
        condition.append(outbox.c.action_id.in_(list(action_ids)))
    with engine.begin() as connection:
        result = connection.execute(outbox.update().where(*condition).values(
            status=Status.PENDING.value, attempts=0, verify_first=True, next_attempt_at=now,
            done_at=None, updated_at=now))
    return int(result.rowcount)
