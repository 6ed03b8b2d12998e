"""The synthetic practice in Dentrix's shape: schema admin, the Developer Program's views and
the base tables integrators read (tests, demos, benchmarks).

Dentrix's schema is only partly public. These tables hold the names the adapter reads
(adapters/dentrix), including its [guess]es, and the codes its manifest maps, so the fixture
shows what the adapter assumes, not more. What the fixture adds that Dentrix may not have is
marked: the base tables behind the views (patient, appt, rsc) hold only what the views need.
Payments sit in fullproclog with chartstatus 90, as in Dentrix, so the adapter must skip them.

``python -m tc_sync.demo.dentrix --sqlite dentrix.db --patients 300`` writes a file an ODBC
session reads after ``ATTACH DATABASE 'dentrix.db' AS admin``.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tc_sync.demo.context import Row
from tc_sync.demo.odbcfixture import Fixture, Table, day, fixture_main, moment, open_practice
from tc_sync.demo.odbcfixture import write_sqlite_fixture as _write_sqlite
from tc_sync.demo.spec import PracticeSpec

VERSION = "17.2.0"
"""The data version the fixture reports (Dentrix G7.2)."""
PAYMENT = 90
"""fullproclog.chartstatus of a payment row (not a procedure)."""
CHART_STATUS = {"planned": 101, "booked": 105, "complete": 102, "existing": 103,
                "existing_other": 104}
"""The chart status codes the adapter's manifest maps (its best-known reading)."""
COMPLETE_STATUS = -106
PRACTICE_STATUSES = (1001, 1002, 1003, 1004)
"""The practice's own appointment statuses (unconfirmed, left message, confirmed, arrived)."""
CLAIM_TYPES = {"P": 0, "S": 1, "PreAuth": 2}
CONTACT_TYPES = {3: 5, 5: 3}
"""Open Dental commlog mode (phone 3, text 5) -> admin.contact.contacttype (call 5, SMS 3)."""
_PATIENT_STATUS = {0: 1, 1: 2, 2: 3, 3: 4, 4: 4, 5: 3, 6: 1}

_TOUCHED = "automodifiedtimestamp"
FIXTURE = Fixture("admin", (
    Table("patient", (("patid", "int"), ("lastname", "text"), ("firstname", "text"),
                      ("prefname", "text"), ("status", "int"), ("birthdate", "date"),
                      ("emailaddr", "text"), ("homephone", "char(16)"),
                      ("workphone", "char(16)"), ("pager", "char(16)"), ("guarid", "int"),
                      ("provid1", "int"), ("priminsuredid", "int"), ("secinsuredid", "int"),
                      (_TOUCHED, "timestamp")), ("patid",), _TOUCHED, hidden=True),
    Table("appt", (("apptid", "int"), ("patid", "int"), ("apptdate", "date"),
                   ("timehr", "int"), ("timemin", "int"), ("apptlen", "int"),
                   ("provid", "int"), ("opid", "int"), ("status", "int"), ("broken", "int"),
                   ("apptreason", "text"), ("createdate", "date"), (_TOUCHED, "timestamp")),
          ("apptid",), _TOUCHED, hidden=True),
    Table("rsc", (("rscid", "int"), ("rsctype", "int"), ("id1", "char(5)"),
                  ("lastname", "text"), ("firstname", "text"), ("inactive", "int")),
          ("rscid",), hidden=True),
    Table("fullproclog", (("procid", "int"), ("patid", "int"), ("chartstatus", "int"),
                          ("procdate", "date"), ("proccodeid", "int"), ("claimid", "int"),
                          ("provid", "int"), ("amt", "money"), ("amtpreauth", "money"),
                          ("amtsecpreauth", "money"), ("amtpriminspaid", "money"),
                          ("amtsecinspaid", "money"), ("createdate", "date"),
                          ("completiondate", "date"), ("toothrangestart", "int"),
                          (_TOUCHED, "timestamp")), ("procid",), _TOUCHED,
          indexes=("patid", "claimid")),
    Table("proccode", (("proccodeid", "int"), ("adacode", "char(5)"),
                       ("abbrevdescript", "text"), (_TOUCHED, "timestamp")),
          ("proccodeid",), _TOUCHED),
    Table("claim", (("claimid", "int"), ("patid", "int"), ("claimtype", "int"),
                    ("insuredid", "int"), ("createdate", "date"), ("datesent", "date"),
                    ("datereceived", "date"), ("totalreceived", "money"),
                    (_TOUCHED, "timestamp")), ("claimid",), _TOUCHED),
    Table("insured", (("insuredid", "int"), ("insplanid", "int"), ("idnum", "text"),
                      (_TOUCHED, "timestamp")), ("insuredid",), _TOUCHED),
    Table("inscarrier", (("insid", "int"), ("insconame", "text"), ("groupname", "text"),
                         ("payerid", "text"), ("phone", "char(16)"), ("maxcovperson", "money"),
                         (_TOUCHED, "timestamp")), ("insid",), _TOUCHED),
    Table("contact", (("contactid", "int"), ("patid", "int"), ("contactdate", "timestamp"),
                      ("contacttype", "int"), ("title", "text"), (_TOUCHED, "timestamp")),
          ("contactid",), _TOUCHED),
    Table("options", (("optionkey", "text"), ("optionsection", "text"),
                      ("optionvalue", "text")), ("optionkey", "optionsection")),
), views=(
    ("v_patient", "SELECT patid AS patient_id, lastname AS last_name, firstname AS first_name, "
                  "prefname AS preferred_name, status, birthdate AS birth_date, "
                  "emailaddr AS email, homephone AS home_phone, workphone AS work_phone, "
                  "pager AS mobile_phone, guarid AS guar_id, provid1 AS pri_provider_id, "
                  "automodifiedtimestamp AS modified_time_stamp FROM {s}patient"),
    ("v_appt", "SELECT apptid AS appointment_id, patid AS patient_id, "
               "apptdate AS appointment_date, timehr AS start_hour, timemin AS start_minute, "
               "apptlen AS length, provid AS provider_id, opid AS operatory_id, "
               "status AS status_id, broken, apptreason AS reason, "
               "automodifiedtimestamp AS modified_time_stamp FROM {s}appt"),
    ("v_provider", "SELECT rscid AS provider_id, firstname AS first_name, "
                   "lastname AS last_name, inactive FROM {s}rsc WHERE rsctype = 1"),
    ("v_patient_insurance",
     "SELECT p.patid AS patient_id, p.firstname AS first_name, p.lastname AS last_name, "
     "i.insplanid AS primary_insurance_carrier_id, "
     "c.insconame AS primary_insurance_carrier_name, p.priminsuredid AS primary_insured_id "
     "FROM {s}patient p LEFT JOIN {s}insured i ON i.insuredid = p.priminsuredid "
     "LEFT JOIN {s}inscarrier c ON c.insid = i.insplanid"),
))


def _claim_lines(od: sqlite3.Connection) -> dict[int, dict[str, tuple[int, float]]]:
    """Per procedure: {claim type: (claim, insurance paid)} from Open Dental's claimprocs."""
    lines: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)
    for proc, claim, claim_type, paid in od.execute(
            "SELECT cp.ProcNum, cp.ClaimNum, c.ClaimType, cp.InsPayAmt FROM claimproc cp "
            "JOIN claim c ON c.ClaimNum = cp.ClaimNum WHERE cp.ClaimNum > 0 "
            "ORDER BY cp.ClaimProcNum"):
        lines[proc].setdefault(claim_type, (claim, paid))
    return lines


def _procedures(od: sqlite3.Connection) -> list[Row]:
    lines = _claim_lines(od)
    booked = {apt for (apt,) in od.execute("SELECT AptNum FROM appointment WHERE AptStatus = 1")}
    status_of = {1: "planned", 2: "complete", 3: "existing", 4: "existing_other"}
    rows: list[Row] = []
    for (proc, pat, status, proc_day, code, prov, fee, date_tp, stamp, tooth, apt,
         completed) in od.execute(
            "SELECT ProcNum, PatNum, ProcStatus, ProcDate, CodeNum, ProvNum, ProcFee, DateTP, "
            "DateTStamp, ToothNum, AptNum, DateComplete FROM procedurelog "
            "WHERE ProcStatus IN (1, 2, 3, 4) ORDER BY ProcNum"):
        kind = status_of[status]
        if kind == "planned" and apt in booked:
            kind = "booked"
        claims = lines.get(proc, {})
        claim = claims.get("PreAuth") if status == 1 else claims.get("P") or claims.get("S")
        rows.append((
            proc, pat, CHART_STATUS[kind], day(proc_day), code, claim[0] if claim else 0, prov,
            fee, claims["PreAuth"][1] if "PreAuth" in claims else 0.0, 0.0,
            claims["P"][1] if "P" in claims else 0.0, claims["S"][1] if "S" in claims else 0.0,
            day(date_tp) or day(proc_day), day(completed) if status == 2 else None,
            int(tooth) if str(tooth).isdigit() else 0, moment(stamp)))
    return rows


def _payments(od: sqlite3.Connection, first: int) -> list[Row]:
    """Insurance payments, as ledger rows of fullproclog (not procedures)."""
    rows: list[Row] = []
    for number, (pat, received, paid, stamp) in enumerate(od.execute(
            "SELECT PatNum, DateReceived, InsPayAmt, SecDateTEdit FROM claim "
            "WHERE ClaimStatus = 'R' AND InsPayAmt > 0 AND ClaimType <> 'PreAuth' "
            "ORDER BY ClaimNum"), start=first):
        rows.append((number, pat, PAYMENT, day(received), 0, 0, 0, -paid, 0.0, 0.0, 0.0, 0.0,
                     day(received), None, 0, moment(stamp)))
    return rows


def _appointments(od: sqlite3.Connection) -> list[Row]:
    rows: list[Row] = []
    for apt, pat, status, when, prov, op, pattern, confirmed, descript, entered, stamp in (
            od.execute(
                "SELECT AptNum, PatNum, AptStatus, AptDateTime, ProvNum, Op, Pattern, "
                "Confirmed, ProcDescript, SecDateTEntry, DateTStamp FROM appointment "
                "WHERE AptStatus IN (1, 2, 3, 5) ORDER BY AptNum")):
        starts = datetime.fromisoformat(str(when))
        status_id = (COMPLETE_STATUS if status == 2
                     else PRACTICE_STATUSES[int(confirmed or 0) % len(PRACTICE_STATUSES)])
        rows.append((apt, pat, starts.date().isoformat(), starts.hour, starts.minute,
                     5 * len(str(pattern)), prov, op, status_id, 1 if status in (3, 5) else 0,
                     descript, day(entered), moment(stamp)))
    return rows


def practice_rows(od: sqlite3.Connection) -> dict[str, list[Row]]:
    """Every fixture table's rows, made from the Open Dental-shaped practice in `od`."""
    rows: dict[str, list[Row]] = {}
    rows["patient"] = [
        (pat, last, first, preferred, _PATIENT_STATUS[status], day(birth), email, home, work,
         mobile, guarantor, prov, primary or 0, secondary or 0, moment(stamp))
        for pat, last, first, preferred, status, birth, email, home, work, mobile, guarantor,
        prov, primary, secondary, stamp in od.execute(
            "SELECT p.PatNum, p.LName, p.FName, p.Preferred, p.PatStatus, p.Birthdate, "
            "p.Email, p.HmPhone, p.WkPhone, p.WirelessPhone, p.Guarantor, p.PriProv, "
            "(SELECT pp.InsSubNum FROM patplan pp WHERE pp.PatNum = p.PatNum AND "
            "pp.Ordinal = 1), (SELECT pp.InsSubNum FROM patplan pp WHERE pp.PatNum = p.PatNum "
            "AND pp.Ordinal = 2), p.DateTStamp FROM patient p ORDER BY p.PatNum")]
    rows["appt"] = _appointments(od)
    rows["rsc"] = [(prov, 1, abbr, last, first, hidden) for prov, abbr, last, first, hidden in
                   od.execute("SELECT ProvNum, Abbr, LName, FName, IsHidden FROM provider")]
    procedures = _procedures(od)
    first_payment = max((int(str(row[0])) for row in procedures), default=0) + 1
    rows["fullproclog"] = procedures + _payments(od, first_payment)
    rows["proccode"] = [(num, code, abbr, moment(stamp)) for num, code, abbr, stamp in
                        od.execute("SELECT CodeNum, ProcCode, AbbrDesc, DateTStamp "
                                   "FROM procedurecode")]
    rows["claim"] = [
        (claim, pat, CLAIM_TYPES[claim_type], sub, day(service) or day(sent),
         day(sent) if status in ("S", "R") else None, day(received) if status == "R" else None,
         paid, moment(stamp))
        for claim, pat, claim_type, sub, service, sent, status, received, paid, stamp in
        od.execute("SELECT ClaimNum, PatNum, ClaimType, InsSubNum, DateService, DateSent, "
                   "ClaimStatus, DateReceived, InsPayAmt, SecDateTEdit FROM claim")]
    rows["insured"] = [(sub, plan, subscriber, moment(stamp)) for sub, plan, subscriber, stamp
                       in od.execute("SELECT InsSubNum, PlanNum, SubscriberID, SecDateTEdit "
                                     "FROM inssub")]
    rows["inscarrier"] = list(od.execute(
        "SELECT ip.PlanNum, c.CarrierName, ip.GroupName, c.ElectID, c.Phone, "
        "COALESCE((SELECT MIN(b.MonetaryAmt) FROM benefit b WHERE b.PlanNum = ip.PlanNum "
        "AND b.BenefitType = 5 AND b.CovCatNum = 0 AND b.QuantityQualifier = 0 "
        "AND b.CoverageLevel = 1 AND b.TimePeriod IN (1, 2) AND b.CodeNum = 0 "
        "AND b.MonetaryAmt > 0), 0), ip.SecDateTEdit FROM insplan ip "
        "JOIN carrier c ON c.CarrierNum = ip.CarrierNum"))
    rows["contact"] = [(num, pat, moment(when), CONTACT_TYPES.get(mode, 1), "Contact",
                        moment(stamp)) for num, pat, when, mode, stamp in od.execute(
        "SELECT CommlogNum, PatNum, CommDateTime, Mode_, DateTStamp FROM commlog")]
    rows["options"] = [("Data_Version", "General", VERSION)]
    return rows


def build(spec: PracticeSpec) -> dict[str, list[Row]]:
    """The practice of `spec` in Dentrix's tables."""
    with open_practice(spec) as od:
        return practice_rows(od)


def write_sqlite(path: Path, spec: PracticeSpec) -> None:
    """Write the practice as a SQLite file to ATTACH as admin."""
    _write_sqlite(path, FIXTURE, build(spec))


def main(argv: Sequence[str] | None = None) -> int:
    """Write a Dentrix-shaped synthetic practice to a SQLite file."""
    return fixture_main(argv, pms="Dentrix", schema="admin", write=write_sqlite)


if __name__ == "__main__":
    sys.exit(main())
