"""Every PMS's adapter, end to end: items open, move and resolve as the front desk works.

Each scenario is written once and runs for every PMS of the conformance kit
(tests/adapter_kit): Open Dental in MariaDB (on a SQLite and a PostgreSQL ledger), Dentrix
and Eaglesoft in PostgreSQL read through psqlODBC. Each cycle is a sync and a reconcile, as
the daemon runs them. A scenario a PMS cannot express is skipped, naming why.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import open_ledger

from .adapter_kit import (
    CASES,
    Capability,
    Case,
    Changes,
    FrontDesk,
    needs,
    open_case_desk,
    open_case_ledger,
)
from .adapter_kit.ledger import (
    TODAY,
    cycle,
    details,
    event_count,
    events,
    item,
    item_amounts,
    live_count,
    open_keys,
    open_per_kind,
    per_stream,
    procedures_on,
    replica_rows,
    rows_written,
    status,
    subject,
)


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    """One PMS; a scenario it cannot express is skipped here, before its practice is built."""
    found: Case = request.param
    found.desk.require(getattr(request.function, "needs", ()))
    return found


@pytest.fixture
def desk(case: Case, request: pytest.FixtureRequest) -> Iterator[FrontDesk]:
    with open_case_desk(case, request) as front_desk:
        yield front_desk


@pytest.fixture
def ledger(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    yield from open_case_ledger(case, request, tmp_path)


def test_a_first_sync_reads_every_row_the_adapter_reads(desk, ledger):
    result, _ = cycle(ledger, desk.source())
    assert result.outcome == "ok", result.error
    assert result.rows_quarantined == 0
    for record, count in desk.first_sync_counts().items():
        assert live_count(ledger, record) == count, record.__name__


def test_the_first_cycle_opens_every_kind_the_data_allows_and_a_second_writes_nothing(
        desk, ledger):
    _, first = cycle(ledger, desk.source())
    per_kind = open_per_kind(ledger)
    for kind in desk.kinds:
        assert per_kind.get(kind, 0) > 0, kind
    for kind in desk.kinds_never:        # docs/ODBC.md says why each cannot be told
        assert per_kind.get(kind, 0) == 0, kind
    assert first.opened == sum(per_kind.values())
    history = event_count(ledger)
    again, second = cycle(ledger, desk.source())
    assert second.by_event == {}
    assert event_count(ledger) == history
    assert rows_written(again) == 0
    modes = per_stream(again, "mode")
    if desk.changes is Changes.WHOLE_READS:
        assert set(modes.values()) == {"full"}
    elif desk.changes is Changes.TIMESTAMPS:
        assert modes["procedures"] == modes["appointments"] == "incremental"
        assert sum(s.rows_read for s in again.streams if s.mode == "incremental") == 0
    else:
        assert {modes["procedures"], modes["appointments"]} <= {"incremental", "unchanged"}


def test_booking_resolves_unscheduled_treatment(desk, ledger):
    cycle(ledger, desk.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    booking = desk.book(subject(key), days_ahead=14)
    result, totals = cycle(ledger, desk.source())
    assert per_stream(result, "rows_inserted")["appointments"] == 1
    if desk.changes is Changes.TIMESTAMPS:
        assert per_stream(result, "rows_read")["appointments"] == 1
    assert status(ledger, key) == ("resolved", "scheduled")
    assert events(ledger, key)[-1] == ("resolved", {"reason": "scheduled"})
    assert totals.patients < 5          # only the patient who changed was evaluated
    # The ledger shows on the appointment the procedures the front desk booked on it, only.
    assert procedures_on(ledger, subject(key), booking.appointment) == booking.procedures


def test_a_returned_predetermination_resolves_pending_and_opens_returned(desk, ledger):
    cycle(ledger, desk.source())
    waiting = {subject(key) for key in open_keys(ledger, "unscheduled_treatment")}
    planned = {claim for claim, patient in desk.planned_predeterminations().items()
               if patient in waiting}
    key = next(key for key in open_keys(ledger, "predetermination_pending")
               if subject(key) in planned)
    desk.return_predetermination(subject(key))
    cycle(ledger, desk.source())
    assert item(ledger, key)["resolution"] == "received"
    returned = f"predetermination_returned:main:{subject(key)}"
    assert item(ledger, returned)["status"] == "open"
    if desk.can(Capability.ESTIMATE_ON_A_PREDETERMINATION):
        assert details(ledger, returned)["estimate"] > 0
    else:                               # shown as none, never guessed
        assert details(ledger, returned)["estimate"] == 0


@needs(Capability.CONTACT_LOG)
def test_a_call_logged_counts_as_an_attempt(desk, ledger):
    cycle(ledger, desk.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    before = item(ledger, key)
    desk.log_call(subject(key))
    cycle(ledger, desk.source())
    after = item(ledger, key)
    assert after["attempts"] == before["attempts"] + 1
    assert after["next_follow_up"] > TODAY
    assert events(ledger, key)[-1][0] == "contacted"


def test_breaking_the_only_booking_opens_a_broken_appointment_item(desk, ledger):
    cycle(ledger, desk.source())
    appointment, patient = desk.break_only_booking()
    cycle(ledger, desk.source())
    broken = item(ledger, f"broken_appointment:main:{appointment}")
    assert (broken["status"], broken["patient_id"]) == ("open", patient)


def test_a_deleted_claim_resolves_at_the_next_cycle(desk, ledger):
    cycle(ledger, desk.source())
    key = open_keys(ledger, "claim_outstanding")[0]
    desk.delete_claim(subject(key))
    result, _ = cycle(ledger, desk.source())
    assert per_stream(result, "rows_deleted")["claims"] == 1
    assert status(ledger, key) == ("resolved", "deleted_in_pms")


@needs(Capability.DELETES_LEFT_TO_THE_SWEEP)
def test_with_deletes_left_to_the_sweep_a_deleted_claim_waits_for_it(desk, ledger):
    cycle(ledger, desk.source())
    key = open_keys(ledger, "claim_outstanding")[0]
    desk.delete_claim(subject(key))
    cycle(ledger, desk.source(), deletes_each_cycle=False)
    assert item(ledger, key)["status"] == "open"
    cycle(ledger, desk.source(), full=True)
    assert status(ledger, key) == ("resolved", "deleted_in_pms")


def test_a_partial_pull_resolves_nothing(desk, ledger):
    cycle(ledger, desk.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    desk.book(subject(key), days_ahead=10)
    with desk.unreadable_table() as lost:
        result, _ = cycle(ledger, desk.source())
        assert result.outcome == "partial"
        assert lost.stream in (result.error or "") and lost.says in (result.error or "")
        assert item(ledger, key)["status"] == "open"
    result, _ = cycle(ledger, desk.source())
    assert result.outcome == "ok"
    assert item(ledger, key)["resolution"] == "scheduled"


def test_time_alone_moves_a_claim_into_the_next_aging_bucket(desk, ledger):
    cycle(ledger, desk.source())
    key = next(key for key in open_keys(ledger, "claim_outstanding")
               if details(ledger, key)["bucket"] != "90+")
    bucket = details(ledger, key)["bucket"]
    cycle(ledger, desk.source(), today=TODAY + timedelta(days=31))
    assert details(ledger, key)["bucket"] != bucket
    assert events(ledger, key)[-1][0] == "changed"


@needs(Capability.ODBC_DRIVERS)
def test_both_odbc_drivers_produce_the_same_ledger(desk, ledger, tmp_path):
    other_source, records = desk.second_driver(tmp_path)
    other = open_ledger(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert cycle(ledger, desk.source())[0].outcome == "ok"
        result, _ = cycle(other, other_source)
        assert result.outcome == "ok", result.error
        for record in records:
            assert replica_rows(ledger, record) == replica_rows(other, record), record.__name__
        assert item_amounts(ledger) == item_amounts(other)
    finally:
        other.dispose()
