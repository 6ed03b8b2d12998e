"""The ODBC driver through real unixODBC: Debian's psqlODBC and libsqliteodbc.

PostgreSQL holds the Dentrix-shaped schema and is read as a role granted SELECT only, as a
Dentrix Developer Program user reads the views; SQLite is read after an ATTACH.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tc_sync.config import ConnectionSettings
from tc_sync.drivers.base import DriverError
from tc_sync.drivers.odbc import OdbcDriver, StatementAbandoned, connection_string, where

from .odbc_support import (
    PG_DRIVER,
    SQLITE_DRIVER,
    PmsDatabase,
    pms_database,
    require_odbc_driver,
    sqlite_source,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def dentrix_db(postgres_admin) -> Iterator[PmsDatabase]:
    require_odbc_driver(PG_DRIVER)
    with pms_database(postgres_admin, "dentrix") as database:
        yield database


def driver_for(database: PmsDatabase, **odbc) -> OdbcDriver:
    return OdbcDriver(database.source(**odbc).connection)


def test_the_read_only_role_reads_the_views_and_any_write_fails(dentrix_db):
    with driver_for(dentrix_db) as driver:
        assert driver.name == "odbc (PostgreSQL)"
        assert driver.scalar("SELECT COUNT(*) FROM admin.v_patient") == 300
        for write in ("UPDATE admin.claim SET totalreceived = 0",
                      "INSERT INTO admin.contact (contactid, patid) VALUES (999999, 1)",
                      "DELETE FROM admin.fullproclog",
                      "CREATE TABLE admin.scratch (a integer)"):
            with pytest.raises(DriverError, match="permission denied"):
                driver.query(write)
        # The base table behind a view is not granted, as with a Developer Program user.
        with pytest.raises(DriverError, match="permission denied for table patient"):
            driver.query("SELECT COUNT(*) FROM admin.patient")
    assert dentrix_db.scalar("SELECT COUNT(*) FROM admin.claim WHERE totalreceived = 0") < (
        dentrix_db.scalar("SELECT COUNT(*) FROM admin.claim"))


def test_a_hung_statement_is_cancelled_and_the_next_one_gets_a_fresh_connection(dentrix_db):
    with driver_for(dentrix_db, statement_limit=1) as driver:
        started = time.monotonic()
        with pytest.raises(StatementAbandoned, match="ran longer than 1 s"):
            driver.query("SELECT pg_sleep(60)")
        assert time.monotonic() - started < 10
        assert driver.scalar("SELECT COUNT(*) FROM admin.v_appt") > 0
    still_running = dentrix_db.scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' "
        "AND state = 'active'")
    assert still_running == 0


class SilentServer:
    """Accepts TCP connections and never answers: a server that hangs at login."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def test_a_server_that_never_answers_the_login_fails_within_the_login_timeout():
    require_odbc_driver(PG_DRIVER)
    server = SilentServer()
    settings = ConnectionSettings(driver="odbc", connect_timeout=2, retries=0, odbc={
        "connection_string": f"DRIVER={{{PG_DRIVER}}};Server=127.0.0.1;Port={server.port};"
                             "Database=dentrix;UID=reader;PWD=not-shown"})
    started = time.monotonic()
    try:
        with pytest.raises(DriverError, match="cannot connect to") as raised:
            OdbcDriver(settings)
    finally:
        server.close()
    assert time.monotonic() - started < 2 + 6
    assert "not-shown" not in str(raised.value)
    assert f"DRIVER={{{PG_DRIVER}}}" in str(raised.value)


def test_a_dsn_that_is_not_set_up_says_so():
    require_odbc_driver(PG_DRIVER)
    settings = ConnectionSettings(driver="odbc", user="reader", password="not-shown",
                                  retries=0, odbc={"dsn": "DENTAL"})
    with pytest.raises(DriverError, match="not registered on this machine") as raised:
        OdbcDriver(settings)
    assert "not-shown" not in str(raised.value) and "DSN=DENTAL as reader" in str(raised.value)


def test_errors_name_the_missing_column_but_never_a_row_value(dentrix_db):
    with driver_for(dentrix_db) as driver:
        with pytest.raises(DriverError, match="datesnt"):
            driver.query("SELECT c.datesnt FROM admin.claim c")
        with pytest.raises(DriverError) as raised:
            driver.query("SELECT CAST(v.last_name AS INTEGER) FROM admin.v_patient v")
    assert "22P02" in str(raised.value)
    first_name = dentrix_db.scalar("SELECT lastname FROM admin.patient ORDER BY patid LIMIT 1")
    assert first_name not in str(raised.value)


def test_fixed_width_text_comes_back_trimmed_and_dentrix_times_joined(dentrix_db):
    apt, day, hour, minute, phone = dentrix_db.execute(
        "SELECT apptid, apptdate, timehr, timemin, p.homephone FROM admin.appt a "
        "JOIN admin.patient p ON p.patid = a.patid WHERE p.homephone <> '' "
        "ORDER BY apptid LIMIT 1")[0]
    assert phone.endswith(" ")     # char(16): PostgreSQL pads it
    with driver_for(dentrix_db) as driver:
        columns, rows = driver.query(
            "SELECT a.appointment_id, a.appointment_date AS starts_at__date, "
            "a.start_hour AS starts_at__hour, a.start_minute AS starts_at__minute, "
            "p.home_phone FROM admin.v_appt a JOIN admin.v_patient p "
            "ON p.patient_id = a.patient_id WHERE a.appointment_id = :apt", {"apt": apt})
    assert columns == ["appointment_id", "starts_at", "home_phone"]
    assert rows == [(apt, datetime(day.year, day.month, day.day, hour, minute),
                     phone.strip())]


def test_the_server_clock_is_read_in_its_own_dialect(dentrix_db, tmp_path):
    require_odbc_driver(SQLITE_DRIVER)
    with driver_for(dentrix_db) as postgres, OdbcDriver(
            sqlite_source(tmp_path, "eaglesoft").connection) as sqlite:
        assert sqlite.name == "odbc (SQLite)"
        for driver in (postgres, sqlite):
            assert abs(driver.server_now() - datetime.now()) < timedelta(minutes=5)


def test_the_catalog_lists_tables_and_columns_through_either_driver(dentrix_db, tmp_path):
    require_odbc_driver(SQLITE_DRIVER)
    with driver_for(dentrix_db) as postgres, OdbcDriver(
            sqlite_source(tmp_path, "eaglesoft").connection) as sqlite:
        assert {"admin.v_patient", "admin.fullproclog"} <= set(postgres.catalog_tables())
        assert "modified_time_stamp" in postgres.catalog_columns("admin.v_appt")
        assert "PPM.planned_services" in sqlite.catalog_tables()
        assert sqlite.catalog_columns("PPM.planned_services")[:2] == [
            "patient_id", "line_number"]


def test_a_dsn_login_is_written_so_that_a_semicolon_in_the_password_stays_in_it():
    settings = ConnectionSettings(driver="odbc", user="PDBA", password="a;b}c",
                                  odbc={"dsn": "DENTAL"})
    assert connection_string(settings) == "DSN=DENTAL;UID=PDBA;PWD={a;b}}c}"
    assert where(settings) == "DSN=DENTAL as PDBA"
