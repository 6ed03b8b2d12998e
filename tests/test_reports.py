"""Weekly and monthly reports: exact figures from a small hand-made ledger.

Every replica row below is written by hand with the outcome it is meant to have (presented or
not, accepted or not, open, scheduled when, which aging bucket, which turnaround). The expected
figures are added up here from those stated outcomes, never from tc-sync's own functions, and
compared with the workbook's cells and with the numbers behind each chart of the HTML page.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from PIL import Image

from tc_sync.cli import main
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.records import Appointment, Claim, Coverage, Patient, Procedure, Provider
from tc_sync.reports.build import build_report
from tc_sync.reports.charts import Chart, png
from tc_sync.reports.period import Period, last_complete, parse_period
from tc_sync.reports.report import category_words

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)       # 09:00 in Chicago: the report's day
TODAY = date(2026, 11, 20)
OCTOBER = Period("monthly", date(2026, 10, 1), date(2026, 10, 31))
WINDOW = 60
SEEN = datetime(2026, 11, 20, 12, 0)


@dataclass(frozen=True)
class Proc:
    """A procedure row and what it is meant to count as (the scenario's truth)."""

    id: int
    patient: int
    code: str
    fee: int
    status: str
    planned: date | None
    provider: int = 1
    done: date | None = None
    appointment: int | None = None
    deleted: bool = False
    category: str = ""           # the CDT category a coordinator would name
    presented: bool = False      # counted as presented in October
    accepted_60: bool = False    # accepted within 60 days
    accepted_90: bool = False    # accepted within 90 days
    history: str = ""            # "accepted" / "not" when planned in the rate's year
    open: bool = False           # open treatment for the forecast
    scheduled_on: date | None = None   # on a future scheduled appointment that day


D = date
APPOINTMENTS = {  # id: (patient, status, day)
    101: (2, "scheduled", D(2026, 11, 25)), 102: (3, "scheduled", D(2026, 12, 28)),
    103: (5, "broken", D(2026, 10, 25)), 104: (6, "scheduled", D(2027, 2, 10)),
    105: (4, "complete", D(2026, 11, 15)), 106: (6, "scheduled", D(2026, 12, 5)),
    107: (3, "broken", D(2025, 10, 1)), 108: (2, "scheduled", D(2026, 11, 10)),
}
PROCS = [
    # October: presented (treatment coordination follows these codes)
    Proc(1, 1, "D2740", 1000, "complete", D(2026, 10, 5), done=D(2026, 10, 20),
         category="restorative", presented=True, accepted_60=True, accepted_90=True),
    Proc(2, 1, "D2950", 300, "planned", D(2026, 10, 5), category="restorative",
         presented=True, open=True),
    Proc(3, 2, "D3330", 900, "planned", D(2026, 10, 10), appointment=101,   # booked 46 days on
         category="endodontics", presented=True, accepted_60=True, accepted_90=True,
         scheduled_on=D(2026, 11, 25)),
    Proc(4, 3, "D7140", 250, "planned", D(2026, 10, 12), appointment=102,   # booked 77 days on
         category="oral_surgery", presented=True, accepted_90=True,
         scheduled_on=D(2026, 12, 28)),
    Proc(5, 4, "D2740", 1200, "complete", D(2026, 10, 31), done=D(2026, 11, 15),
         appointment=105, category="restorative", presented=True, accepted_60=True,
         accepted_90=True),
    Proc(6, 5, "D2391", 200, "planned", D(2026, 10, 20), provider=2, appointment=103,
         category="restorative", presented=True, open=True),               # broken appointment
    Proc(10, 5, "D2750", 500, "planned_inactive", D(2026, 10, 21), category="restorative",
         presented=True),
    Proc(15, 6, "D2740", 500, "planned", D(2026, 10, 6), appointment=106,   # exactly 60 days
         category="restorative", presented=True, accepted_60=True, accepted_90=True,
         scheduled_on=D(2026, 12, 5)),
    # October but not counted
    Proc(7, 6, "D1110", 120, "complete", D(2026, 10, 15), done=D(2026, 10, 15)),  # preventive
    Proc(9, 2, "D2740", 700, "planned", D(2026, 10, 10), deleted=True),     # deleted in the PMS
    Proc(11, 2, "D2740", 650, "deleted", D(2026, 10, 10)),
    Proc(16, 1, "D2740", 400, "existing_other_provider", D(2026, 10, 3)),
    Proc(8, 2, "D2740", 1000, "complete", D(2026, 9, 30), done=D(2026, 10, 5)),  # September
    # the acceptance rate's year: planned 2025-09-21 to 2026-09-20 (60 days before Nov 20)
    Proc(20, 1, "D2740", 1000, "complete", D(2026, 3, 1), done=D(2026, 3, 15),
         history="accepted"),
    Proc(21, 1, "D6010", 3000, "planned", D(2026, 4, 1), history="not", open=True),
    Proc(22, 3, "D2740", 1000, "planned", D(2025, 9, 21), appointment=107, history="not",
         open=True),
    Proc(23, 3, "D2740", 5000, "planned", D(2025, 9, 20), open=True),        # a day too early
    # other planned treatment (planned before the rate's year, or never coordinated)
    Proc(12, 7, "D2740", 5000, "planned", D(2025, 8, 1)),                     # inactive patient
    Proc(14, 6, "D1110", 120, "planned", D(2026, 8, 1)),                      # preventive
    Proc(24, 6, "D1110", 120, "planned", D(2026, 8, 1), appointment=104,
         scheduled_on=D(2027, 2, 10)),                                        # hygiene, booked
    Proc(25, 2, "D2740", 600, "planned", D(2025, 9, 1), appointment=108, open=True),  # past
]
CARRIERS = {10: "Acme Dental", 11: "Bluebird Benefits"}
PREDETERMINATIONS = [  # id, carrier, sent, original, received; days or None (left out)
    (201, 10, D(2026, 9, 20), None, D(2026, 10, 1), 11),
    (202, 10, D(2026, 10, 1), None, D(2026, 10, 8), 7),
    (203, 10, D(2026, 10, 2), None, D(2026, 10, 22), 20),
    (204, 10, D(2026, 10, 5), D(2026, 9, 25), D(2026, 10, 15), 20),   # resent: original counts
    (205, 11, D(2026, 10, 10), None, D(2026, 10, 15), 5),
    (206, 11, D(2026, 10, 20), None, D(2026, 11, 2), None),             # received in November
    (207, 10, D(2026, 10, 20), None, None, None),                       # not back yet
    (208, 10, D(2026, 10, 12), None, D(2026, 10, 10), None),            # back before sent
]
CLAIMS = [  # id, status, sent, received, fee, estimate, bucket on Oct 31 (None: not outstanding)
    (301, "sent", D(2026, 10, 20), None, 500, 400, "0-30"),
    (309, "sent", D(2026, 10, 1), None, 100, 80, "0-30"),                # 30 days
    (302, "sent", D(2026, 9, 15), None, 700, 500, "31-60"),
    (305, "received", D(2026, 9, 1), D(2026, 11, 5), 200, 150, "31-60"),  # received later
    (303, "sent", D(2026, 8, 10), None, 300, 200, "61-90"),
    (304, "sent", D(2026, 6, 1), None, 1000, 800, "90+"),
    (306, "received", D(2026, 9, 1), D(2026, 10, 15), 900, 700, None),
    (307, "sent", D(2026, 11, 3), None, 400, 300, None),
    (308, "unsent", None, None, 250, 200, None),
]
ITEMS = [  # key suffix, source, queue, owner, status, next follow-up
    (1, "main", "treatment", "dana", "open", D(2026, 10, 20)),   # overdue
    (2, "main", "treatment", "dana", "open", D(2026, 10, 31)),   # due on the last day: not
    (3, "main", "treatment", None, "open", D(2026, 10, 1)),      # overdue, unassigned
    (4, "main", "insurance", "lee", "resolved", D(2026, 10, 6)),
    (5, "main", "insurance", "lee", "open", D(2026, 11, 5)),
    (6, "north", "treatment", "dana", "open", D(2026, 10, 1)),   # a source not configured
]
EVENTS = [  # item, UTC time, event (Chicago is UTC-5 in October)
    (1, datetime(2026, 10, 2, 14, 0), "opened"),
    (1, datetime(2026, 10, 10, 14, 0), "changed"),
    (2, datetime(2026, 11, 1, 4, 30), "opened"),     # Oct 31, 23:30 in Chicago: in
    (3, datetime(2026, 10, 1, 3, 0), "opened"),      # Sep 30, 22:00 in Chicago: out
    (4, datetime(2026, 10, 5, 12, 0), "opened"),
    (4, datetime(2026, 10, 20, 12, 0), "resolved"),
    (5, datetime(2026, 9, 10, 12, 0), "opened"),
    (5, datetime(2026, 10, 12, 12, 0), "resolved"),
    (5, datetime(2026, 10, 25, 12, 0), "reopened"),
    (5, datetime(2026, 11, 1, 5, 30), "resolved"),   # Nov 1, 00:30 in Chicago: out
    (6, datetime(2026, 10, 10, 12, 0), "opened"),
]
EXPECTED_FLOW = {  # (queue, owner): (opened, resolved, overdue)
    ("insurance", "lee"): (2, 2, 0),
    ("treatment", "(unassigned)"): (0, 0, 1),
    ("treatment", "dana"): (2, 0, 1),
}


def put(connection: sa.Connection, table: sa.Table, **values: Any) -> None:
    """Insert a row, giving every required column not named a neutral value."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in values or column.nullable or (
                column.primary_key and column.autoincrement is True):
            continue
        money = isinstance(column.type, sa.types.TypeDecorator)
        python = Decimal if money else column.type.python_type
        row[column.name] = {int: 0, str: "", bool: False, float: 0.0, Decimal: 0,
                            datetime: SEEN, date: TODAY}[python]
    row.update(values)
    connection.execute(table.insert().values(row))


def seed(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for pms_id, abbreviation in ((1, "DOC"), (2, "HYG")):
            put(connection, replica[Provider], source_id="main", pms_id=pms_id,
                abbreviation=abbreviation, last_name="Staff", first_name="Provider")
        for pms_id in range(1, 8):
            put(connection, replica[Patient], source_id="main", pms_id=pms_id,
                last_name=f"Patient{pms_id}", first_name="Test", preferred_contact="none",
                status="inactive" if pms_id == 7 else "active")
        for pms_id, (patient, status, day) in APPOINTMENTS.items():
            put(connection, replica[Appointment], source_id="main", pms_id=pms_id,
                patient_id=patient, status=status, priority="normal",
                starts_at=datetime.combine(day, datetime.min.time()).replace(hour=9))
        for p in PROCS:
            put(connection, replica[Procedure], source_id="main", pms_id=p.id,
                patient_id=p.patient, code=p.code, status=p.status, fee=Decimal(p.fee),
                units=1, base_units=0, date_planned=p.planned, procedure_date=p.done,
                date_complete=p.done, appointment_id=p.appointment, provider_id=p.provider,
                deleted_at=SEEN if p.deleted else None)
        for carrier, name in CARRIERS.items():
            put(connection, replica[Coverage], source_id="main", pms_id=carrier,
                patient_id=1, ordinal=1, carrier_id=carrier, carrier_name=name)
        for pms_id, carrier, sent, original, received, _ in PREDETERMINATIONS:
            put(connection, replica[Claim], source_id="main", pms_id=pms_id, patient_id=1,
                claim_type="predetermination", status="received" if received else "sent",
                date_sent=sent, date_sent_original=original, date_received=received,
                carrier_id=carrier, fee=Decimal(100), estimate=Decimal(80))
        for pms_id, status, sent, received, fee, estimate, _ in CLAIMS:
            put(connection, replica[Claim], source_id="main", pms_id=pms_id, patient_id=2,
                claim_type="primary", status=status, date_sent=sent, date_received=received,
                carrier_id=10, fee=Decimal(fee), estimate=Decimal(estimate))
        put(connection, replica[Claim], source_id="main", pms_id=310, patient_id=2,
            claim_type="primary", status="sent", date_sent=D(2026, 10, 1), fee=Decimal(999),
            estimate=Decimal(999), deleted_at=SEEN)                        # deleted in the PMS
        for number, source, queue, owner, status, due in ITEMS:
            put(connection, items, item_key=f"unscheduled_treatment:{source}:{number}",
                source_id=source, kind="unscheduled_treatment", status=status,
                patient_id=number, queue=queue, owner=owner, next_follow_up=due,
                owed_since=D(2026, 9, 1), opened_at=SEEN, updated_at=SEEN)
        for number, at, event in EVENTS:
            source = "north" if number == 6 else "main"
            connection.execute(item_events.insert().values(
                item_key=f"unscheduled_treatment:{source}:{number}", at=at, event=event,
                detail="{}"))


def settings_for(ledger_url: str, window: int = WINDOW) -> Settings:
    return settings_from_mapping({
        "site_id": "report-test", "timezone": "America/Chicago", "ledger": {"url": ledger_url},
        "sources": {"main": {"kind": "opendental", "connection": {"host": "pms"}}},
        "reports": {"acceptance_window_days": window}}, label="test.yaml")


# --- the figures, added up from the scenario's stated outcomes ---------------------------------

def expected_acceptance(rows: list[Proc], accepted: str) -> dict[str, object]:
    taken = [p for p in rows if getattr(p, accepted)]
    presented = sum(p.fee for p in rows)
    patients = {p.patient for p in rows}
    return {"patients_presented": len(patients),
            "patients_accepted": len({p.patient for p in taken}),
            "presented": presented, "accepted": sum(p.fee for p in taken),
            "patient_rate": len({p.patient for p in taken}) / len(patients),
            "dollar_rate": sum(p.fee for p in taken) / presented}


def expected_groups(attribute: str, accepted: str) -> dict[str, dict[str, object]]:
    names = {1: "DOC", 2: "HYG"}
    groups: dict[str, list[Proc]] = {}
    for p in PROCS:
        if p.presented:
            name = names[p.provider] if attribute == "provider" else category_words(p.category)
            groups.setdefault(name, []).append(p)
    return {name: expected_acceptance(rows, accepted) for name, rows in sorted(groups.items())}


def expected_forecast() -> dict[int, tuple[Decimal, Decimal]]:
    history = [p for p in PROCS if p.history]
    rate = Decimal(sum(p.fee for p in history if p.history == "accepted")) / sum(
        p.fee for p in history)
    open_total = sum(p.fee for p in PROCS if p.open)
    found = {}
    for days in (30, 60, 90):
        scheduled = sum(p.fee for p in PROCS if p.scheduled_on
                        and (p.scheduled_on - TODAY).days < days)
        weighted = (open_total * rate * min(days, WINDOW) / WINDOW).quantize(Decimal("0.01"))
        found[days] = (Decimal(scheduled), weighted)
    return found


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'ledger.db'}"
    engine = open_ledger(url)
    seed(engine)
    files = build_report(engine, settings_for(url), "monthly", period=OCTOBER,
                         folder=folder / "out", now=NOW)
    engine.dispose()
    return folder, files


@pytest.fixture(scope="module")
def book(built: tuple[Path, Any]) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built[1].xlsx)


@pytest.fixture(scope="module")
def page_charts(built: tuple[Path, Any]) -> dict[str, tuple[dict[str, Any], bytes]]:
    text = built[1].html.read_text("utf-8")
    found = {}
    for match in re.finditer(r'<figure id="chart-(\w+)" data-chart="([^"]*)">'
                             r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)">', text):
        data = json.loads(match.group(2).replace("&quot;", '"').replace("&amp;", "&")
                          .replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">"))
        found[match.group(1)] = (data, base64.b64decode(match.group(3)))
    return found


def sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:] if any(row)]


# --- tests --------------------------------------------------------------------------------------

def test_the_report_files_are_named_after_the_period_and_hold_every_section(built, book):
    _, files = built
    assert files.html.name == "report-2026-10.html" and files.xlsx.name == "report-2026-10.xlsx"
    assert book.sheetnames == ["Summary", "Acceptance", "Forecast", "Turnaround", "Aging",
                               "Items", "Definitions"]


def test_acceptance_by_count_and_dollars_matches_the_scenario(book):
    rows = sheet_rows(book["Acceptance"])
    expected = {("All", "All"): expected_acceptance([p for p in PROCS if p.presented],
                                                    "accepted_60")}
    expected |= {("Provider", k): v for k, v in expected_groups("provider", "accepted_60").items()}
    expected |= {("Category", k): v for k, v in expected_groups("category", "accepted_60").items()}
    found = {(row["Grouped by"], row["Group"]): row for row in rows}
    assert set(found) == set(expected)
    for key, want in expected.items():
        row = found[key]
        assert row["Patients presented"] == want["patients_presented"], key
        assert row["Patients accepted"] == want["patients_accepted"], key
        assert row["Presented"] == want["presented"], key
        assert row["Accepted"] == want["accepted"], key
        assert row["Acceptance by count"] == pytest.approx(want["patient_rate"]), key
        assert row["Acceptance by dollars"] == pytest.approx(want["dollar_rate"]), key
    assert found[("All", "All")]["Presented"] == 4850          # the scenario, added by hand
    assert found[("All", "All")]["Accepted"] == 3600


def test_the_acceptance_window_is_configurable(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = open_ledger(url)
    seed(engine)
    wide = build_report(engine, settings_for(url, window=90), "monthly", period=OCTOBER,
                        folder=tmp_path, now=NOW).report
    engine.dispose()
    want = expected_acceptance([p for p in PROCS if p.presented], "accepted_90")
    assert wide.acceptance.accepted == want["accepted"] == 3850     # the oral surgery joins
    assert wide.acceptance.patients_accepted == want["patients_accepted"]
    assert ("90 days after it was planned" in dict(wide.definitions)["Accepted"])


def test_the_forecast_adds_scheduled_work_and_open_treatment_weighted_by_acceptance(book):
    expected = expected_forecast()
    rows = {row["Days ahead"]: row for row in sheet_rows(book["Forecast"])}
    assert set(rows) == {30, 60, 90}
    for days, (scheduled, weighted) in expected.items():
        assert Decimal(str(rows[days]["Scheduled"])) == scheduled
        assert Decimal(str(rows[days]["Open treatment x acceptance"])) == weighted
        assert Decimal(str(rows[days]["Forecast"])) == scheduled + weighted
    assert rows[90]["Acceptance rate used"] == pytest.approx(0.2)
    assert rows[30]["Open treatment"] == 10_100
    assert (rows[30]["Scheduled"], rows[60]["Scheduled"], rows[90]["Scheduled"]) == (
        1400, 1650, 1770)


def test_predetermination_turnaround_per_carrier_median_and_90th_percentile(book):
    rows = {row["Carrier"]: row for row in sheet_rows(book["Turnaround"])}
    days: dict[str, list[int]] = {}
    for _, carrier, _, _, _, value in PREDETERMINATIONS:
        if value is not None:
            days.setdefault(CARRIERS[carrier], []).append(value)
    assert days == {"Acme Dental": [11, 7, 20, 20], "Bluebird Benefits": [5]}
    # medians and nearest-rank 90th percentiles, worked out by hand from the lists above
    assert (rows["Acme Dental"]["Received"], rows["Acme Dental"]["Median days"],
            rows["Acme Dental"]["90th percentile days"]) == (4, 15.5, 20)
    assert (rows["Bluebird Benefits"]["Received"], rows["Bluebird Benefits"]["Median days"],
            rows["Bluebird Benefits"]["90th percentile days"]) == (1, 5, 5)
    assert (rows["All"]["Received"], rows["All"]["Median days"],
            rows["All"]["90th percentile days"]) == (5, 11, 20)


def test_claim_aging_buckets_and_totals_at_the_end_of_the_period(book):
    rows = {row["Days since sent"]: row for row in sheet_rows(book["Aging"])}
    for bucket in ("0-30", "31-60", "61-90", "90+"):
        mine = [c for c in CLAIMS if c[6] == bucket]
        assert rows[bucket]["Claims"] == len(mine), bucket
        assert rows[bucket]["Fee billed"] == sum(c[4] for c in mine), bucket
        assert rows[bucket]["Insurance estimate"] == sum(c[5] for c in mine), bucket
    outstanding = [c for c in CLAIMS if c[6]]
    assert (rows["All"]["Claims"], rows["All"]["Fee billed"]) == (
        len(outstanding), sum(c[4] for c in outstanding)) == (6, 2800)


def test_items_opened_resolved_and_overdue_per_queue_and_owner(book):
    rows = {(row["Queue"], row["Owner"]): (row["Opened"], row["Resolved"], row["Overdue"])
            for row in sheet_rows(book["Items"])}
    assert rows == EXPECTED_FLOW


def test_each_chart_exists_as_a_png_and_shows_the_figures_of_its_section(page_charts):
    assert set(page_charts) == {"acceptance_provider", "acceptance_category", "forecast",
                                "turnaround", "aging", "item_flow"}
    for _, image in page_charts.values():
        assert image.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(image)) as picture:
            assert picture.size == (800, 360)
            assert sum(1 for n in picture.convert("L").histogram() if n) > 10  # not blank
    providers = expected_groups("provider", "accepted_60")
    data = page_charts["acceptance_provider"][0]
    assert data["categories"] == list(providers)
    assert data["series"]["By count (patients)"] == [
        round(100 * v["patient_rate"], 1) for v in providers.values()]
    assert data["series"]["By dollars"] == [
        round(100 * v["dollar_rate"], 1) for v in providers.values()]
    categories = expected_groups("category", "accepted_60")
    data = page_charts["acceptance_category"][0]
    assert data["categories"] == list(categories)
    assert data["series"]["By dollars"] == [
        round(100 * v["dollar_rate"], 1) for v in categories.values()]
    forecast = expected_forecast()
    data = page_charts["forecast"][0]
    assert data["series"]["Scheduled"] == [float(forecast[d][0]) for d in (30, 60, 90)]
    assert data["series"]["Open treatment x acceptance"] == [float(forecast[d][1])
                                                             for d in (30, 60, 90)]
    data = page_charts["turnaround"][0]
    assert data["categories"] == ["Acme Dental", "Bluebird Benefits"]
    assert data["series"] == {"Median": [15.5, 5.0], "90th percentile": [20.0, 5.0]}
    data = page_charts["aging"][0]
    assert data["series"]["Fee billed"] == [float(sum(c[4] for c in CLAIMS if c[6] == b))
                                            for b in ("0-30", "31-60", "61-90", "90+")]
    data = page_charts["item_flow"][0]
    assert data["categories"] == [f"{q} / {o}" for q, o in sorted(EXPECTED_FLOW)]
    assert data["series"]["Overdue"] == [float(EXPECTED_FLOW[k][2]) for k in sorted(EXPECTED_FLOW)]


def test_the_workbook_carries_the_same_chart_images_as_the_page(built, page_charts):
    with zipfile.ZipFile(built[1].xlsx) as archive:
        media = [archive.read(name) for name in archive.namelist()
                 if name.startswith("xl/media/")]
    assert len(media) == 6
    for image in media:
        with Image.open(io.BytesIO(image)) as picture:
            assert picture.size == (800, 360)


def test_charts_are_deterministic(page_charts):
    chart = Chart("x", "Acceptance", "%", ["DOC", "HYG"], {"By dollars": [77.4, 0.0]})
    assert png(chart) == png(chart)
    empty = Chart("y", "Nothing", "$", [], {"Fee billed": []})
    assert png(empty).startswith(b"\x89PNG")


def test_the_definitions_are_written_on_the_page_and_in_the_workbook(built, book):
    text = built[1].html.read_text("utf-8")
    terms = [row["Term"] for row in sheet_rows(book["Definitions"])]
    assert terms[:3] == ["Presented", "Accepted", "Acceptance by count"]
    for term in ("Production forecast", "Predetermination turnaround", "Claim aging",
                 "Items opened, resolved, overdue"):
        assert term in terms
        assert f"<dt>{term}</dt>" in text
    assert "no later than 60 days after it was planned" in text
    assert "nearest rank" in text and "0-30, 31-60, 61-90 and 90+" in text
    assert "treatment planned from 2025-09-21 to 2026-09-20" in text


def test_the_page_is_self_contained_and_names_no_patient(built):
    text = built[1].html.read_text("utf-8")
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "Patient1" not in text and "Test" not in text.replace("tc-sync", "")


def test_periods_weeks_run_monday_to_sunday_and_default_to_the_last_complete_one():
    assert last_complete("weekly", D(2026, 11, 20)) == Period(
        "weekly", D(2026, 11, 9), D(2026, 11, 15))
    assert last_complete("monthly", D(2026, 11, 1)) == OCTOBER
    assert parse_period("monthly", "2026-10", TODAY) == OCTOBER
    assert parse_period("weekly", "2026-11-11", TODAY).label == "2026-W46"
    assert parse_period("monthly", "2026-02", TODAY).end == D(2026, 2, 28)


def test_the_report_command_writes_both_files_and_prints_their_paths(tmp_path, capsys):
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    seed(engine)
    engine.dispose()
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"timezone: America/Chicago\nledger:\n  url: sqlite:///{tmp_path}/ledger.db\n"
                      "sources:\n  main:\n    kind: opendental\n")
    code = main(["--config", str(config), "report", "weekly", "--period", "2026-10-14",
                 "--folder", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 0
    for name in ("report-2026-W42.html", "report-2026-W42.xlsx"):
        assert (tmp_path / "out" / name).is_file()
        assert str((tmp_path / "out" / name).resolve()) in printed
    assert main(["--config", str(config), "report", "monthly", "--period", "October"]) == 2
    assert "write e.g. 2026-11" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_postgres_ledger_gives_the_same_figures(postgres_url, tmp_path):
    engine = open_ledger(postgres_url)
    seed(engine)
    report = build_report(engine, settings_for(postgres_url), "monthly", period=OCTOBER,
                          folder=tmp_path, now=NOW).report
    engine.dispose()
    want = expected_acceptance([p for p in PROCS if p.presented], "accepted_60")
    assert (report.acceptance.presented, report.acceptance.accepted) == (
        want["presented"], want["accepted"])
    assert [(r.days, r.scheduled, r.weighted_open) for r in report.forecast.rows] == [
        (d, *expected_forecast()[d]) for d in (30, 60, 90)]
    assert [(r.carrier, r.median_days, r.p90_days) for r in report.turnaround] == [
        ("Acme Dental", 15.5, 20), ("Bluebird Benefits", 5.0, 5), ("All", 11.0, 20)]
    assert {(f.queue, f.owner): (f.opened, f.resolved, f.overdue)
            for f in report.flow} == EXPECTED_FLOW
    assert report.aging[-1].fee == 2800


# --- the demo practice, end to end: figures recomputed from Open Dental's own tables -------------

EXCLUDED_CODES = {"D4346", "D4355", "D4910", "D9110", "D9230", "D9310"}   # mappings/default.yaml


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from tc_sync.demo.practice import PracticeSpec, write_sqlite
    from tc_sync.pull.run import sync_source

    folder = tmp_path_factory.mktemp("demo")
    write_sqlite(folder / "practice.db", PracticeSpec(today=TODAY))
    settings = settings_from_mapping({
        "timezone": "America/Chicago", "ledger": {"url": f"sqlite:///{folder / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(folder / "practice.db")}}}}, label="demo.yaml")
    engine = open_ledger(settings.ledger.url)
    assert sync_source(engine, "main", settings.sources["main"], settings.sync,
                       full=True).outcome == "ok"
    report = build_report(engine, settings, "monthly", period=OCTOBER, folder=folder,
                          now=NOW).report
    engine.dispose()
    return folder / "practice.db", report


def od_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def test_demo_acceptance_matches_open_dental_tables(demo):
    path, report = demo
    window = 90                                   # the default
    presented, accepted = Decimal(0), Decimal(0)
    patients, accepting = set(), set()
    for patient, amount, code, status, planned, done, apt_status, apt_time in od_rows(path, """
            SELECT pl.PatNum, pl.ProcFee * (pl.UnitQty + pl.BaseUnits), pc.ProcCode,
                   pl.ProcStatus, pl.DateTP, pl.ProcDate, a.AptStatus, a.AptDateTime
            FROM procedurelog pl JOIN procedurecode pc ON pc.CodeNum = pl.CodeNum
            LEFT JOIN appointment a ON a.AptNum = pl.AptNum
            WHERE pl.DateTP BETWEEN '2026-10-01' AND '2026-10-31'
              AND pl.ProcStatus IN (1, 2, 8)"""):         # TP, C, TPi
        if code[:2] in ("D0", "D1") or code in EXCLUDED_CODES:
            continue
        limit = (date.fromisoformat(planned).toordinal() + window)
        complete = status == 2 and date.fromisoformat(done).toordinal() <= limit
        booked = apt_status in (1, 2) and date.fromisoformat(apt_time[:10]).toordinal() <= limit
        presented += Decimal(str(amount))
        patients.add(patient)
        if complete or booked:
            accepted += Decimal(str(amount))
            accepting.add(patient)
    assert presented > 0 and 0 < accepted < presented                  # a meaningful month
    assert (report.acceptance.presented, report.acceptance.accepted) == (presented, accepted)
    assert (report.acceptance.patients_presented, report.acceptance.patients_accepted) == (
        len(patients), len(accepting))


def test_demo_acceptance_per_presenter_follows_the_plans_each_user_presented(demo):
    path, report = demo
    presenters = {row.group: row for row in report.by_presenter}
    # The demo's saved plans are presented by users 1-3 (userod); other treatment by no one.
    named = dict(od_rows(path, "SELECT UserNum, UserName FROM userod"))
    with_plans = {named[n] for (n,) in od_rows(path, """
        SELECT DISTINCT tp.UserNumPresenter FROM treatplan tp
        JOIN proctp p ON p.TreatPlanNum = tp.TreatPlanNum
        JOIN procedurelog pl ON pl.ProcNum = p.ProcNumOrig
        WHERE tp.UserNumPresenter > 0 AND pl.DateTP BETWEEN '2026-10-01' AND '2026-10-31'""")}
    assert with_plans and with_plans <= set(presenters)
    assert sum(row.presented for row in report.by_presenter) == report.acceptance.presented


def test_demo_aging_and_turnaround_match_open_dental_tables(demo):
    path, report = demo
    end = "2026-10-31"
    buckets: dict[str, list[Decimal]] = {}
    for fee, age in od_rows(path, f"""
            SELECT ClaimFee, julianday('{end}') - julianday(DateSent) FROM claim
            WHERE ClaimType <> 'PreAuth' AND ClaimStatus IN ('S', 'P', 'R')
              AND DateSent > '0001-01-01' AND DateSent <= '{end}'
              AND ((DateReceived <= '0001-01-01' AND ClaimStatus <> 'R')
                   OR DateReceived > '{end}')"""):
        bucket = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 \
            else "90+"
        buckets.setdefault(bucket, []).append(Decimal(str(fee)))
    found = {row.bucket: (row.claims, row.fee) for row in report.aging}
    for bucket in ("0-30", "31-60", "61-90", "90+"):
        fees = buckets.get(bucket, [])
        assert found[bucket] == (len(fees), sum(fees, Decimal(0))), bucket
    assert found["All"][0] > 10
    turnaround: dict[str, list[int]] = {}
    for carrier, days in od_rows(path, """
            SELECT ca.CarrierName, julianday(c.DateReceived) - julianday(
                CASE WHEN c.DateSentOrig > '0001-01-01' THEN c.DateSentOrig ELSE c.DateSent END)
            FROM claim c JOIN insplan ip ON ip.PlanNum = c.PlanNum
            JOIN carrier ca ON ca.CarrierNum = ip.CarrierNum
            WHERE c.ClaimType = 'PreAuth' AND c.DateReceived BETWEEN '2026-10-01' AND '2026-10-31'
              AND c.DateSent > '0001-01-01'"""):
        if days >= 0:
            turnaround.setdefault(carrier, []).append(int(days))
    assert turnaround, "the demo practice has predeterminations back in October"
    found_days = {row.carrier: row.count for row in report.turnaround if row.carrier != "All"}
    assert found_days == {carrier: len(days) for carrier, days in turnaround.items()}
