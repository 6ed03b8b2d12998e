"""Syncing an Open Dental database in MariaDB into the ledger, the way a practice would.

What only Open Dental has (schema versions, storage engines, MySQL clients, key windows
scanned side by side, quarantine of its codes); the item scenarios every PMS passes are in
test_adapter_kit.py, with the front desk of tests/adapter_kit/opendental.py.

The PMS side is the project's fixture schema (tc_sync.demo.odschema) holding the synthetic demo
practice, in MyISAM and InnoDB, at schema versions before and after 24.2.1. Rows are changed
with plain UPDATEs, so MySQL bumps DateTStamp / SecDateTEdit exactly as under Open Dental.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa

from tc_sync.adapter.loading import load_adapter
from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.drivers.mysql import MysqlDriver
from tc_sync.ledger.schema import cursors, quarantine, replica, sync_runs
from tc_sync.pull.run import RunResult, sync_source
from tc_sync.records import Appointment, Claim, Contact, Coverage, Patient, Procedure

from .adapter_kit.ledger import TODAY, live_count, per_stream
from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.mysql

STREAM_TABLES = {
    "patients": "patient", "procedures": "procedurelog", "procedure_codes": "procedurecode",
    "appointments": "appointment", "treatment_plans": "treatplan", "claims": "claim",
    "claim_procedures": "claimproc", "coverages": "patplan", "benefits": "benefit",
    "contact_log": "commlog", "providers": "provider", "clinics": "clinic",
    "coverage_categories": "covcat",
}


@pytest.fixture
def practice(mysql_server, mysql_database, request) -> Iterator[pymysql.connections.Connection]:
    """The demo practice loaded into a fresh MariaDB database."""
    engine, version = getattr(request, "param", ("MyISAM", "24.3.10.0"))
    connection = mysql_server.connect(mysql_database)
    write_mysql(connection, PracticeSpec(today=TODAY), engine=engine, version=version)
    yield connection
    connection.close()


OPTIONS = SyncSettings(batch_size=100, window_keys=1000, safety_lag_seconds=0)


def run(ledger, source, *, full=False, options=OPTIONS, factory=None) -> RunResult:
    kwargs = {"driver_factory": factory} if factory else {}
    return sync_source(ledger, "main", source, options, full=full, **kwargs)


def execute(connection, sql: str, *params) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        return cursor.execute(sql, params)


def pms_count(connection, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def ledger_row(ledger, record, key: int) -> dict:
    table = replica[record]
    with ledger.connect() as connection:
        row = connection.execute(sa.select(table).where(
            table.c.source_id == "main", table.c.pms_id == key)).mappings().one()
        return dict(row)


def changed_in(ledger, record, result: RunResult) -> list[int]:
    """Keys of `record` rows the run inserted, changed or marked deleted."""
    table = replica[record]
    with ledger.connect() as connection:
        started = connection.execute(sa.select(sync_runs.c.started_at).where(
            sync_runs.c.run_id == result.run_id)).scalar_one()
        return sorted(connection.execute(sa.select(table.c.pms_id).where(
            table.c.source_id == "main", table.c.last_changed >= started)).scalars())


@pytest.mark.parametrize("practice", [("MyISAM", "24.3.10.0"), ("InnoDB", "24.3.10.0"),
                                      ("MyISAM", "21.1.9.0"), ("InnoDB", "22.4.7.0")],
                         indirect=True, ids=["myisam-24.3", "innodb-24.3", "myisam-21.1",
                                             "innodb-22.4"])
def test_a_first_sync_brings_every_row_of_every_stream(practice, source, ledger):
    result = run(ledger, source)
    assert result.outcome == "ok", result.error
    assert result.rows_quarantined == 0
    records = {s.stream: s for s in result.streams}
    for stream, table in STREAM_TABLES.items():
        assert records[stream].mode == "full"
        assert records[stream].rows_inserted == pms_count(practice, table), stream
    assert live_count(ledger, Patient) == pms_count(practice, "patient")


@pytest.mark.parametrize("practice", [("MyISAM", "21.1.9.0")], indirect=True)
def test_before_24_2_1_the_planned_order_comes_from_plannedappt(practice, source, ledger):
    assert run(ledger, source).outcome == "ok"
    with practice.cursor() as cursor:
        cursor.execute("SELECT AptNum, ItemOrder FROM plannedappt LIMIT 1")
        apt_num, item_order = cursor.fetchone()
    assert ledger_row(ledger, Appointment, apt_num)["planned_order"] == item_order


def test_an_incremental_sync_brings_exactly_the_rows_changed_since(practice, source, ledger):
    assert run(ledger, source).outcome == "ok"
    execute(practice, "UPDATE procedurelog SET ProcFee = 4321.5 WHERE ProcNum IN (3, 5)")
    execute(practice, "UPDATE patient SET Preferred = 'Sunny' WHERE PatNum = 2")
    execute(practice, "INSERT INTO commlog (PatNum, CommDateTime, CommType, Note, Mode_, "
            "SentOrReceived) VALUES (2, NOW(), 0, '', 3, 1)")
    new_contact = practice.insert_id()
    result = run(ledger, source)
    assert result.outcome == "ok"
    assert all(t.mode in ("incremental", "unchanged") for t in result.streams
               if t.stream not in ("definitions", "clinics", "coverage_categories",
                                   "coverage_spans", "plan_attachments", "laboratories",
                                   "users"))   # no cursor: read whole
    assert changed_in(ledger, Procedure, result) == [3, 5]
    assert changed_in(ledger, Patient, result) == [2]
    assert changed_in(ledger, Contact, result) == [new_contact]
    assert str(ledger_row(ledger, Procedure, 3)["fee"]) == "4321.50"
    assert ledger_row(ledger, Patient, 2)["preferred_name"] == "Sunny"
    untouched = [s for s in result.streams
                 if s.stream not in ("procedures", "patients", "contact_log")]
    assert sum(s.rows_inserted + s.rows_updated + s.rows_deleted for s in untouched) == 0


def test_with_nothing_changed_a_run_asks_the_pms_three_things_and_reads_no_table(
        practice, source, ledger):
    time.sleep(1.1)   # the practice's last write is now older than the first pull (1 s clock)
    assert run(ledger, source).outcome == "ok"
    quiet = run(ledger, source)
    assert quiet.outcome == "ok"
    assert {t.mode for t in quiet.streams} == {"unchanged"}
    # Its version, its clock and when each table was last written: one statement each.
    assert quiet.statements == 3


SPREAD_CHANGES = [*range(1, 151), 1500, 2500, *range(2600, 2760)]
"""Procedures changed across several key windows, the first and third cut short by LIMIT."""


@pytest.mark.parametrize("second_connection", ["opens", "refused"])
def test_windows_scanned_side_by_side_bring_exactly_the_changed_rows(
        practice, source, ledger, second_connection):
    opened: list[MysqlDriver] = []

    def factory(settings: SourceSettings) -> Driver:
        if opened and second_connection == "refused":
            raise DriverError("too many connections")
        opened.append(MysqlDriver(settings.connection))
        return opened[-1]

    assert run(ledger, source).outcome == "ok"
    assert pms_count(practice, "procedurelog") > 2760
    keys = ", ".join(map(str, SPREAD_CHANGES))
    execute(practice, f"UPDATE procedurelog SET ProcFee = ProcFee + 1 WHERE ProcNum IN ({keys})")
    options = OPTIONS.model_copy(update={"scan_connections": 2})
    result = run(ledger, source, options=options, factory=factory)
    assert result.outcome == "ok", result.error
    assert changed_in(ledger, Procedure, result) == SPREAD_CHANGES
    assert per_stream(result, "rows_read")["procedures"] == len(SPREAD_CHANGES)
    assert len(opened) == (2 if second_connection == "opens" else 1)


def coverage_keys(practice) -> tuple[int, int, int, int]:
    """A coverage with a subscriber, plan and carrier: its patplan, inssub, insplan, carrier."""
    with practice.cursor() as cursor:
        cursor.execute("SELECT pp.PatPlanNum, sub.InsSubNum, ip.PlanNum, car.CarrierNum "
                       "FROM patplan pp JOIN inssub sub ON sub.InsSubNum = pp.InsSubNum "
                       "JOIN insplan ip ON ip.PlanNum = sub.PlanNum "
                       "JOIN carrier car ON car.CarrierNum = ip.CarrierNum "
                       "ORDER BY pp.PatPlanNum LIMIT 1")
        return tuple(int(value) for value in cursor.fetchone())


@pytest.mark.parametrize(("change", "field", "value"), [
    ("UPDATE patplan SET Ordinal = 2 WHERE PatPlanNum = {patplan}", "ordinal", 2),
    ("UPDATE inssub SET DateTerm = '2031-12-31' WHERE InsSubNum = {inssub}", "date_term",
     "2031-12-31"),
    ("UPDATE insplan SET GroupName = 'Renamed group' WHERE PlanNum = {insplan}",
     "group_name", "Renamed group"),
    ("UPDATE carrier SET CarrierName = 'Renamed Mutual' WHERE CarrierNum = {carrier}",
     "carrier_name", "Renamed Mutual")])
def test_a_coverage_is_read_again_when_its_plan_subscriber_or_carrier_changes(
        practice, source, ledger, change, field, value):
    assert run(ledger, source).outcome == "ok"
    patplan, inssub, insplan, carrier = coverage_keys(practice)
    execute(practice, change.format(patplan=patplan, inssub=inssub, insplan=insplan,
                                    carrier=carrier))
    result = run(ledger, source)
    assert result.outcome == "ok", result.error
    assert patplan in changed_in(ledger, Coverage, result)
    assert str(ledger_row(ledger, Coverage, patplan)[field]) == str(value)


class Wrapped(Driver):
    """The real driver, wrapped: statements, the clock and closing go through to it."""

    def __init__(self, inner: MysqlDriver) -> None:
        super().__init__()
        self.inner, self.name = inner, inner.name

    def _query(self, sql, params):
        return self.inner.query(sql, params)

    def server_now(self):
        return self.inner.server_now()

    def close(self):
        self.inner.close()


class WindowRecorder(Wrapped):
    """Records the key window of each statement of one SQL file."""

    def __init__(self, inner: MysqlDriver, first_line: str) -> None:
        super().__init__(inner)
        self.first_line = first_line
        self.windows: list[tuple[int, int]] = []

    def _query(self, sql, params):
        if sql.lstrip().startswith(self.first_line) and "until_key" in params:
            self.windows.append((int(params["after_key"]), int(params["until_key"])))
        return super()._query(sql, params)

    def write_times(self, tables):
        return self.inner.write_times(tables)


def test_a_stream_that_joins_per_key_scans_the_narrower_window_its_manifest_names(
        practice, source, ledger):
    spec = load_adapter("opendental").manifest.streams["coverages"]
    assert spec.window_keys is not None and spec.window_keys < 50_000
    first_line = (Path(load_adapter("opendental").folder, spec.sql).read_text("utf-8")
                  .lstrip().splitlines()[0])
    assert run(ledger, source).outcome == "ok"
    far = spec.window_keys * 3 + 7
    execute(practice, f"INSERT INTO patplan (PatPlanNum, PatNum, Ordinal, InsSubNum) "
            f"SELECT {far}, PatNum, 2, InsSubNum FROM patplan ORDER BY PatPlanNum LIMIT 1")
    recorders: list[WindowRecorder] = []

    def factory(settings: SourceSettings) -> Driver:
        recorders.append(WindowRecorder(MysqlDriver(settings.connection), first_line))
        return recorders[-1]

    wide = OPTIONS.model_copy(update={"window_keys": 50_000})
    result = run(ledger, source, options=wide, factory=factory)
    assert result.outcome == "ok", result.error
    assert changed_in(ledger, Coverage, result) == [far]
    windows = [window for recorder in recorders for window in recorder.windows]
    assert max(high for _, high in windows) == far      # the walk reached the new row
    assert max(high - low for low, high in windows) == spec.window_keys


class MidPullWriter(Wrapped):
    """After the Nth procedures batch, acts like the front desk."""

    def __init__(self, inner: MysqlDriver, after_batches: int,
                 action: Callable[[], None]) -> None:
        super().__init__(inner)
        self.after_batches, self.action = after_batches, action
        self.batches = 0

    def _query(self, sql, params):
        result = self.inner.query(sql, params)
        if "FROM procedurelog pl" in sql:
            self.batches += 1
            if self.batches == self.after_batches:
                self.action()
        return result


def test_rows_changed_during_a_pull_arrive_in_the_next_one(practice, source, ledger):
    def front_desk():
        execute(practice, "UPDATE procedurelog SET ProcFee = 11.0 WHERE ProcNum = 1")
        execute(practice, "UPDATE procedurelog SET ProcFee = 22.0 WHERE ProcNum = "
                "(SELECT MAX(ProcNum) FROM (SELECT ProcNum FROM procedurelog) AS p)")

    first = run(ledger, source, factory=lambda s: MidPullWriter(MysqlDriver(s.connection), 3,
                                                                  front_desk))
    assert first.outcome == "ok"
    last = pms_count(practice, "procedurelog")
    second = run(ledger, source)
    assert str(ledger_row(ledger, Procedure, 1)["fee"]) == "11.00"
    assert str(ledger_row(ledger, Procedure, last)["fee"]) == "22.00"
    assert 1 in changed_in(ledger, Procedure, second)


def test_a_hard_delete_is_found_by_the_next_cycle_and_the_row_is_kept(practice, source, ledger):
    run(ledger, source)
    execute(practice, "DELETE FROM appointment WHERE AptNum = 4")
    execute(practice, "DELETE FROM claim WHERE ClaimNum = 2")
    incremental = run(ledger, source)
    assert per_stream(incremental, "rows_deleted")["appointments"] == 1
    assert per_stream(incremental, "rows_deleted")["claims"] == 1
    assert ledger_row(ledger, Appointment, 4)["deleted_at"] is not None
    assert ledger_row(ledger, Claim, 2)["deleted_at"] is not None
    assert live_count(ledger, Appointment) == pms_count(practice, "appointment")


def test_with_deletes_left_to_the_sweep_the_full_pull_finds_them(practice, source, ledger):
    run(ledger, source)
    execute(practice, "DELETE FROM appointment WHERE AptNum = 4")
    execute(practice, "DELETE FROM claim WHERE ClaimNum = 2")
    incremental = run(ledger, source, options=OPTIONS.model_copy(
        update={"deletes_each_cycle": False}))
    assert per_stream(incremental, "rows_deleted")["appointments"] == 0
    sweep = run(ledger, source, full=True)
    assert sweep.outcome == "ok"
    assert changed_in(ledger, Appointment, sweep) == [4]
    assert changed_in(ledger, Claim, sweep) == [2]
    assert ledger_row(ledger, Appointment, 4)["deleted_at"] is not None
    assert ledger_row(ledger, Claim, 2)["deleted_at"] is not None
    assert live_count(ledger, Appointment) == pms_count(practice, "appointment")


def test_a_bad_row_is_quarantined_and_counted_and_the_rest_goes_on(practice, source, ledger):
    execute(practice, "UPDATE procedurelog SET ProcStatus = 42 WHERE ProcNum = 7")
    result = run(ledger, source)
    assert result.outcome == "ok"
    assert per_stream(result, "rows_quarantined")["procedures"] == 1
    assert live_count(ledger, Procedure) == pms_count(practice, "procedurelog") - 1
    with ledger.connect() as connection:
        held = connection.execute(sa.select(quarantine)).mappings().one()
        last_run = connection.execute(sa.select(sync_runs)).mappings().one()
    assert (held["source_id"], held["pms_table"], held["pms_id"]) == ("main", "procedurelog", 7)
    assert held["field"] == "status" and "procedures.status" in held["reason"]
    assert last_run["rows_quarantined"] == 1
    # The front desk fixes the row: it arrives and leaves quarantine.
    execute(practice, "UPDATE procedurelog SET ProcStatus = 1 WHERE ProcNum = 7")
    again = run(ledger, source)
    assert changed_in(ledger, Procedure, again) == [7]
    with ledger.connect() as connection:
        assert connection.execute(sa.select(quarantine.c.released_at)).scalar() is not None


def test_a_quarantined_row_is_not_taken_for_deleted_by_the_sweep(practice, source, ledger):
    run(ledger, source)
    execute(practice, "UPDATE procedurelog SET ProcStatus = 42 WHERE ProcNum = 7")
    sweep = run(ledger, source, full=True)
    assert 7 not in changed_in(ledger, Procedure, sweep)
    assert ledger_row(ledger, Procedure, 7)["deleted_at"] is None


class FailingAfter(MidPullWriter):
    def _query(self, sql, params):
        if "FROM procedurelog pl" in sql:
            self.batches += 1
            if self.batches > self.after_batches:
                raise DriverError("MySQL OperationalError (2013)")
        return self.inner.query(sql, params)


def test_a_pull_cut_short_resumes_from_its_last_batch_and_loses_nothing(practice, source,
                                                                         ledger):
    broken = run(ledger, source, factory=lambda s: FailingAfter(
        MysqlDriver(s.connection), 4, lambda: None))
    assert broken.outcome == "partial"
    assert per_stream(broken, "mode")["procedures"] == "failed"
    with ledger.connect() as connection:
        saved = connection.execute(sa.select(cursors).where(
            cursors.c.stream == "procedures")).mappings().one()
    assert saved["pull_after_key"] == 4 * OPTIONS.batch_size    # four batches committed
    assert live_count(ledger, Procedure) == 4 * OPTIONS.batch_size
    resumed = run(ledger, source)
    assert resumed.outcome == "ok"
    assert per_stream(resumed, "rows_inserted")["procedures"] == (
        pms_count(practice, "procedurelog") - 4 * OPTIONS.batch_size)
    assert live_count(ledger, Procedure) == pms_count(practice, "procedurelog")


def test_an_unsupported_schema_version_fails_the_run_and_says_why(practice, source, ledger):
    execute(practice, "UPDATE preference SET ValueString = '19.4.3.0' "
            "WHERE PrefName = 'DataBaseVersion'")
    result = run(ledger, source)
    assert result.outcome == "failed"
    assert "19.4.3.0 is not supported" in (result.error or "")
    assert live_count(ledger, Patient) == 0


def test_an_unreachable_server_fails_the_run_cleanly(ledger):
    nowhere = SourceSettings(kind="opendental", connection=ConnectionSettings(
        host="127.0.0.1", port=1, connect_timeout=2, retries=1, retry_max_wait=0.1))
    result = run(ledger, nowhere)
    assert result.outcome == "failed"
    assert "nothing answers at that host and port" in (result.error or "")


@pytest.mark.parametrize("client", ["pymysql", "mysqlclient"])
def test_both_mysql_clients_produce_the_same_ledger(practice, source, ledger, client):
    if client == "mysqlclient" and os.environ.get("CI") != "true":
        pytest.importorskip("MySQLdb", reason="mysqlclient (tc-sync[fast]) is not installed")
    chosen = source.model_copy(update={
        "connection": source.connection.model_copy(update={"driver": client})})
    result = run(ledger, chosen)
    assert result.outcome == "ok"
    assert f"({'MySQLdb' if client == 'mysqlclient' else 'pymysql'})" in _driver_name(chosen)
    with ledger.connect() as connection:
        fees = connection.execute(sa.select(sa.func.sum(replica[Procedure].c.fee))).scalar()
    with practice.cursor() as cursor:
        cursor.execute("SELECT SUM(ROUND(ProcFee * 100)) FROM procedurelog")
        assert fees == Decimal(int(cursor.fetchone()[0])).scaleb(-2)


def _driver_name(source: SourceSettings) -> str:
    with MysqlDriver(source.connection) as driver:
        return driver.name


def test_a_database_cut_off_mid_sync_is_retried_and_the_sync_completes(
        practice, mysql_server, source, ledger):
    proxy = TcpProxy(mysql_server.host, mysql_server.port)
    through_proxy = source.model_copy(update={"connection": source.connection.model_copy(
        update={"host": "127.0.0.1", "port": proxy.port, "retries": 6,
                "retry_max_wait": 1.0})})

    def outage():
        proxy.cut()
        threading.Timer(1.5, proxy.restore).start()

    try:
        result = run(ledger, through_proxy, factory=lambda s: MidPullWriter(
            MysqlDriver(s.connection), 3, outage))
    finally:
        proxy.close()
    assert result.outcome == "ok", result.error
    assert live_count(ledger, Procedure) == pms_count(practice, "procedurelog")


def test_a_database_down_for_good_fails_the_run_after_its_retries(
        practice, mysql_server, source, ledger):
    proxy = TcpProxy(mysql_server.host, mysql_server.port)
    through_proxy = source.model_copy(update={"connection": source.connection.model_copy(
        update={"host": "127.0.0.1", "port": proxy.port, "retries": 2,
                "retry_max_wait": 0.2})})
    try:
        result = run(ledger, through_proxy, factory=lambda s: MidPullWriter(
            MysqlDriver(s.connection), 3, proxy.cut))
    finally:
        proxy.close()
    assert result.outcome == "partial"
    assert per_stream(result, "mode")["procedures"] == "failed"
    assert re.search(r"\((2003|2006|2013)\)", result.error or ""), result.error
