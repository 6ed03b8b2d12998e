"""The Open Dental front desk: the demo practice in MariaDB (tc_sync.demo.odschema).

Rows change with plain INSERT, UPDATE and DELETE in Open Dental's tables and codes, so
MySQL bumps DateTStamp / SecDateTEdit exactly as under Open Dental.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ClassVar

import pymysql

from tc_sync.config import SourceSettings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.records import Appointment, Claim, ClaimProcedure, Patient, Procedure

from .desk import Booking, Capability, Changes, FrontDesk, Unreadable
from .ledger import TODAY

SCHEDULED, BROKEN = 1, 5
"""appointment.AptStatus codes."""
ACTIVE = 0
"""patient.PatStatus of a patient."""


class OpenDentalDesk(FrontDesk):
    """Open Dental's front desk, on one MariaDB database holding the demo practice."""

    pms = "opendental"
    changes = Changes.TIMESTAMPS_TO_THE_SECOND
    kinds = ("unscheduled_treatment", "predetermination_pending", "predetermination_returned",
             "claim_unsent", "claim_outstanding", "claim_denied", "claim_underpaid",
             "planned_appointment_unscheduled", "broken_appointment", "benefits_expiring")
    cannot: ClassVar[Mapping[Capability, str]] = {Capability.ODBC_DRIVERS: (
        "is read over MySQL, not ODBC; test_both_mysql_clients_produce_the_same_ledger "
        "(test_sync_opendental.py) compares its two clients")}

    def __init__(self, connection: pymysql.connections.Connection[Any],
                 source: SourceSettings) -> None:
        self.connection = connection
        self._source = source

    def execute(self, sql: str, *params: Any) -> int:
        """Run SQL as Open Dental's client does (sql_mode ''); the new row's key, if any."""
        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")
            cursor.execute(sql, params)
            return int(cursor.lastrowid or 0)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def source(self, **odbc: Any) -> SourceSettings:
        assert not odbc, "Open Dental is read over MySQL: it has no ODBC options"
        return self._source

    def first_sync_counts(self) -> dict[type, int]:
        return {Patient: self.count("patient"), Procedure: self.count("procedurelog"),
                Appointment: self.count("appointment"), Claim: self.count("claim"),
                ClaimProcedure: self.count("claimproc")}

    def book(self, patient: int, days_ahead: int) -> Booking:
        return Booking(self.execute(
            "INSERT INTO appointment (PatNum, AptStatus, AptDateTime, ProvNum, ClinicNum) "
            "VALUES (%s, %s, %s, 1, 0)", patient, SCHEDULED,
            f"{TODAY + timedelta(days=days_ahead)} 09:00:00"))

    def planned_predeterminations(self) -> dict[int, int]:
        return dict(self.query(
            "SELECT c.ClaimNum, c.PatNum FROM claim c JOIN claimproc cp ON cp.ClaimNum = "
            "c.ClaimNum JOIN procedurelog pl ON pl.ProcNum = cp.ProcNum WHERE c.ClaimType = "
            "'PreAuth' AND pl.ProcStatus = 1"))

    def return_predetermination(self, claim: int) -> None:
        self.execute("UPDATE claim SET ClaimStatus = 'R', DateReceived = %s, InsPayEst = 400 "
                     "WHERE ClaimNum = %s", str(TODAY), claim)

    def log_call(self, patient: int) -> None:
        self.execute("INSERT INTO commlog (PatNum, CommDateTime, CommType, Note, Mode_, "
                     "SentOrReceived) VALUES (%s, %s, 0, '', 3, 1)", patient,
                     f"{TODAY} 10:00:00")

    def break_only_booking(self) -> tuple[int, int]:
        appointment, patient = self.query(
            "SELECT a.AptNum, a.PatNum FROM appointment a JOIN patient p ON p.PatNum = a.PatNum "
            "WHERE a.AptDateTime > %s AND a.AptStatus = %s AND p.PatStatus = %s "
            "AND (SELECT COUNT(*) FROM appointment b WHERE b.PatNum = a.PatNum "
            "AND b.AptDateTime > %s AND b.AptStatus = %s) = 1 ORDER BY a.AptNum LIMIT 1",
            TODAY, SCHEDULED, ACTIVE, TODAY, SCHEDULED)[0]
        self.execute("UPDATE appointment SET AptStatus = %s WHERE AptNum = %s", BROKEN,
                     appointment)
        return int(appointment), int(patient)

    def delete_claim(self, claim: int) -> None:
        self.execute("DELETE FROM claim WHERE ClaimNum = %s", claim)

    @contextmanager
    def unreadable_table(self) -> Iterator[Unreadable]:
        self.execute("RENAME TABLE clinic TO clinic_away")
        try:
            yield Unreadable("clinics", "doesn't exist")
        finally:
            self.execute("RENAME TABLE clinic_away TO clinic")


@contextmanager
def opendental_desk(mysql_server: Any, database: str, source: SourceSettings
                    ) -> Iterator[OpenDentalDesk]:
    """The demo practice loaded into a fresh MariaDB database (MyISAM, 24.3)."""
    connection = mysql_server.connect(database)
    try:
        write_mysql(connection, PracticeSpec(today=TODAY))
        yield OpenDentalDesk(connection, source)
    finally:
        connection.close()
