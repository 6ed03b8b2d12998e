"""Change hints: between scans, what Open Dental's audit trail names reaches the items.

Scenarios on Open Dental's real 21.1.9 schema, rows and audit entries written as its client
writes them (tests/od_office.py). A look at the hints re-reads only the patients the audit
trail names since the last look, deletes included; a change Open Dental does not log waits
for the next scan, which stays the bound.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from tc_sync.config import Settings, SyncSettings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.reconcile import PLAN_EVERY, reconcile_source
from tc_sync.ledger.schema import items, reconcile_state, replica, sync_runs
from tc_sync.pull import hints
from tc_sync.pull.hints import HintedRun, sync_hinted
from tc_sync.pull.patient_rows import key_windows
from tc_sync.pull.progress import StreamProgress
from tc_sync.pull.run import RunResult, sync_source
from tc_sync.records import Appointment, Procedure

from .od_office import Office
from .test_conformance import real_schema  # noqa: F401 - a fixture

TODAY = date.today()
MAPPINGS = load_mappings()
OPTIONS = SyncSettings(safety_lag_seconds=0)
APPOINTMENT_CREATE, APPOINTMENT_EDIT, APPOINTMENT_DELETE = 25, 27, 237
CLAIM_DELETE = 118
NOT_DUE = timedelta(days=365_000)
"""A period in which no stream's walk falls due for centuries (`pull.hinted_scans`)."""


@pytest.fixture
def office(mysql_server, real_schema):  # noqa: F811
    connection = mysql_server.connect(real_schema)
    yield Office(connection)
    connection.close()


def scan(ledger, source, hinted_every: timedelta | None = None) -> RunResult:
    result = sync_source(ledger, "od", source, OPTIONS, hinted_every=hinted_every)
    assert result.outcome == "ok", result.error
    reconcile_source(ledger, "od", MAPPINGS, TODAY, complete_run=True, run_id=result.run_id)
    return result


def look(ledger, source) -> HintedRun:
    found = sync_hinted(ledger, "od", source, OPTIONS)
    if found.run is not None:
        assert found.run.outcome == "ok", found.run.error
        reconcile_source(ledger, "od", MAPPINGS, TODAY, complete_run=True,
                         run_id=found.run.run_id)
    return found


def write(ledger, sql: str, **params: object) -> None:
    with ledger.connect() as connection:
        connection.execute(sa.text(sql), params)
        connection.commit()


def walks_every_table(run: RunResult) -> bool:
    return "deferred" not in {totals.mode for totals in run.streams}


def status(ledger, key: str) -> str | None:
    with ledger.connect() as connection:
        return connection.scalar(sa.select(items.c.status).where(items.c.item_key == key))


def runs(ledger) -> list[str]:
    with ledger.connect() as connection:
        return list(connection.execute(sa.select(sync_runs.c.mode).order_by(
            sync_runs.c.run_id)).scalars())


def rows_in(queue) -> int:
    """The rows of a queue's CSV file (none when it is not there)."""
    return len(queue.read_text().splitlines()) - 1 if queue.exists() else 0


def planned_crown(office: Office) -> tuple[int, int, str]:
    patient = office.patient()
    procedure = office.procedure(patient, "D2740", 1200, planned=TODAY - timedelta(days=30))
    return patient, procedure, f"unscheduled_treatment:od:{patient}"


def schedule(office: Office, patient: int, procedure: int) -> int:
    """Book the planned crown as Open Dental's client does: the appointment, the procedure
    attached, and the audit entry."""
    appointment = book_unlogged(office, patient, procedure)
    office.audit(patient, APPOINTMENT_CREATE, appointment)
    return appointment


def book_unlogged(office: Office, patient: int, procedure: int) -> int:
    """Book the planned crown without the audit entry Open Dental's client writes (as a tool
    writing to the database directly would): no hint names it. The appointment's key."""
    when = datetime.combine(TODAY + timedelta(days=14), datetime.min.time()).replace(hour=9)
    appointment = office.appointment(patient, 1, when)
    office.run("UPDATE procedurelog SET AptNum = %s WHERE ProcNum = %s", appointment, procedure)
    return appointment


def booked_unlogged_after_a_look(office: Office, ledger, source) -> str:
    """A crown planned and synced, the looks begun, then booked without an audit entry: its
    unscheduled-treatment item's key."""
    patient, procedure, key = planned_crown(office)
    scan(ledger, source)
    assert look(ledger, source) == HintedRun(0)
    book_unlogged(office, patient, procedure)
    return key


def test_changed_keys_close_together_share_a_window():
    assert key_windows([]) == []
    assert key_windows([5, 6, 7, 900], width=256) == [(4, 7), (899, 900)]
    assert key_windows([10, 265, 266], width=256) == [(9, 265), (265, 266)]


@pytest.mark.mysql
def test_a_logged_booking_resolves_the_treatment_without_a_scan(office, ledger, source):
    patient, procedure, key = planned_crown(office)
    scan(ledger, source)
    assert status(ledger, key) == "open"

    schedule(office, patient, procedure)
    found = look(ledger, source)

    assert found.patients == 1 and found.run is not None
    assert status(ledger, key) == "resolved"
    assert runs(ledger) == ["full", "hinted"]
    assert found.run.statements <= 30      # the hints, the version, a few keyed reads


@pytest.mark.mysql
def test_a_deleted_appointment_is_found_through_its_patients_hint(office, ledger, source):
    patient = office.patient()
    when = datetime.combine(TODAY - timedelta(days=3), datetime.min.time()).replace(hour=9)
    broken = office.appointment(patient, 5, when)
    other = office.patient()
    kept = office.appointment(other, 5, when)
    scan(ledger, source)
    key = f"broken_appointment:od:{broken}"
    assert status(ledger, key) == "open"

    office.delete("appointment", "AptNum", broken)
    office.audit(patient, APPOINTMENT_DELETE, 0)     # Open Dental zeroes FKey on a delete
    found = look(ledger, source)

    assert found.run is not None and found.run.streams
    assert status(ledger, key) == "resolved"
    assert status(ledger, f"broken_appointment:od:{kept}") == "open"
    with ledger.connect() as connection:
        deleted = connection.scalar(sa.select(replica[Appointment].c.deleted_at).where(
            replica[Appointment].c.pms_id == broken))
    assert deleted is not None


@pytest.mark.mysql
def test_a_deleted_claim_resolves_through_the_hint(office, ledger, source):
    patient = office.patient()
    procedure = office.procedure(patient, "D2740", 1200, status=2,
                                 planned=TODAY - timedelta(days=40))
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    claim = office.claim(patient, plan, sub, [(procedure, 600)], status="U",
                         service=TODAY - timedelta(days=40))
    scan(ledger, source)
    key = f"claim_unsent:od:{claim}"
    assert status(ledger, key) == "open"

    office.delete("claimproc", "ClaimNum", claim)
    office.delete("claim", "ClaimNum", claim)
    office.audit(patient, CLAIM_DELETE, claim)
    look(ledger, source)

    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_a_row_moved_to_another_patient_is_not_taken_for_deleted(office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    other = office.patient()
    scan(ledger, source)

    office.run("UPDATE procedurelog SET PatNum = %s WHERE ProcNum = %s", other, procedure)
    office.audit(patient, 100, procedure)               # ProcEdit, on the old chart only
    look(ledger, source)

    with ledger.connect() as connection:
        row = connection.execute(sa.select(
            replica[Procedure].c.patient_id, replica[Procedure].c.deleted_at).where(
            replica[Procedure].c.pms_id == procedure)).one()
    assert row.deleted_at is None


@pytest.mark.mysql
def test_an_unlogged_change_waits_for_the_next_scan(office, ledger, source):
    patient, procedure, key = planned_crown(office)
    scan(ledger, source)

    book_unlogged(office, patient, procedure)
    found = look(ledger, source)

    assert found == HintedRun(0) and status(ledger, key) == "open"
    assert runs(ledger) == ["full"]                          # a quiet look records no run
    scan(ledger, source)
    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_while_the_hints_keep_up_a_scan_leaves_the_tables_they_reread_to_them(
        office, ledger, source):
    key = booked_unlogged_after_a_look(office, ledger, source)

    left = scan(ledger, source, hinted_every=NOT_DUE)
    modes = {totals.stream: totals.mode for totals in left.streams}
    assert modes["procedures"] == modes["appointments"] == "deferred"
    assert modes["lab_cases"] != "deferred" and modes["benefits"] != "deferred"
    assert left.statements < 20 and status(ledger, key) == "open"   # waits for its walk

    write(ledger, "UPDATE cursors SET since = :since WHERE stream = '@hints'",  # looks
          since=datetime.now() - timedelta(minutes=10))                    # stopped 10 min ago
    assert walks_every_table(scan(ledger, source, hinted_every=NOT_DUE))
    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_after_a_scan_that_did_not_complete_the_next_walks_every_table(office, ledger, source):
    key = booked_unlogged_after_a_look(office, ledger, source)
    write(ledger, "UPDATE sync_runs SET outcome = 'partial'")   # a stream of it failed

    assert walks_every_table(scan(ledger, source, hinted_every=NOT_DUE))
    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_the_first_look_reads_the_audit_trail_from_the_first_sync_on(office, ledger, source):
    patient, procedure, key = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)        # logged before any look
    write(ledger, "UPDATE cursors SET since = :since WHERE stream <> '@hints'",  # the first
          since=datetime.now() - timedelta(minutes=10))              # look comes a while later
    office.run("UPDATE securitylog SET LogDateTime = NOW() - INTERVAL 5 MINUTE")

    assert look(ledger, source).patients == 1
    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_each_look_reads_only_what_was_logged_since_the_last(office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)

    assert look(ledger, source).patients == 1
    with ledger.connect() as connection:    # as if the look were a minute ago
        connection.execute(sa.text(
            "UPDATE cursors SET since = :since WHERE stream = '@hints'"),
            {"since": datetime.now() + timedelta(seconds=60)})
        connection.commit()
    assert look(ledger, source) == HintedRun(0)


@pytest.mark.mysql
def test_no_hints_before_the_first_sync(office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    schedule(office, patient, procedure)
    assert look(ledger, source) == HintedRun(0)
    assert runs(ledger) == []


@pytest.mark.mysql
def test_the_daemon_looks_between_scans_and_rewrites_the_queues_at_most_every_few_seconds(
        office, source, tmp_path):
    from tc_sync.config import settings_from_mapping
    from tc_sync.config.mappings_file import MappingsKeeper
    from tc_sync.ledger.db import open_ledger
    from tc_sync.runtime.daemon import Daemon

    connection = source.connection
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "queues": {"folder": str(tmp_path / "queues"), "formats": ["csv"],
                   "every_seconds": 30},
        "sources": {"od": {"kind": "opendental", "connection": {
            "host": connection.host, "port": connection.port, "user": connection.user,
            "database": connection.database}}}})
    patient, procedure, key = planned_crown(office)
    engine = open_ledger(settings.ledger.url)
    daemon = Daemon(engine, settings, MappingsKeeper())
    queue = tmp_path / "queues" / "treatment.csv"
    try:
        daemon.run_job("od", False)                            # the scan writes the queues
        assert status(engine, key) == "open" and rows_in(queue) == 1

        schedule(office, patient, procedure)
        daemon.run_hints("od")                                  # 30 s not passed: items only
        assert status(engine, key) == "resolved"
        assert rows_in(queue) == 1

        daemon._last_build_at -= 30                             # as if 30 s had passed
        daemon.run_hints("od")                                  # a quiet look builds them
        assert rows_in(queue) == 0
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_a_daemon_walks_every_table_in_its_first_scan_and_leaves_them_to_the_hints_after(
        office, source, tmp_path):
    from tc_sync.config import settings_from_mapping
    from tc_sync.config.mappings_file import MappingsKeeper
    from tc_sync.ledger.db import open_ledger
    from tc_sync.runtime.daemon import Daemon

    connection = source.connection
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"}, "queues": {"enabled": False},
        "sources": {"od": {"kind": "opendental", "connection": {
            "host": connection.host, "port": connection.port, "user": connection.user,
            "database": connection.database},
            "schedule": {"hinted_scan_seconds": 86_400}}}})   # no walk falls due meanwhile
    patient, procedure, key = planned_crown(office)
    engine = open_ledger(settings.ledger.url)
    try:
        first = Daemon(engine, settings, MappingsKeeper())
        first.run_job("od", False)                   # the first sync
        first.run_hints("od")
        book_unlogged(office, patient, procedure)
        first.run_job("od", False)
        assert status(engine, key) == "open"         # left to the hints, which never saw it

        restarted = Daemon(engine, settings, MappingsKeeper())
        restarted.run_job("od", False)
        assert status(engine, key) == "resolved"
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_hints_that_cannot_be_read_leave_the_scans_to_do_the_work(
        office, ledger, source, mysql_server, real_schema, monkeypatch):  # noqa: F811
    monkeypatch.setattr(hints, "_FAILING", {})          # a daemon that has said nothing yet
    patient, procedure, key = planned_crown(office)
    scan(ledger, source)
    with mysql_server.connect(real_schema) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE securitylog")       # a site whose user may not read it
    book_unlogged(office, patient, procedure)

    with capture_logs() as logged:
        assert look(ledger, source) == HintedRun(0) == look(ledger, source)
    assert [entry["event"] for entry in logged] == ["hints_failed"]     # said once, not twice
    assert runs(ledger) == ["full"] and status(ledger, key) == "open"
    scan(ledger, source)
    assert status(ledger, key) == "resolved"


@pytest.mark.mysql
def test_a_bulk_change_too_large_for_a_look_runs_the_scan_at_once(office, source, tmp_path):
    from tc_sync.config import settings_from_mapping
    from tc_sync.cycle import hinted_cycle
    from tc_sync.ledger.db import open_ledger

    connection = source.connection
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "queues": {"enabled": False}, "sync": {"batch_size": 2, "safety_lag_seconds": 0},
        "sources": {"od": {"kind": "opendental", "connection": {
            "host": connection.host, "port": connection.port, "user": connection.user,
            "database": connection.database}}}})
    engine = open_ledger(settings.ledger.url)
    try:
        crowns = [planned_crown(office) for _ in range(2)]
        scan(engine, settings.sources["od"])
        for patient, procedure, _ in crowns:    # two patients: as many as one look reads
            schedule(office, patient, procedure)

        result = hinted_cycle(engine, settings, MAPPINGS, "od")

        assert result is not None and result.run_mode == "scan"
        assert runs(engine) == ["full", "incremental"]
        assert [status(engine, key) for _, _, key in crowns] == ["resolved", "resolved"]
        assert hinted_cycle(engine, settings, MAPPINGS, "od") is None   # those hints are read
    finally:
        engine.dispose()


@pytest.mark.mysql
def cycle_settings(source) -> Settings:
    """The daemon's settings for the office's source `od`, no safety lag, no queue files."""
    from tc_sync.config import settings_from_mapping

    connection = source.connection
    return settings_from_mapping({
        "ledger": {"url": "sqlite://"}, "queues": {"enabled": False},
        "sync": {"safety_lag_seconds": 0},
        "sources": {"od": {"kind": "opendental", "connection": {
            "host": connection.host, "port": connection.port, "user": connection.user,
            "database": connection.database}}}})


def test_a_look_leaves_planning_the_follow_ups_to_a_scan_an_hour_on(office, ledger, source,
                                                                    tmp_path):
    """Planning every open item's day costs a second at 60,000 patients and moves thousands
    of items by a day: a look reconciles without it, and a scan plans once the last plan is
    an hour old."""
    from tc_sync.cycle import cycle_source, hinted_cycle

    (tmp_path / "mappings.yaml").write_text("workload:\n  capacity_per_day: 1\n")
    mappings = load_mappings(tmp_path / "mappings.yaml")
    settings = cycle_settings(source)
    keys = [planned_crown(office)[2] for _ in range(3)]
    cycle_source(ledger, settings, mappings, "od", today=TODAY)
    planned = follow_ups(ledger, keys)
    assert len(set(planned.values())) == 3          # one a day: the capacity

    patient = office.patient()
    office.procedure(patient, "D2740", 1500, planned=TODAY - timedelta(days=30))
    office.audit(patient, 100)                       # ProcEdit
    looked = hinted_cycle(ledger, settings, mappings, "od", today=TODAY)
    assert looked is not None and looked.items.opened == 1
    assert "planned" not in looked.items.by_event
    newcomer = f"unscheduled_treatment:od:{patient}"
    assert follow_ups(ledger, keys) == planned       # nobody moved
    with ledger.connect() as db:
        waiting = db.execute(sa.select(items.c.next_follow_up, items.c.due_on).where(
            items.c.item_key == newcomer)).one()
    assert waiting.next_follow_up == waiting.due_on  # its cadence's day, until planned

    scanned = cycle_source(ledger, settings, mappings, "od", today=TODAY)
    assert "planned" not in scanned.items.by_event   # planned under an hour ago: it waits
    assert follow_ups(ledger, keys) == planned
    with ledger.begin() as db:                       # as an hour passing would
        last = db.scalar(sa.select(reconcile_state.c.planned_at))
        db.execute(reconcile_state.update().values(planned_at=last - PLAN_EVERY))
    scanned = cycle_source(ledger, settings, mappings, "od", today=TODAY)
    assert scanned.items.by_event.get("planned", 0) >= 1
    after = follow_ups(ledger, [*keys, newcomer])
    assert len(set(after.values())) == 4            # one a day again, the newcomer included


def follow_ups(ledger, keys: list[str]) -> dict[str, date]:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items.c.item_key, items.c.next_follow_up)
                                       .where(items.c.item_key.in_(keys))).all())


def backdate_audit(office: Office, ledger, seconds: int) -> None:
    """Every audit entry so far written `seconds` earlier, as if the look came that much
    later; the first sync a minute earlier still, so the looks read them."""
    office.run("UPDATE securitylog SET LogDateTime = NOW() - INTERVAL %s SECOND", seconds)
    write(ledger, "UPDATE cursors SET since = :since WHERE stream <> '@hints'",
          since=datetime.now() - timedelta(minutes=1))


@pytest.mark.mysql
def test_an_entry_a_look_acted_on_is_not_read_again_by_the_next(office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)
    backdate_audit(office, ledger, 10)      # past SETTLE, within HINT_LAG of the next look

    assert look(ledger, source).patients == 1
    assert look(ledger, source) == HintedRun(0)     # the same entry: nothing to read again
    other, other_procedure, other_key = planned_crown(office)
    scan(ledger, source)
    schedule(office, other, other_procedure)
    found = look(ledger, source)
    assert found.patients == 1 and status(ledger, other_key) == "resolved"


@pytest.mark.mysql
def test_an_entry_written_moments_before_a_look_is_read_again_by_the_next(
        office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)        # logged now: its change may still be landing

    assert look(ledger, source).patients == 1
    assert look(ledger, source).patients == 1


@pytest.mark.mysql
def test_an_entry_that_shows_late_with_an_earlier_time_is_still_read(office, ledger, source):
    patient, procedure, _ = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)
    backdate_audit(office, ledger, 10)
    assert look(ledger, source).patients == 1

    late, late_procedure, late_key = planned_crown(office)
    scan(ledger, source)
    appointment = book_unlogged(office, late, late_procedure)
    office.run("INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, "
               "CompName, FKey, LogSource, DefNum, DefNumError, DateTPrevious) VALUES "
               "(%s, 1, NOW() - INTERVAL 20 SECOND, '', %s, 'FRONTDESK2', %s, 0, 0, 0, "
               "'0001-01-01')", APPOINTMENT_CREATE, late, appointment)  # committed late
    assert look(ledger, source).patients == 1
    assert status(ledger, late_key) == "resolved"


@pytest.mark.mysql
def test_a_hints_query_that_names_only_patients_rereads_them_at_every_look(
        office, ledger, source, tmp_path):
    import shutil
    from pathlib import Path

    adapters = tmp_path / "adapters"
    shutil.copytree(Path(__file__).parents[1] / "adapters", adapters)
    (adapters / "opendental" / "hints.sql").write_text(   # a site's own, older query
        "SELECT DISTINCT PatNum AS patient_id FROM securitylog\n"
        "WHERE LogDateTime >= :since AND PatNum > 0 LIMIT :batch_size\n")
    patient, procedure, _ = planned_crown(office)
    scan(ledger, source)
    schedule(office, patient, procedure)
    backdate_audit(office, ledger, 10)

    for _ in range(2):
        found = sync_hinted(ledger, "od", source, OPTIONS, adapters_dir=adapters)
        assert found.patients == 1 and found.run is not None and found.run.outcome == "ok"


def test_a_look_after_a_first_sync_cut_short_leaves_the_items_waiting(office, ledger, source):
    """The daemon stopped during its first sync; a look at the hints after it restarts ends
    ok, but the ledger still lacks whole tables: no item opens until a scan has read them."""
    from tc_sync.cycle import FIRST_SYNC_UNFINISHED, cycle_source, hinted_cycle

    settings = cycle_settings(source)
    patient, _, key = planned_crown(office)
    stop = threading.Event()

    def stop_once_a_stream_is_done(standing: StreamProgress) -> None:
        if standing.done:
            stop.set()

    cut = cycle_source(ledger, settings, MAPPINGS, "od", stop=stop, today=TODAY,
                       progress=stop_once_a_stream_is_done)
    assert cut.run.outcome == "stopped" and len(cut.run.streams) >= 2
    office.audit(patient, 100)                       # ProcEdit
    looked = hinted_cycle(ledger, settings, MAPPINGS, "od", today=TODAY)
    assert looked is not None and looked.run.outcome == "ok"
    assert looked.waiting == FIRST_SYNC_UNFINISHED and status(ledger, key) is None
    whole = cycle_source(ledger, settings, MAPPINGS, "od", today=TODAY)
    assert whole.run.outcome == "ok" and whole.waiting is None
    assert status(ledger, key) == "open"
