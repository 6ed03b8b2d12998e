"""`tc-sync verify` on Open Dental's real 21.1.9 schema, and on the demo practice.

The practice is written the way Open Dental's client writes it (sql_mode '', its own
procedure codes): one patient or claim per case of issue 13. With the parity mappings
(mappings/opendental-reports.yaml) every queue equals Open Dental's report and verify exits 0;
a snooze, a site's window and a PMS change it has not synced are each reported with their
reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tc_sync.cli import main
from tc_sync.commands.demo import build_practice
from tc_sync.verify.source import parity_mappings_file

from .test_conformance import real_schema  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.mysql, pytest.mark.conformance]

TODAY = datetime.now(UTC).date()
"""The practice's today (the configuration's time zone is UTC)."""


def at(day: date, hour: int = 9) -> str:
    return f"{day} {hour:02d}:00:00"


@dataclass
class Practice:
    """Rows written as Open Dental's client writes them."""

    connection: object
    ids: dict[str, int] = field(default_factory=dict)

    def insert(self, table: str, **values: object) -> int:
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                           tuple(values.values()))
            return int(cursor.lastrowid)

    def execute(self, sql: str, *params: object) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")
            cursor.execute(sql, params)

    def code(self, proc_code: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT CodeNum FROM procedurecode WHERE ProcCode = %s", (proc_code,))
            return int(cursor.fetchone()[0])

    def patient(self, status: int = 0) -> int:
        return self.insert("patient", LName="Test", FName="Pat", PatStatus=status, Guarantor=0,
                           PriProv=1, PreferContactMethod=2, HmPhone="555-0100")

    def procedure(self, patient: int, code: str, fee: float, status: int = 1, **links: object
                  ) -> int:
        return self.insert("procedurelog", PatNum=patient, CodeNum=self.code(code),
                           ProcStatus=status, ProcFee=fee, UnitQty=1, BaseUnits=0,
                           DateTP=str(TODAY - timedelta(days=30)),
                           ProcDate=str(TODAY - timedelta(days=30)), ProvNum=1, **links)

    def appointment(self, patient: int, status: int, day: date, **links: object) -> int:
        return self.insert("appointment", PatNum=patient, AptStatus=status, AptDateTime=at(day),
                           ProvNum=1, Pattern="//XX//", **links)

    def plan(self, month_renew: int = 0) -> tuple[int, int]:
        carrier = self.insert("carrier", CarrierName="Test Dental Mutual", Phone="555-0199")
        plan = self.insert("insplan", CarrierNum=carrier, MonthRenew=month_renew, PlanType="")
        return carrier, plan

    def cover(self, patient: int, plan: int) -> int:
        subscription = self.insert("inssub", PlanNum=plan, Subscriber=patient,
                                   SubscriberID="X1")
        self.insert("patplan", PatNum=patient, Ordinal=1, InsSubNum=subscription, Relationship=0)
        return subscription

    def claim(self, patient: int, plan: int, subscription: int, status: str, fee: float,
              procedures: list[int], *, claim_type: str = "P", sent: date | str | None = None,
              claimproc_status: int = 0, paid: float = 0, estimate: float = 0,
              **values: object) -> int:
        claim = self.insert(
            "claim", PatNum=patient, ClaimStatus=status, ClaimType=claim_type, ClaimFee=fee,
            PlanNum=plan, InsSubNum=subscription, ProvTreat=1,
            DateService=str(TODAY - timedelta(days=45)),
            DateSent=str(sent) if sent else "0001-01-01", **values)
        for procedure in procedures:
            self.insert("claimproc", ClaimNum=claim, ProcNum=procedure, PatNum=patient,
                        Status=claimproc_status, InsPayAmt=paid, InsPayEst=estimate,
                        FeeBilled=fee, PlanNum=plan, InsSubNum=subscription, ProvNum=1,
                        ProcDate=str(TODAY), DateCP="0001-01-01")
        return claim

    def tracking_status(self, name: str, days: str) -> int:
        return self.insert("definition", Category=31, ItemName=name, ItemValue=days,
                           ItemOrder=0)

    def track(self, claim: int, status: int, when: datetime) -> None:
        self.insert("claimtracking", ClaimNum=claim, TrackingType="StatusHistory",
                    TrackingDefNum=status, DateTimeEntry=when.strftime("%Y-%m-%d %H:%M:%S"),
                    Note="")


def build_cases(od: Practice) -> dict[str, int]:
    """One patient, appointment or claim for each case; returns their ids by name."""
    ids = {}
    _, plan = od.plan()
    # Treatment Finder and remaining benefits: a maximum stored with coverage level 0 (case 6),
    # $400 used and $200 pending this benefit year: $900 left. A diagnostic code counts too.
    p1 = ids["p1"] = od.patient()
    sub1 = od.cover(p1, plan)
    od.insert("benefit", PlanNum=plan, BenefitType=5, MonetaryAmt=1500, QuantityQualifier=0,
              CoverageLevel=0, TimePeriod=2, Percent=-1, CovCatNum=0, CodeNum=0)
    # A yearly perio limitation of its own (a category with code spans): the $250 it paid on
    # scaling is not counted against the annual maximum, as the Treatment Finder counts.
    perio = od.insert("covcat", Description="Perio", EbenefitCat=3, DefaultPercent=80)
    od.insert("covspan", CovCatNum=perio, FromCode="D4000", ToCode="D4999")
    od.insert("benefit", PlanNum=plan, BenefitType=5, MonetaryAmt=500, QuantityQualifier=0,
              CoverageLevel=1, TimePeriod=2, Percent=-1, CovCatNum=perio, CodeNum=0)
    scaling = od.procedure(p1, "D4341", 300, status=2)
    od.claim(p1, plan, sub1, "R", 300, [scaling], claimproc_status=1, paid=250,
             sent=TODAY - timedelta(days=50))
    crown = ids["crown"] = od.procedure(p1, "D2740", 1250)
    od.procedure(p1, "D0120", 50)
    done = [od.procedure(p1, "D2391", 300, status=2) for _ in range(8)]
    od.claim(p1, plan, sub1, "R", 300, [done[0]], claimproc_status=1, paid=400,
             sent=TODAY - timedelta(days=60))
    ids["sent_40_days"] = od.claim(p1, plan, sub1, "S", 300, [done[1]], estimate=200,
                                   sent=TODAY - timedelta(days=40))
    ids["sent_10_days"] = od.claim(p1, plan, sub1, "S", 300, [done[2]],
                                   sent=TODAY - timedelta(days=10))
    ids["hold_until_primary"] = od.claim(p1, plan, sub1, "H", 300, [done[3]],
                                         claim_type="S")                    # case 2
    ids["unsent"] = od.claim(p1, plan, sub1, "U", 150, [done[4]])
    ids["blank_date_sent"] = od.claim(p1, plan, sub1, "S", 300, [done[5]])   # case 4
    resubmitted = od.tracking_status("Resubmitted", "30")
    called = od.tracking_status("Called carrier", "0")
    ids["suppressed"] = od.claim(p1, plan, sub1, "S", 300, [done[6]], CustomTracking=resubmitted,
                                 sent=TODAY - timedelta(days=50))
    od.track(ids["suppressed"], resubmitted, datetime.combine(TODAY, datetime.min.time())
             - timedelta(days=5))
    # Case 5: the claim's status row is not its newest tracking row, so nothing suppresses it.
    ids["not_suppressed"] = od.claim(p1, plan, sub1, "S", 300, [done[7]],
                                     CustomTracking=resubmitted, sent=TODAY - timedelta(days=50))
    od.track(ids["not_suppressed"], resubmitted,
             datetime.combine(TODAY, datetime.min.time()) - timedelta(days=5))
    od.track(ids["not_suppressed"], called,
             datetime.combine(TODAY, datetime.min.time()) - timedelta(days=2))
    ids["preauth_sent"] = od.claim(p1, plan, sub1, "S", 1250, [crown], claim_type="PreAuth",
                                   claimproc_status=2, sent=TODAY - timedelta(days=3))
    ids["preauth_hold"] = od.claim(p1, plan, sub1, "H", 1250, [crown], claim_type="PreAuth",
                                   claimproc_status=2)
    # Case 1: a prospective patient's broken appointment; a patient's broken appointment though
    # another is scheduled ahead. Both are on Open Dental's Unscheduled List.
    p2 = ids["p2"] = od.patient(status=6)
    ids["broken_prospective"] = od.appointment(p2, 5, TODAY - timedelta(days=20))
    od.procedure(p2, "D2391", 180, AptNum=ids["broken_prospective"])
    p3 = ids["p3"] = od.patient()
    ids["broken_scheduled_ahead"] = od.appointment(p3, 5, TODAY - timedelta(days=20))
    od.procedure(p3, "D2391", 200, AptNum=ids["broken_scheduled_ahead"])
    od.appointment(p3, 1, TODAY + timedelta(days=14))
    ids["unscheduled_list"] = od.appointment(p3, 3, TODAY - timedelta(days=90))
    # Case 3: a planned appointment an appointment was made from, then broken, is scheduled.
    p4 = ids["p4"] = od.patient()
    ids["planned_made"] = od.appointment(p4, 6, TODAY - timedelta(days=30))
    od.procedure(p4, "D3330", 1100, PlannedAptNum=ids["planned_made"])
    ids["made_then_broken"] = od.appointment(p4, 5, TODAY - timedelta(days=7),
                                             NextAptNum=ids["planned_made"])
    ids["planned_waiting"] = od.appointment(p4, 6, TODAY - timedelta(days=10))
    od.procedure(p4, "D2950", 300, PlannedAptNum=ids["planned_waiting"])
    # Case 7: an inactive patient's returned predetermination; another whose procedure is
    # scheduled ahead (not listed).
    p5 = ids["p5"] = od.patient(status=2)
    _, plan5 = od.plan(month_renew=7)
    sub5 = od.cover(p5, plan5)
    implant = od.procedure(p5, "D6010", 2000)
    ids["preauth_returned_inactive"] = od.claim(
        p5, plan5, sub5, "R", 2000, [implant], claim_type="PreAuth", claimproc_status=2,
        estimate=1000, sent=TODAY - timedelta(days=20), DateReceived=str(TODAY - timedelta(
            days=5)))
    p6 = ids["p6"] = od.patient()
    ahead = od.appointment(p6, 1, TODAY + timedelta(days=7))
    bridge = od.procedure(p6, "D6240", 900, AptNum=ahead)
    ids["preauth_returned_scheduled"] = od.claim(
        p6, plan5, od.cover(p6, plan5), "R", 900, [bridge], claim_type="PreAuth",
        claimproc_status=2, sent=TODAY - timedelta(days=20),
        DateReceived=str(TODAY - timedelta(days=5)))
    return ids


@pytest.fixture
def od(mysql_server, real_schema):  # noqa: F811
    connection = mysql_server.connect(real_schema)
    yield Practice(connection)
    connection.close()


@pytest.fixture
def cases(od) -> dict[str, int]:
    return build_cases(od)


def write_config(tmp_path: Path, source, mappings: Path | None = None) -> str:
    connection = source.connection
    data = {"ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
            "sources": {"main": {"kind": "opendental", "connection": {
                "host": connection.host, "port": connection.port, "user": connection.user,
                "database": connection.database}}}}
    if mappings is not None:
        data["mappings_file"] = str(mappings)
    path = tmp_path / "tc-sync.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def verify(capsys, config: str, *arguments: str) -> tuple[int, dict]:
    code = main(["--config", config, "verify", "--format", "json", *arguments])
    return code, json.loads(capsys.readouterr().out)


def reports(found: dict) -> dict[str, dict]:
    return {r["report"]: r for r in found["sources"][0]["reports"]}


def differences(found: dict) -> dict[str, dict]:
    return {d["key"]: d for r in found["sources"][0]["reports"] for d in r["differences"]}


@pytest.fixture
def parity_config(tmp_path, source, cases) -> str:
    return write_config(tmp_path, source, parity_mappings_file())


def test_with_the_parity_mappings_every_queue_is_open_dentals_report(capsys, parity_config,
                                                                       cases):
    code, found = verify(capsys, parity_config)
    assert {key: (d["difference"], d["open_dental_amount"], d["tc_sync_amount"], d["reason"])
            for key, d in differences(found).items()} == {}
    assert code == 0
    agree = {name: (r["agree"], r["of"]) for name, r in reports(found).items()}
    assert agree == {
        "treatment_finder": (2, 2),            # p1, p4
        "claims_not_sent": (2, 2),             # unsent, hold until primary
        "outstanding_claims": (4, 4),          # 40 and 10 days, blank date sent, not suppressed
        "planned_tracker": (1, 1),
        "unscheduled_list": (4, 4),            # prospective, scheduled ahead, unsched., p4's
        "preauths_pending": (2, 2),
        "preauths_returned": (1, 1),           # the inactive patient's
        "remaining_benefits": (1, 1)}          # p1: $1,500 - $400 - $200
    assert found["sources"][0]["no_report"] == [
        "claim_denied", "claim_underpaid", "lab_case_not_ready", "referral_no_outcome",
        "insurance_not_verified"]


def test_each_report_lists_exactly_open_dentals_rows(source, cases):
    """The report queries themselves, subject for subject and cent for cent."""
    from tc_sync.adapter.registry import default_adapters_dir
    from tc_sync.drivers.registry import open_driver
    from tc_sync.verify.query import run_report
    from tc_sync.verify.reports import load_reports

    with open_driver(source) as driver:
        found = {report.name: {subject: (row.patient_id, row.amount) for subject, row in
                               run_report(driver, report, TODAY).items()}
                 for report in load_reports(default_adapters_dir() / "opendental")}
    c = cases
    assert found == {
        "treatment_finder": {c["p1"]: (c["p1"], 130000), c["p4"]: (c["p4"], 140000)},
        "claims_not_sent": {c["unsent"]: (c["p1"], 15000),
                            c["hold_until_primary"]: (c["p1"], 30000)},
        "outstanding_claims": {c[name]: (c["p1"], 30000) for name in (
            "sent_40_days", "sent_10_days", "blank_date_sent", "not_suppressed")},
        "planned_tracker": {c["planned_waiting"]: (c["p4"], 30000)},
        "unscheduled_list": {c["broken_prospective"]: (c["p2"], 18000),
                             c["broken_scheduled_ahead"]: (c["p3"], 20000),
                             c["unscheduled_list"]: (c["p3"], 0),
                             c["made_then_broken"]: (c["p4"], 0)},
        "preauths_pending": {c["preauth_sent"]: (c["p1"], 125000),
                             c["preauth_hold"]: (c["p1"], 125000)},
        "preauths_returned": {c["preauth_returned_inactive"]: (c["p5"], 200000)},
        "remaining_benefits": {c["p1"]: (c["p1"], 90000)}}


def test_a_snoozed_item_is_a_difference_explained_by_the_snooze(capsys, parity_config, cases):
    assert verify(capsys, parity_config)[0] == 0
    key = f"claim_unsent:main:{cases['unsent']}"
    until = TODAY + timedelta(days=10)
    assert main(["--config", parity_config, "items", "snooze", key, "--until",
                 str(until)]) == 0
    capsys.readouterr()
    code, found = verify(capsys, parity_config, "--no-sync")
    assert code == 0
    assert differences(found) == {key: {
        "key": key, "difference": "set_aside", "subject_id": cases["unsent"],
        "patient_id": cases["p1"], "open_dental_amount": 150.0, "tc_sync_amount": 150.0,
        "snoozed_until": str(until), "reason": "snoozed", "knobs": []}}
    assert (reports(found)["claims_not_sent"]["agree"], reports(found)["claims_not_sent"]["of"]
            ) == (1, 2)


def test_a_window_a_site_sets_is_named_as_the_knob_that_filters(capsys, tmp_path, source,
                                                                 cases):
    site = yaml.safe_load(parity_mappings_file().read_text())
    site["kinds"]["claim_outstanding"]["after_days"] = 30
    site_file = tmp_path / "site-mappings.yaml"
    site_file.write_text(yaml.safe_dump(site))
    code, found = verify(capsys, write_config(tmp_path, source, site_file))
    assert code == 0
    key = f"claim_outstanding:main:{cases['sent_10_days']}"
    assert set(differences(found)) == {key}
    difference = differences(found)[key]
    assert (difference["difference"], difference["reason"], difference["knobs"]) == (
        "missing", "filtered by mapping knob",
        ["kinds.claim_outstanding.after_days: 30 (Open Dental: 0)"])
    assert main(["--config", write_config(tmp_path, source, site_file), "verify",
                 "--no-sync"]) == 0
    text = capsys.readouterr().out
    assert "Outstanding Insurance Claims (claim_outstanding): agree 3 of 4" in text
    assert f"{key} (patient {cases['p1']}): listed by Open Dental ($300.00), no open item: " \
           "filtered by mapping knob" in text
    assert "kinds.claim_outstanding.after_days: 30 (Open Dental: 0)" in text
    assert "Test" not in text and "Pat" not in text            # ids and amounts, no names


def test_a_pms_change_not_yet_synced_is_unexplained_and_exits_1(capsys, od, parity_config,
                                                                cases):
    assert verify(capsys, parity_config)[0] == 0
    od.execute("UPDATE claim SET ClaimStatus = 'S', DateSent = %s WHERE ClaimNum = %s",
               str(TODAY), cases["unsent"])
    code, found = verify(capsys, parity_config, "--no-sync")
    assert code == 1 and found["unexplained"] == 2
    assert {key: (d["difference"], d["reason"]) for key, d in differences(found).items()} == {
        f"claim_unsent:main:{cases['unsent']}": ("extra", "unexplained"),
        f"claim_outstanding:main:{cases['unsent']}": ("missing", "unexplained")}
    assert verify(capsys, parity_config)[0] == 0            # a sync first catches up


def test_beside_a_running_daemon_verify_says_so_and_suggests_no_sync(tmp_path, parity_config):
    from tc_sync.ledger.db import open_ledger
    from tc_sync.runtime.lock import DaemonLock

    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    with DaemonLock(engine, ["main"]):
        held = subprocess.run([sys.executable, "-m", "tc_sync", "--config", parity_config,
                               "verify"], capture_output=True, text=True, check=False)
    engine.dispose()
    assert held.returncode == 1
    assert held.stderr.count("\n") == 1 and "--no-sync" in held.stderr
    assert "another tc-sync daemon" in held.stderr


def test_a_source_that_is_not_configured_is_a_configuration_error(capsys, parity_config):
    assert main(["--config", parity_config, "verify", "--source", "north"]) == 2
    assert "no source 'north'" in capsys.readouterr().err


# --- the demo practice ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    build_practice(folder, fresh=True)
    return folder


def demo_config(folder: Path, ledger: Path, mappings: Path | None) -> str:
    data = {"ledger": {"url": f"sqlite:///{ledger}"}, "sources": {"demo": {
        "kind": "opendental", "connection": {"driver": "sqlite",
                                             "path": str(folder / "practice.db")}}}}
    if mappings is not None:
        data["mappings_file"] = str(mappings)
    path = ledger.with_suffix(".yaml")
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_on_the_demo_with_the_parity_mappings_every_report_agrees(capsys, demo, tmp_path):
    config = demo_config(demo, tmp_path / "parity.db", parity_mappings_file())
    code = main(["--config", config, "verify"])
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if ": agree " in line]
    assert len(lines) == 8
    for line in lines:
        agree, of = line.rsplit(": agree ", 1)[1].split(" of ")
        assert agree == of, line
    assert code == 0, text


def test_on_the_demo_with_its_own_mappings_verify_prints_each_report_and_why(demo, tmp_path):
    subprocess.run([sys.executable, "-m", "tc_sync", "demo", "--dir", str(demo)],
                   capture_output=True, check=True)
    run = subprocess.run([sys.executable, "-m", "tc_sync", "--config",
                          str(demo / "tc-sync.yaml"), "verify"], capture_output=True,
                         text=True, check=False)
    for title in ("Treatment Finder", "Claims Not Sent", "Outstanding Insurance Claims",
                  "Planned Appointment Tracker", "Unscheduled List",
                  "Predeterminations pending", "Predeterminations returned",
                  "Remaining benefits"):
        assert f"  {title} (" in run.stdout, title
    assert "filtered by mapping knob" in run.stdout          # the defaults differ on purpose
    assert ("claim_denied, claim_underpaid, lab_case_not_ready, referral_no_outcome, "
            "insurance_not_verified: Open Dental has no report") in run.stdout
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_column_the_reports_read_is_in_open_dentals_24_3_schema():
    """The reports run on 21.1.9 above; they must also read only columns 24.3 still has."""
    import re
    import xml.etree.ElementTree as ET

    from tc_sync.adapter.registry import default_adapters_dir
    from tc_sync.verify.reports import load_reports

    from .test_conformance import DOCS, need

    need(DOCS)
    documented = {(table.get("name"), column.get("name"))
                  for table in ET.parse(DOCS).getroot().iter("table")
                  for column in table.iter("column")}
    missing = []
    for report in load_reports(default_adapters_dir() / "opendental"):
        sql = re.sub(r"--[^\n]*", "", report.sql)
        tables = set(re.findall(r"(?:FROM|JOIN)\s+(\w+)", sql))
        aliases = {table: table for table in tables} | {
            alias: table for table, alias in re.findall(r"(?:FROM|JOIN)\s+(\w+)\s+(\w+)", sql)
            if alias.upper() not in ("INNER", "LEFT", "JOIN", "WHERE", "ON")}
        for alias, column in re.findall(r"\b(\w+)\.(\w+)\b", sql):
            if alias in aliases and (aliases[alias], column) not in documented:
                missing.append(f"{report.spec.sql}: {aliases[alias]}.{column}")
    assert missing == []
