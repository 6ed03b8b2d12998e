"""The outbox on SQLite and PostgreSQL: once per key, leases, recovery, and daemons sharing it."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from tc_sync.ledger.schema import outbox
from tc_sync.ledger.state import now_utc
from tc_sync.push import outbox as store
from tc_sync.push.outbox import ActionKind, Status


def fill(engine: sa.Engine, count: int, source_id: str = "a") -> None:
    with engine.begin() as connection:
        for number in range(count):
            store.enqueue(connection, key=f"t:alert:{source_id}:{number}", source_id=source_id,
                          item_key=None, target="t", action=ActionKind.ALERT,
                          payload={"event": "health"})


def by_status(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(outbox.c.status, sa.func.count())
                                       .group_by(outbox.c.status)).all())


def test_the_same_decision_enqueued_twice_is_one_action(ledger):
    fill(ledger, 3)
    fill(ledger, 3)
    assert by_status(ledger) == {"pending": 3}


def test_two_dispatchers_claiming_at_once_never_get_the_same_action(ledger):
    fill(ledger, 300)
    claimed: dict[str, list[int]] = {"one": [], "two": []}

    def drain(owner: str) -> None:
        while batch := store.claim(ledger, owner=owner, sources=["a"], targets=["t"],
                                   limit=7, lease_seconds=60):
            claimed[owner].extend(action.action_id for action in batch)

    workers = [threading.Thread(target=drain, args=(owner,)) for owner in claimed]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not set(claimed["one"]) & set(claimed["two"])
    assert len(claimed["one"]) + len(claimed["two"]) == 300
    assert by_status(ledger) == {"in_flight": 300}


def test_a_daemon_claims_only_its_own_sources_actions(ledger):
    fill(ledger, 5, "a")
    fill(ledger, 4, "b")
    mine = store.claim(ledger, owner="practice-a", sources=["a"], targets=["t"], limit=50,
                       lease_seconds=60)
    assert {action.source_id for action in mine} == {"a"} and len(mine) == 5


def test_an_expired_lease_comes_back_to_be_verified_before_it_is_sent_again(ledger):
    fill(ledger, 2)
    (first, second) = store.claim(ledger, owner="gone", sources=["a"], targets=["t"], limit=2,
                                  lease_seconds=30)
    assert store.finish(ledger, second, "gone", None)
    assert store.recover(ledger, ["a"], everything=False) == 0       # lease still running
    later = now_utc() + timedelta(seconds=31)
    assert store.recover(ledger, ["a"], everything=False, now=later) == 1
    (again,) = store.claim(ledger, owner="new", sources=["a"], targets=["t"], limit=5,
                           lease_seconds=30, now=later)
    assert again.action_id == first.action_id and again.verify_first and again.attempts == 2
    assert not store.finish(ledger, first, "gone", None)             # the old lease is void


def test_failures_back_off_and_become_dead_letters_that_retry_brings_back(ledger):
    fill(ledger, 1)
    for attempt in range(1, 4):
        (action,) = store.claim(ledger, owner="d", sources=["a"], targets=["t"], limit=1,
                                lease_seconds=30, now=now_utc() + timedelta(days=attempt))
        status = store.fail(ledger, action, "d", error="503", retry_in=60, verify_first=False,
                            max_attempts=3)
        assert status == (Status.DEAD if attempt == 3 else Status.RETRY)
    assert by_status(ledger) == {"dead": 1}
    assert store.retry_dead(ledger, None) == 1
    (action,) = store.claim(ledger, owner="d", sources=["a"], targets=["t"], limit=1,
                            lease_seconds=30)
    assert action.attempts == 1
    assert action.verify_first       # it may have arrived before it died: look before resending


def test_backoff_doubles_up_to_its_ceiling_with_jitter():
    delays = [store.backoff(n, 60, 3600) for n in range(1, 10)]
    assert 48 <= delays[0] <= 72 and 96 <= delays[1] <= 144
    assert all(delay <= 3600 * 1.2 for delay in delays)
    assert delays[-1] >= 3600 * 0.8
