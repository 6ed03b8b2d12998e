"""Front desks of the PMSs read over ODBC: Dentrix and Eaglesoft.

Each practice sits in PostgreSQL in its PMS's own schema (tc_sync.demo.dentrix, eaglesoft)
and is read through psqlODBC as a role granted SELECT only; the front desk changes rows as
the database owner (tests/odbc_support.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa

from tc_sync.config import SourceSettings
from tc_sync.records import Appointment, Claim, ClaimProcedure, Patient, Procedure

from ..odbc_support import (
    PG_DRIVER,
    SQLITE_DRIVER,
    PmsDatabase,
    pms_database,
    practice_rows,
    require_odbc_driver,
    sqlite_source,
)
from .desk import Booking, Capability, Changes, FrontDesk, Unreadable
from .ledger import TODAY

TWO_COLUMN_KEY = 4294967296
"""A two-column key walked as one number: high * 4294967296 + low (adapters' manifests)."""


class OdbcDesk(FrontDesk):
    """A front desk on a PostgreSQL database holding one PMS's schema."""

    compared: tuple[type, ...]
    """Records both ODBC drivers must bring alike."""
    guarded_table: str
    """A table the adapter reads, which `unreadable_table` takes the reader's grant from."""
    guarded_stream: str
    """The stream that reads it."""

    def __init__(self, database: PmsDatabase) -> None:
        self.db = database

    def execute(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL as the database owner (the front desk); rows if it returns any."""
        return self.db.execute(sql, *params)

    def scalar(self, sql: str, *params: Any) -> Any:
        return self.db.scalar(sql, *params)

    def source(self, **odbc: Any) -> SourceSettings:
        return self.db.source(**odbc)

    @contextmanager
    def unreadable_table(self) -> Iterator[Unreadable]:
        self.execute(f"REVOKE SELECT ON {self.guarded_table} FROM {self.db.role}")
        try:
            yield Unreadable(self.guarded_stream, "permission denied")
        finally:
            self.execute(f"GRANT SELECT ON {self.guarded_table} TO {self.db.role}")

    def second_driver(self, folder: Path) -> tuple[SourceSettings, tuple[type, ...]]:
        """The same practice in a SQLite file read through libsqliteodbc."""
        require_odbc_driver(SQLITE_DRIVER)
        return sqlite_source(folder, self.pms), self.compared


class DentrixDesk(OdbcDesk):
    """Dentrix's front desk: schema admin, the Developer Program's views over base tables."""

    pms = "dentrix"
    changes = Changes.TIMESTAMPS
    kinds = ("unscheduled_treatment", "predetermination_pending", "predetermination_returned",
             "claim_unsent", "claim_outstanding", "claim_denied", "broken_appointment",
             "benefits_expiring")
    kinds_never = ("planned_appointment_unscheduled",)
    compared = (Patient, Procedure, Claim)
    guarded_table, guarded_stream = "admin.contact", "contact_log"

    def first_sync_counts(self) -> dict[type, int]:
        rows = practice_rows("dentrix")
        payments = self.scalar("SELECT COUNT(*) FROM admin.fullproclog WHERE chartstatus = 90")
        assert payments > 0, "the practice has payment rows in fullproclog for the sync to skip"
        return {Patient: len(rows["patient"]), Claim: len(rows["claim"]),
                Procedure: len(rows["fullproclog"]) - payments}

    def book(self, patient: int, days_ahead: int) -> Booking:
        """An appointment in one of the practice's own statuses (1003: confirmed)."""
        apt = int(self.scalar("SELECT MAX(apptid) + 1 FROM admin.appt"))
        self.execute(
            "INSERT INTO admin.appt (apptid, patid, apptdate, timehr, timemin, apptlen, provid, "
            "opid, status, broken, apptreason, createdate) VALUES (%s, %s, %s, 9, 30, 60, 1, 1, "
            "1003, 0, 'Crown', %s)", apt, patient, TODAY + timedelta(days=days_ahead), TODAY)
        return Booking(apt)

    def planned_predeterminations(self) -> dict[int, int]:
        """Pre-treatment estimates (claimtype 2) on planned or booked procedures."""
        return dict(self.execute(
            "SELECT DISTINCT c.claimid, c.patid FROM admin.claim c JOIN admin.fullproclog f "
            "ON f.claimid = c.claimid WHERE c.claimtype = 2 AND f.chartstatus IN (101, 105)"))

    def return_predetermination(self, claim: int) -> None:
        """Received today, with an estimate of half the fee on each of its procedures."""
        self.execute("UPDATE admin.claim SET datereceived = %s WHERE claimid = %s", TODAY, claim)
        self.execute("UPDATE admin.fullproclog SET amtpreauth = amt * 0.5 WHERE claimid = %s",
                     claim)

    def log_call(self, patient: int) -> None:
        """An Office Journal entry of contact type 5 (a call)."""
        contact = self.scalar("SELECT MAX(contactid) + 1 FROM admin.contact")
        self.execute("INSERT INTO admin.contact (contactid, patid, contactdate, contacttype, "
                     "title) VALUES (%s, %s, %s, 5, 'Call')", contact, patient,
                     f"{TODAY} 10:00:00")

    def break_only_booking(self) -> tuple[int, int]:
        apt, patient = self.execute(
            "SELECT a.apptid, a.patid FROM admin.appt a JOIN admin.patient p "
            "ON p.patid = a.patid WHERE a.apptdate > %s AND a.broken = 0 AND a.status <> -106 "
            "AND p.status = 1 AND (SELECT COUNT(*) FROM admin.appt b WHERE b.patid = a.patid "
            "AND b.apptdate > %s AND b.broken = 0) = 1 ORDER BY a.apptid LIMIT 1",
            TODAY, TODAY)[0]
        self.execute("UPDATE admin.appt SET broken = 1 WHERE apptid = %s", apt)
        return int(apt), int(patient)

    def delete_claim(self, claim: int) -> None:
        self.execute("DELETE FROM admin.claim WHERE claimid = %s", claim)


class EaglesoftDesk(OdbcDesk):
    """Eaglesoft's front desk: owner PPM, no change timestamp anywhere."""

    pms = "eaglesoft"
    changes = Changes.WHOLE_READS
    kinds = ("unscheduled_treatment", "predetermination_pending", "predetermination_returned",
             "claim_outstanding", "broken_appointment")
    kinds_never = ("claim_unsent", "claim_denied", "claim_underpaid",
                   "planned_appointment_unscheduled", "benefits_expiring")
    cannot: ClassVar[Mapping[Capability, str]] = {
        Capability.CONTACT_LOG: "has no office journal tc-sync reads (its contact notes are "
                                "not public), so attempts stay 0",
        Capability.DELETES_LEFT_TO_THE_SWEEP: "has no change timestamp: every stream is read "
                                              "whole each cycle, so a delete is seen at once",
        Capability.ESTIMATE_ON_A_PREDETERMINATION: "keeps the carrier's answer as an amount "
                                                   "paid; no estimate is read",
    }
    compared = (Patient, Procedure, Appointment, Claim, ClaimProcedure)
    guarded_table, guarded_stream = "PPM.provider", "providers"

    def first_sync_counts(self) -> dict[type, int]:
        rows = practice_rows("eaglesoft")
        return {Patient: len(rows["patient"]), Procedure: len(rows["planned_services"]),
                Appointment: len(rows["appointment"]), Claim: len(rows["insurance_claim"]),
                ClaimProcedure: sum(1 for row in rows["treatment_plan_items"] if row[3])}

    def book(self, patient: int, days_ahead: int) -> Booking:
        """An appointment with all the patient's planned services on it (status 'A')."""
        apt = int(self.scalar("SELECT MAX(appointment_id) + 1 FROM PPM.appointment"))
        starts = datetime.combine(TODAY + timedelta(days=days_ahead), datetime.min.time()
                                  ).replace(hour=9)
        self.execute(
            "INSERT INTO PPM.appointment (appointment_id, patient_id, start_time, end_time, "
            "location_id, classification, arrival_status, date_appointed, description) VALUES "
            "(%s, %s, %s, %s, 1, 1, 0, %s, 'Crown')", apt, patient, starts,
            starts + timedelta(hours=1), datetime.combine(TODAY, datetime.min.time()))
        lines = self.execute("UPDATE PPM.planned_services SET appt_id = %s, status = 'A' "
                             "WHERE patient_id = %s RETURNING line_number", apt, patient)
        assert lines, "a patient waiting with unscheduled treatment has planned services"
        return Booking(apt, frozenset(patient * TWO_COLUMN_KEY + line for (line,) in lines))

    def planned_predeterminations(self) -> dict[int, int]:
        """Claims that treatment-plan lines point to."""
        return dict(self.execute("SELECT DISTINCT i.claim_id, i.patient_id FROM "
                                 "PPM.treatment_plan_items i WHERE i.claim_id > 0"))

    def return_predetermination(self, claim: int) -> None:
        """The carrier's answer recorded as an amount on the predetermination."""
        self.execute("UPDATE PPM.insurance_claim SET prim_total_paid = 400 "
                     "WHERE claim_id = %s", claim)

    def break_only_booking(self) -> tuple[int, int]:
        """Move the booking to the unscheduled list (classification 4)."""
        apt, patient = self.execute(
            "SELECT a.appointment_id, a.patient_id FROM PPM.appointment a JOIN PPM.patient p "
            "ON p.patient_id = a.patient_id WHERE a.start_time > %s AND a.classification = 1 "
            "AND p.status = 'A' AND p.patient_status = 'Y' AND (SELECT COUNT(*) FROM "
            "PPM.appointment b WHERE b.patient_id = a.patient_id AND b.start_time > %s "
            "AND b.classification = 1) = 1 ORDER BY a.appointment_id LIMIT 1", TODAY, TODAY)[0]
        self.execute("UPDATE PPM.appointment SET classification = 4 "
                     "WHERE appointment_id = %s", apt)
        return int(apt), int(patient)

    def delete_claim(self, claim: int) -> None:
        self.execute("DELETE FROM PPM.insurance_claim WHERE claim_id = %s", claim)


DESKS: dict[str, type[OdbcDesk]] = {"dentrix": DentrixDesk, "eaglesoft": EaglesoftDesk}


@contextmanager
def odbc_desk(pms: str, postgres_admin: sa.Engine) -> Iterator[OdbcDesk]:
    """A fresh PostgreSQL database holding `pms`'s practice, behind its front desk."""
    require_odbc_driver(PG_DRIVER)
    with pms_database(postgres_admin, pms) as database:
        yield DESKS[pms](database)
