"""The demo practice's front desk: a day's work written into its Open Dental stand-in.

`tc-sync demo --advance DAYS` runs one working day after another. Each day, seeded by its
date (the same day always does the same work), the front desk writes rows the way Open
Dental's client writes them:

* the day's scheduled appointments are seen (AptStatus 2, their procedures complete, a claim
  made for an insured patient from the procedures' estimates) or, a few, broken (AptStatus 5;
  their procedures stay planned on the appointment);
* claims made on an earlier day are sent (ClaimStatus S, DateSent / DateSentOrig);
* carriers pay some claims sent two weeks ago or more (ClaimStatus R, DateReceived, InsPayAmt;
  their claim procedures Received with the date paid);
* some unscheduled treatment and planned appointments are booked in the next few days (a new
  appointment holding the procedures; one made from a planned appointment names it in
  NextAptNum);
* the coordinator logs calls to a few patients who have treatment waiting (commlog rows).

The edit time stamps (DateTStamp, SecDateTEdit) are the real clock's, as the sync reads them;
the dates of the work (appointment, service, sent, received) are the demo's day.
Synthetic data only.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BREAK_ONE_IN = 6
"""About one scheduled appointment in six is broken."""
CLAIMS_SENT_PER_DAY = 8
CLAIMS_PAID_PER_DAY = 5
PAID_AFTER_DAYS = 14
"""A carrier pays a claim no sooner than this many days after it was sent."""
TREATMENT_BOOKED_PER_DAY = 4
PLANNED_BOOKED_PER_DAY = 2
CALLS_PER_DAY = 4
BOOKED_WITHIN_DAYS = 5
"""Bookings are made for one of the next five days, so an advance of a few days sees some."""
_BOOKING_HOURS = ("08:00", "09:20", "10:40", "13:00", "14:20", "15:40")
_CALL_NOTES = (
    "Called about the treatment plan; left a voicemail asking to call back.",
    "Spoke with the patient about the planned treatment; will call back after checking "
    "the schedule.",
    "Texted a reminder about the treatment waiting to be scheduled.",
)
_PHONE, _TEXT, _SENT = 3, 5, 1


@dataclass
class DayOfWork:
    """What the front desk did in the PMS on one day (or, summed, over several)."""

    seen: int = 0
    """Appointments completed, with their procedures."""
    broken: int = 0
    claims_made: int = 0
    claims_sent: int = 0
    claims_paid: int = 0
    treatment_booked: int = 0
    """Patients whose unscheduled treatment got an appointment."""
    planned_booked: int = 0
    """Planned appointments an appointment was made from."""
    calls: int = 0
    """Contact-log entries."""

    def __iadd__(self, other: DayOfWork) -> DayOfWork:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self

    def lines(self) -> list[str]:
        """The work in a front desk's words, one line per kind of work done."""
        words = (
            (self.seen, "appointment(s) seen, their procedures completed"),
            (self.broken, "appointment(s) broken (the patient did not come)"),
            (self.claims_made, "claim(s) made for the procedures done"),
            (self.claims_sent, "claim(s) sent to the carrier"),
            (self.claims_paid, "claim(s) paid by the carrier"),
            (self.treatment_booked, "patient(s) booked for their unscheduled treatment"),
            (self.planned_booked, "planned appointment(s) booked"),
            (self.calls, "call(s) and text(s) logged in the contact log"))
        return [f"{count:,} {what}" for count, what in words if count]


def work_days(practice: Path, after: date, days: int) -> DayOfWork:
    """The front desk's work on each of the `days` days after `after`, written to the
    practice file; what it did, summed."""
    done = DayOfWork()
    with closing(sqlite3.connect(practice)) as connection:
        for day in (after + timedelta(days=n) for n in range(1, days + 1)):
            with connection:       # one transaction a day
                done += work_day(connection, day)
    return done


def work_day(connection: sqlite3.Connection, day: date) -> DayOfWork:
    """One day's work, the same for the same day and practice."""
    seed = f"tc-sync demo front desk {day.isoformat()}"
    chance = random.Random(seed)  # noqa: S311 (synthetic data, not a secret)
    done = DayOfWork()
    _see_the_day(connection, day, chance, done)
    _send_claims(connection, day, done)
    _receive_payments(connection, day, chance, done)
    _book_treatment(connection, day, chance, done)
    _book_planned(connection, day, chance, done)
    _log_calls(connection, day, chance, done)
    return done


def _rows(connection: sqlite3.Connection, sql: str, *params: object) -> list[Any]:
    return connection.execute(sql, params).fetchall()


def _see_the_day(connection: sqlite3.Connection, day: date, chance: random.Random,
                 done: DayOfWork) -> None:
    appointments = _rows(
        connection, "SELECT AptNum, PatNum, ProvNum, ClinicNum FROM appointment "
        "WHERE AptStatus = 1 AND date(AptDateTime) = ? ORDER BY AptNum", day.isoformat())
    for apt, patient, provider, clinic in appointments:
        if chance.randrange(BREAK_ONE_IN) == 0:
            connection.execute("UPDATE appointment SET AptStatus = 5 WHERE AptNum = ?", (apt,))
            done.broken += 1
            continue
        connection.execute("UPDATE appointment SET AptStatus = 2 WHERE AptNum = ?", (apt,))
        procedures = [num for (num,) in _rows(
            connection, "SELECT ProcNum FROM procedurelog WHERE AptNum = ? AND ProcStatus = 1",
            apt)]
        connection.executemany(
            "UPDATE procedurelog SET ProcStatus = 2, ProcDate = ?, DateEntryC = ?, "
            "DateComplete = ? WHERE ProcNum = ?",
            [(day.isoformat(),) * 3 + (num,) for num in procedures])
        done.seen += 1
        if procedures and _make_claim(connection, day, patient, provider, clinic, procedures):
            done.claims_made += 1


def _make_claim(connection: sqlite3.Connection, day: date, patient: int, provider: int,
                clinic: int, procedures: list[int]) -> bool:
    """A primary claim for the procedures that carry an insurance estimate: Open Dental moves
    each estimate claim procedure onto the claim (Status 0, not received)."""
    marks = ",".join("?" * len(procedures))
    estimates = _rows(
        connection, "SELECT cp.ClaimProcNum, cp.PlanNum, cp.InsSubNum, cp.InsPayEst, "
        "p.ProcFee * (p.UnitQty + p.BaseUnits) FROM claimproc cp "
        "JOIN procedurelog p ON p.ProcNum = cp.ProcNum "
        f"WHERE cp.Status = 6 AND cp.ClaimNum = 0 AND cp.ProcNum IN ({marks}) "
        "ORDER BY cp.ClaimProcNum", *procedures)
    if not estimates:
        return False
    plan, subscription = estimates[0][1], estimates[0][2]
    ours = [row for row in estimates if row[1] == plan]
    fee = round(sum(row[4] for row in ours), 2)
    estimate = round(sum(row[3] for row in ours), 2)
    claim = connection.execute(
        "INSERT INTO claim (PatNum, DateService, ClaimStatus, PlanNum, InsSubNum, ProvTreat, "
        "ProvBill, ClinicNum, ClaimFee, InsPayEst, ClaimType, SecDateEntry) "
        "VALUES (?, ?, 'U', ?, ?, ?, ?, ?, ?, ?, 'P', ?)",
        (patient, day.isoformat(), plan, subscription, provider, provider, clinic, fee,
         estimate, day.isoformat())).lastrowid
    connection.execute("UPDATE claim SET ClaimIdentifier = ? WHERE ClaimNum = ?",
                       (f"{patient}/{claim}", claim))
    connection.executemany(
        "UPDATE claimproc SET ClaimNum = ?, Status = 0, FeeBilled = ?, ProcDate = ? "
        "WHERE ClaimProcNum = ?",
        [(claim, row[4], day.isoformat(), row[0]) for row in ours])
    return True


def _send_claims(connection: sqlite3.Connection, day: date, done: DayOfWork) -> None:
    """The day's batch: claims waiting since an earlier day, oldest first."""
    waiting = _rows(
        connection, "SELECT ClaimNum FROM claim WHERE ClaimStatus IN ('U', 'W') "
        "AND ClaimType <> 'PreAuth' AND DateService < ? ORDER BY DateService, ClaimNum LIMIT ?",
        day.isoformat(), CLAIMS_SENT_PER_DAY)
    connection.executemany(
        "UPDATE claim SET ClaimStatus = 'S', DateSent = ?, DateSentOrig = CASE WHEN "
        "DateSentOrig > '0001-01-01' THEN DateSentOrig ELSE ? END WHERE ClaimNum = ?",
        [(day.isoformat(), day.isoformat(), claim) for (claim,) in waiting])
    done.claims_sent += len(waiting)


def _receive_payments(connection: sqlite3.Connection, day: date, chance: random.Random,
                      done: DayOfWork) -> None:
    """Carriers pay in full (the estimate) on some claims sent long enough ago."""
    sent_by = (day - timedelta(days=PAID_AFTER_DAYS)).isoformat()
    due = _rows(connection, "SELECT ClaimNum FROM claim WHERE ClaimStatus = 'S' "
                "AND ClaimType IN ('P', 'S') AND DateSent > '0001-01-01' AND DateSent <= ? "
                "ORDER BY ClaimNum", sent_by)
    paid = sorted(chance.sample(due, min(len(due), CLAIMS_PAID_PER_DAY)))
    for (claim,) in paid:
        connection.execute(
            "UPDATE claimproc SET Status = 1, InsPayAmt = InsPayEst, DateCP = ?, DateEntry = ? "
            "WHERE ClaimNum = ? AND Status = 0", (day.isoformat(), day.isoformat(), claim))
        connection.execute(
            "UPDATE claim SET ClaimStatus = 'R', DateReceived = ?, InsPayAmt = (SELECT "
            "COALESCE(SUM(InsPayAmt), 0) FROM claimproc WHERE ClaimNum = ?) WHERE ClaimNum = ?",
            (day.isoformat(), claim, claim))
    done.claims_paid += len(paid)


def _booking_slots(day: date, chance: random.Random) -> Iterator[str]:
    """Times in the coming days (the demo's practice opens every day)."""
    while True:
        on = day + timedelta(days=chance.randint(1, BOOKED_WITHIN_DAYS))
        yield f"{on.isoformat()} {chance.choice(_BOOKING_HOURS)}:00"


def _active_patients_waiting(connection: sqlite3.Connection, day: date) -> list[int]:
    """Active patients with planned treatment on no appointment and none booked ahead."""
    return [patient for (patient,) in _rows(
        connection, "SELECT DISTINCT p.PatNum FROM procedurelog p "
        "JOIN patient pt ON pt.PatNum = p.PatNum WHERE pt.PatStatus = 0 AND p.ProcStatus = 1 "
        "AND p.AptNum = 0 AND p.ProcFee > 0 AND NOT EXISTS (SELECT 1 FROM appointment a "
        "WHERE a.PatNum = p.PatNum AND a.AptStatus = 1 AND date(a.AptDateTime) > ?) "
        "ORDER BY p.PatNum", day.isoformat())]


def _appointment(connection: sqlite3.Connection, day: date, patient: int, when: str,
                 planned: int = 0) -> int:
    """A scheduled appointment at `when`, made on `day`."""
    provider, clinic = _rows(connection, "SELECT PriProv, ClinicNum FROM patient "
                                         "WHERE PatNum = ?", patient)[0]
    return int(connection.execute(
        "INSERT INTO appointment (PatNum, AptStatus, Pattern, Op, ProvNum, AptDateTime, "
        "NextAptNum, ClinicNum, SecDateTEntry) VALUES (?, 1, '//XXXX//', 1, ?, ?, ?, ?, ?)",
        (patient, provider, when, planned, clinic, f"{day.isoformat()} 12:00:00")
    ).lastrowid or 0)


def _book_treatment(connection: sqlite3.Connection, day: date, chance: random.Random,
                    done: DayOfWork) -> None:
    waiting = _active_patients_waiting(connection, day)
    slots = _booking_slots(day, chance)
    for patient in sorted(chance.sample(waiting, min(len(waiting), TREATMENT_BOOKED_PER_DAY))):
        when = next(slots)
        apt = _appointment(connection, day, patient, when)
        connection.execute(      # Open Dental dates a procedure by its appointment
            "UPDATE procedurelog SET AptNum = ?, ProcDate = ? WHERE PatNum = ? "
            "AND ProcStatus = 1 AND AptNum = 0", (apt, when[:10], patient))
        done.treatment_booked += 1


def _book_planned(connection: sqlite3.Connection, day: date, chance: random.Random,
                  done: DayOfWork) -> None:
    planned = _rows(
        connection, "SELECT a.AptNum, a.PatNum FROM appointment a JOIN patient pt "
        "ON pt.PatNum = a.PatNum WHERE a.AptStatus = 6 AND pt.PatStatus = 0 AND NOT EXISTS "
        "(SELECT 1 FROM appointment r WHERE r.NextAptNum = a.AptNum) ORDER BY a.AptNum")
    slots = _booking_slots(day, chance)
    for planned_apt, patient in sorted(chance.sample(planned,
                                                      min(len(planned), PLANNED_BOOKED_PER_DAY))):
        when = next(slots)
        apt = _appointment(connection, day, patient, when, planned=planned_apt)
        connection.execute(
            "UPDATE procedurelog SET AptNum = ?, ProcDate = ? WHERE PlannedAptNum = ? "
            "AND ProcStatus = 1", (apt, when[:10], planned_apt))
        done.planned_booked += 1


def _log_calls(connection: sqlite3.Connection, day: date, chance: random.Random,
               done: DayOfWork) -> None:
    waiting = _active_patients_waiting(connection, day)
    follow_up = _rows(connection, "SELECT DefNum FROM definition WHERE Category = 27 "
                                  "ORDER BY ItemValue = 'TXFU' DESC, ItemOrder, DefNum LIMIT 1")
    kind = follow_up[0][0] if follow_up else 0
    for patient in sorted(chance.sample(waiting, min(len(waiting), CALLS_PER_DAY))):
        note = chance.choice(_CALL_NOTES)
        connection.execute(
            "INSERT INTO commlog (PatNum, CommDateTime, CommType, Note, Mode_, SentOrReceived, "
            "UserNum) VALUES (?, ?, ?, ?, ?, ?, 1)",
            (patient, f"{day.isoformat()} {chance.choice(_BOOKING_HOURS)}:00", kind, note,
             _TEXT if note.startswith("Texted") else _PHONE, _SENT))
        done.calls += 1
