"""Change a synthetic Open Dental practice in MariaDB the way the front desk does, between kills
and between soak cycles.

Rows change with plain UPDATE, INSERT and DELETE statements, so MySQL bumps `DateTStamp` and
`SecDateTEdit` (ON UPDATE CURRENT_TIMESTAMP) exactly as under Open Dental. New rows are copies
of existing ones (every NOT NULL column then holds a value the generator would write) with the
key left to AUTO_INCREMENT and the columns that matter set: a procedure planned for another
patient, an appointment booked for a patient with treatment waiting, a call in the contact log.
Deletes are the hard deletes Open Dental does (an appointment, a contact-log entry); tc-sync sees
them only in a full sweep, so callers ask for them only before one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import pymysql

from tc_sync.demo.odschema import TABLES

VERSION = "24.3.10.0"
STAMPS = ("DateTStamp", "SecDateTEdit")
"""Columns MySQL sets itself on INSERT and UPDATE."""
COLUMNS: dict[str, list[str]] = {t.name: list(t.column_names(VERSION)) for t in TABLES
                                 if t.in_version(VERSION)}


class PracticeChanges:
    """Makes the day-to-day changes of an Open Dental office to one practice database."""

    def __init__(self, connection: pymysql.connections.Connection, today: date,
                 rng: random.Random) -> None:
        self.connection = connection
        self.today = today
        self.rng = rng
        self.rows_inserted = 0
        self.rows_updated = 0
        self.rows_deleted = 0
        self._execute("SET SESSION sql_mode = ''")       # as Open Dental runs
        self.everyday: list[Callable[[], bool]] = [
            self.plan_treatment, self.schedule_treatment, self.complete_procedure,
            self.send_claim, self.pay_claim, self.log_call, self.edit_patient,
            self.break_appointment, self.new_patient, self.track_claim]
        self.deletes: list[Callable[[], bool]] = [self.delete_appointment, self.delete_call]

    # --- SQL ---

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.connection.cursor() as cursor:
            return int(cursor.execute(sql, params))

    def _ids(self, sql: str, params: Sequence[Any] = ()) -> list[int]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [int(row[0]) for row in cursor.fetchall()]

    def _pick(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        ids = self._ids(sql, params)
        return self.rng.choice(ids) if ids else None

    def _copy(self, table: str, key: str, key_value: int, **values: Any) -> int:
        """INSERT a copy of one row with `values` set; returns the new key."""
        columns = [c for c in COLUMNS[table] if c != key and c not in STAMPS]
        select = ", ".join("%s" if c in values else f"`{c}`" for c in columns)
        params = [values[c] for c in columns if c in values]
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) "
                f"SELECT {select} FROM `{table}` WHERE `{key}` = %s", (*params, key_value))
            self.rows_inserted += 1
            return int(cursor.lastrowid)

    def _update(self, sql: str, params: Sequence[Any] = ()) -> bool:
        changed = self._execute(sql, params)
        self.rows_updated += changed
        return changed > 0

    def _active_patient(self) -> int | None:
        return self._pick("SELECT PatNum FROM patient WHERE PatStatus = 0")

    # --- changes: each returns whether it found something to change ---

    def plan_treatment(self) -> bool:
        """The dentist plans a procedure for a patient (opens unscheduled treatment)."""
        procedure = self._pick("SELECT ProcNum FROM procedurelog WHERE ProcStatus = 1")
        patient = self._active_patient()
        if procedure is None or patient is None:
            return False
        self._copy("procedurelog", "ProcNum", procedure, PatNum=patient, AptNum=0,
                   PlannedAptNum=0, DateTP=str(self.today), ProcDate=str(self.today))
        return True

    def schedule_treatment(self) -> bool:
        """A patient with treatment waiting books it (resolves unscheduled treatment)."""
        patient = self._pick("SELECT DISTINCT PatNum FROM procedurelog "
                             "WHERE ProcStatus = 1 AND AptNum = 0")
        template = self._pick("SELECT AptNum FROM appointment WHERE AptStatus = 1")
        if patient is None or template is None:
            return False
        when = self.today + timedelta(days=self.rng.randint(3, 60))
        appointment = self._copy(
            "appointment", "AptNum", template, PatNum=patient, AptStatus=1, NextAptNum=0,
            AptDateTime=f"{when} {self.rng.randint(8, 16):02d}:00:00")
        self._update("UPDATE procedurelog SET AptNum = %s WHERE PatNum = %s AND ProcStatus = 1 "
                     "AND AptNum = 0", (appointment, patient))
        return True

    def complete_procedure(self) -> bool:
        procedure = self._pick("SELECT ProcNum FROM procedurelog WHERE ProcStatus = 1")
        return procedure is not None and self._update(
            "UPDATE procedurelog SET ProcStatus = 2, ProcDate = %s, DateComplete = %s "
            "WHERE ProcNum = %s", (str(self.today), str(self.today), procedure))

    def send_claim(self) -> bool:
        claim = self._pick("SELECT ClaimNum FROM claim WHERE ClaimStatus IN ('U', 'W')")
        return claim is not None and self._update(
            "UPDATE claim SET ClaimStatus = 'S', DateSent = %s, DateSentOrig = %s "
            "WHERE ClaimNum = %s", (str(self.today), str(self.today), claim))

    def pay_claim(self) -> bool:
        """The carrier's EOB arrives: the claim is received and its procedures paid."""
        claim = self._pick("SELECT ClaimNum FROM claim WHERE ClaimStatus = 'S'")
        if claim is None:
            return False
        self._update("UPDATE claimproc SET Status = 1, InsPayAmt = InsPayEst, DateCP = %s "
                     "WHERE ClaimNum = %s AND Status = 0", (str(self.today), claim))
        return self._update("UPDATE claim SET ClaimStatus = 'R', DateReceived = %s, "
                            "InsPayAmt = InsPayEst WHERE ClaimNum = %s",
                            (str(self.today), claim))

    def log_call(self) -> bool:
        """A coordinator's call goes into the contact log (an attempt on the patient's items)."""
        template = self._pick("SELECT CommlogNum FROM commlog")
        patient = self._active_patient()
        if template is None or patient is None:
            return False
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT NOW()")
            (now,) = cursor.fetchone() or (None,)
        self._copy("commlog", "CommlogNum", template, PatNum=patient, Mode_=3, SentOrReceived=1,
                   CommDateTime=str(now), Note="Left voicemail about treatment.")
        return True

    def edit_patient(self) -> bool:
        patient = self._active_patient()
        return patient is not None and self._update(
            "UPDATE patient SET WirelessPhone = %s WHERE PatNum = %s",
            (f"555-01{self.rng.randrange(100):02d}-{self.rng.randrange(10_000):04d}", patient))

    def break_appointment(self) -> bool:
        appointment = self._pick("SELECT AptNum FROM appointment WHERE AptStatus = 1 "
                                 "AND AptDateTime > NOW()")
        return appointment is not None and self._update(
            "UPDATE appointment SET AptStatus = 5 WHERE AptNum = %s", (appointment,))

    def new_patient(self) -> bool:
        """A new patient is entered (a copy of a patient's demographics under a new key)."""
        patient = self._pick("SELECT PatNum FROM patient")
        if patient is None:
            return False
        name = self.rng.choice(("Ari", "Bea", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal"))
        self._copy("patient", "PatNum", patient, FName=name, PatStatus=0,
                   DateFirstVisit=str(self.today))
        return True

    def track_claim(self) -> bool:
        """Someone edits a sent claim's note (SecDateTEdit moves, nothing else)."""
        claim = self._pick("SELECT ClaimNum FROM claim WHERE ClaimStatus = 'S'")
        return claim is not None and self._update(
            "UPDATE claim SET ClaimNote = %s WHERE ClaimNum = %s",
            (f"Called carrier {self.rng.randrange(10**6)}", claim))

    def edit_code(self) -> bool:
        """A procedure code's description changes: every patient is evaluated again."""
        code = self._pick("SELECT CodeNum FROM procedurecode")
        return code is not None and self._update(
            "UPDATE procedurecode SET Descript = IF(Descript LIKE '%%.', "
            "LEFT(Descript, CHAR_LENGTH(Descript) - 1), CONCAT(Descript, '.')) "
            "WHERE CodeNum = %s", (code,))

    def delete_appointment(self) -> bool:
        """An appointment is deleted (Open Dental deletes the row, its procedures stay)."""
        appointment = self._pick("SELECT AptNum FROM appointment WHERE AptStatus = 1")
        if appointment is None:
            return False
        self._update("UPDATE procedurelog SET AptNum = 0 WHERE AptNum = %s", (appointment,))
        self.rows_deleted += self._execute("DELETE FROM appointment WHERE AptNum = %s",
                                           (appointment,))
        return True

    def delete_call(self) -> bool:
        entry = self._pick("SELECT CommlogNum FROM commlog")
        if entry is None:
            return False
        self.rows_deleted += self._execute("DELETE FROM commlog WHERE CommlogNum = %s",
                                           (entry,))
        return True

    # --- a round of changes ---

    def change(self, count: int, *, deletes: bool = False, everyone: bool = False) -> list[str]:
        """Make `count` everyday changes (plus a hard delete, plus a code edit that makes
        reconcile evaluate every patient, when asked); returns the names of what changed."""
        done = []
        for change in self.rng.choices(self.everyday, k=count):
            if change():
                done.append(change.__name__)
        if deletes:
            change = self.rng.choice(self.deletes)
            if change():
                done.append(change.__name__)
        if everyone and self.edit_code():
            done.append("edit_code")
        return done
