"""The synthetic practice in Eaglesoft's shape: owner PPM, the tables integrators read (tests,
demos, benchmarks).

Eaglesoft's schema is not published. These tables hold the names the adapter reads
(adapters/eaglesoft) and behave as its manifest assumes: planned services are treatment not
yet done (status 'A' once booked on an appointment), a predetermination is a claim that
treatment-plan items point to, a claim is paid once an insurance payment is recorded on it,
and broken appointments sit on the unscheduled list (classification 4). Completed work is in
the ledger (transactions), not in planned_services. There is no change timestamp anywhere.

``python -m tc_sync.demo.eaglesoft --sqlite eaglesoft.db --patients 300`` writes a file an
ODBC session reads after ``ATTACH DATABASE 'eaglesoft.db' AS PPM``.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from tc_sync.demo.context import Row
from tc_sync.demo.odbcfixture import Fixture, Table, day, fixture_main, moment, open_practice
from tc_sync.demo.odbcfixture import write_sqlite_fixture as _write_sqlite
from tc_sync.demo.spec import PracticeSpec

VERSION = "24.1.0"
CLAIM_TYPES = {"P": 1, "S": 2, "PreAuth": 3}
"""The fixture's own insurance_claim.claim_type codes (Eaglesoft's are not public)."""
BOOKED = "A"
WALKED_OUT = 4
SCHEDULED, UNSCHEDULED_LIST = 1, 4
INSURANCE_PAYMENT = "I"
_PLAN_STATUS = {0: "S", 1: "A", 2: "I"}

FIXTURE = Fixture("PPM", (
    Table("patient", (("patient_id", "int"), ("first_name", "text"), ("last_name", "text"),
                      ("preferred_name", "text"), ("status", "char(1)"),
                      ("patient_status", "char(1)"), ("birth_date", "date"),
                      ("email_address", "text"), ("cell_phone", "char(16)"),
                      ("home_phone", "char(16)"), ("work_phone", "char(16)"),
                      ("responsible_party", "int"), ("preferred_dentist", "int"),
                      ("prim_employer_id", "int"), ("date_entered", "date")), ("patient_id",)),
    Table("services", (("service_code", "char(5)"), ("ada_code", "char(5)"),
                       ("description", "text")), ("service_code",)),
    Table("planned_services", (("patient_id", "int"), ("line_number", "int"),
                               ("service_code", "char(5)"), ("provider_id", "int"),
                               ("date_planned", "date"), ("fee", "money"), ("status", "char(1)"),
                               ("status_date", "timestamp"), ("appt_id", "int"),
                               ("tooth", "char(4)"), ("surface", "char(6)"),
                               ("description", "text")), ("patient_id", "line_number")),
    Table("appointment", (("appointment_id", "int"), ("patient_id", "int"),
                          ("start_time", "timestamp"), ("end_time", "timestamp"),
                          ("location_id", "int"), ("classification", "int"),
                          ("arrival_status", "int"), ("date_appointed", "timestamp"),
                          ("description", "text")), ("appointment_id",)),
    Table("treatment_plans", (("treatment_plan_id", "int"), ("patient_id", "int"),
                              ("description", "text"), ("status", "char(1)"),
                              ("date_entered", "date")), ("treatment_plan_id",)),
    Table("treatment_plan_items", (("treatment_plan_id", "int"), ("line_number", "int"),
                                   ("patient_id", "int"), ("claim_id", "int"),
                                   ("sort_order", "int")), ("treatment_plan_id", "line_number"),
          indexes=("claim_id",)),
    Table("insurance_claim", (("claim_id", "int"), ("patient_id", "int"),
                              ("date_created", "date"), ("provider_id", "int"),
                              ("prim_employer_id", "int"), ("prim_insurance_company_id", "int"),
                              ("claim_type", "int"), ("prim_submitted_total", "money"),
                              ("prim_total_paid", "money"), ("sec_total_paid", "money")),
          ("claim_id",)),
    Table("transactions", (("tran_num", "int"), ("patient_id", "int"), ("tran_date", "date"),
                           ("type", "char(1)"), ("amount", "money"), ("claim_id", "int")),
          ("tran_num",), indexes=("claim_id",)),
    Table("provider", (("provider_id", "int"), ("first_name", "text"), ("last_name", "text"),
                       ("position_id", "int")), ("provider_id",)),
    Table("system_preferences", (("version", "text"),), ("version",)),
))


def _status(od_status: int) -> tuple[str, str]:
    """Open Dental PatStatus -> (status, patient_status)."""
    if od_status == 1:
        return "A", "N"
    return ("A", "Y") if od_status in (0, 6) else ("I", "Y")


def _planned(od: sqlite3.Connection
             ) -> tuple[list[Row], dict[int, tuple[int, int]]]:
    """planned_services rows, and each Open Dental procedure's (patient, line)."""
    booked = {apt for (apt,) in od.execute("SELECT AptNum FROM appointment WHERE AptStatus = 1")}
    lines: dict[int, int] = defaultdict(int)
    where: dict[int, tuple[int, int]] = {}
    rows: list[Row] = []
    for proc, pat, code, prov, date_tp, fee, apt, tooth, surface, descript, stamp in od.execute(
            "SELECT pl.ProcNum, pl.PatNum, pc.ProcCode, pl.ProvNum, pl.DateTP, pl.ProcFee, "
            "pl.AptNum, pl.ToothNum, pl.Surf, pc.Descript, pl.DateTStamp FROM procedurelog pl "
            "JOIN procedurecode pc ON pc.CodeNum = pl.CodeNum WHERE pl.ProcStatus = 1 "
            "ORDER BY pl.PatNum, pl.ProcNum"):
        lines[pat] += 1
        where[proc] = (pat, lines[pat])
        appt = apt if apt in booked else None
        rows.append((pat, lines[pat], str(code)[1:], prov, day(date_tp), fee,
                     BOOKED if appt else None, moment(stamp), appt, tooth or None,
                     surface or None, descript))
    return rows, where


def _appointments(od: sqlite3.Connection) -> list[Row]:
    rows: list[Row] = []
    for apt, pat, status, when, op, pattern, descript, entered in od.execute(
            "SELECT AptNum, PatNum, AptStatus, AptDateTime, Op, Pattern, ProcDescript, "
            "SecDateTEntry FROM appointment WHERE AptStatus IN (1, 2, 3, 5) ORDER BY AptNum"):
        starts = datetime.fromisoformat(str(when))
        classification = SCHEDULED if status in (1, 2) else UNSCHEDULED_LIST
        rows.append((apt, pat, starts.isoformat(sep=" "),
                     (starts + timedelta(minutes=5 * len(str(pattern)))).isoformat(sep=" "),
                     op, classification, WALKED_OUT if status == 2 else 0, moment(entered),
                     descript))
    return rows


def _plans_and_items(od: sqlite3.Connection, where: dict[int, tuple[int, int]]
                     ) -> tuple[list[Row], list[Row]]:
    """Treatment plans, and a plan line for every planned service (with its claim, for a
    predetermination), on the patient's active plan (one is added where there is none)."""
    plans: list[Row] = []
    active: dict[int, int] = {}
    for plan, pat, heading, status, date_tp, entered in od.execute(
            "SELECT TreatPlanNum, PatNum, Heading, TPStatus, DateTP, SecDateEntry "
            "FROM treatplan ORDER BY TreatPlanNum"):
        plans.append((plan, pat, heading, _PLAN_STATUS.get(status, "A"),
                      day(date_tp) or day(entered)))
        if status == 1:
            active.setdefault(pat, plan)
    next_plan = max((int(str(row[0])) for row in plans), default=0) + 1
    preauth = {proc: claim for proc, claim in od.execute(
        "SELECT cp.ProcNum, cp.ClaimNum FROM claimproc cp JOIN claim c ON c.ClaimNum = "
        "cp.ClaimNum WHERE c.ClaimType = 'PreAuth'")}
    items: list[Row] = []
    for proc, (pat, line) in sorted(where.items(), key=lambda item: item[1]):
        if pat not in active:
            active[pat] = next_plan
            plans.append((next_plan, pat, "Treatment Plan", "A", None))
            next_plan += 1
        items.append((active[pat], line, pat, preauth.get(proc), line))
    return plans, items


def practice_rows(od: sqlite3.Connection) -> dict[str, list[Row]]:
    """Every fixture table's rows, made from the Open Dental-shaped practice in `od`."""
    rows: dict[str, list[Row]] = {}
    rows["patient"] = [
        (pat, first, last, preferred, *_status(status), day(birth), email, mobile, home, work,
         guarantor, prov, plan or 0, day(entered))
        for pat, first, last, preferred, status, birth, email, mobile, home, work, guarantor,
        prov, plan, entered in od.execute(
            "SELECT p.PatNum, p.FName, p.LName, p.Preferred, p.PatStatus, p.Birthdate, "
            "p.Email, p.WirelessPhone, p.HmPhone, p.WkPhone, p.Guarantor, p.PriProv, "
            "(SELECT s.PlanNum FROM patplan pp JOIN inssub s ON s.InsSubNum = pp.InsSubNum "
            "WHERE pp.PatNum = p.PatNum AND pp.Ordinal = 1), p.SecDateEntry FROM patient p "
            "ORDER BY p.PatNum")]
    rows["services"] = [(str(code)[1:], code, descript) for code, descript in od.execute(
        "SELECT ProcCode, Descript FROM procedurecode")]
    rows["planned_services"], where = _planned(od)
    rows["appointment"] = _appointments(od)
    rows["treatment_plans"], rows["treatment_plan_items"] = _plans_and_items(od, where)
    rows["insurance_claim"] = []
    rows["transactions"] = []
    for claim, pat, claim_type, status, service, sent, received, prov, plan, carrier, fee, \
            paid in od.execute(
            "SELECT c.ClaimNum, c.PatNum, c.ClaimType, c.ClaimStatus, c.DateService, "
            "c.DateSent, c.DateReceived, c.ProvTreat, c.PlanNum, ip.CarrierNum, c.ClaimFee, "
            "c.InsPayAmt FROM claim c JOIN insplan ip ON ip.PlanNum = c.PlanNum "
            "ORDER BY c.ClaimNum"):
        paid_now = paid if status == "R" else 0.0
        rows["insurance_claim"].append((
            claim, pat, day(sent) or day(service), prov, plan, carrier,
            CLAIM_TYPES[claim_type], fee, paid_now if claim_type != "S" else 0.0,
            paid_now if claim_type == "S" else 0.0))
        if paid_now and claim_type != "PreAuth":
            rows["transactions"].append((len(rows["transactions"]) + 1, pat, day(received),
                                         INSURANCE_PAYMENT, -paid_now, claim))
    rows["provider"] = [(prov, first, last, 1) for prov, first, last in od.execute(
        "SELECT ProvNum, FName, LName FROM provider")]
    rows["system_preferences"] = [(VERSION,)]
    return rows


def build(spec: PracticeSpec) -> dict[str, list[Row]]:
    """The practice of `spec` in Eaglesoft's tables."""
    with open_practice(spec) as od:
        return practice_rows(od)


def write_sqlite(path: Path, spec: PracticeSpec) -> None:
    """Write the practice as a SQLite file to ATTACH as PPM."""
    _write_sqlite(path, FIXTURE, build(spec))


def main(argv: Sequence[str] | None = None) -> int:
    """Write an Eaglesoft-shaped synthetic practice to a SQLite file."""
    return fixture_main(argv, pms="Eaglesoft", schema="PPM", write=write_sqlite)


if __name__ == "__main__":
    sys.exit(main())
