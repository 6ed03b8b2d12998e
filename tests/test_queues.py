"""Work queues as a coordinator opens them: the workbook, the CSVs, and how they are written.

The synthetic demo practice is synced into a SQLite ledger once; every file is then read back
(openpyxl for the workbook) and compared with the ledger's open items, which are the truth.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from tc_sync.config import ConfigError, load_settings, settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items.model import ItemKind
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import SQLITE_CACHE_KIB, open_ledger
from tc_sync.ledger.items import update_item
from tc_sync.ledger.schema import items, replica, sync_runs
from tc_sync.pull.run import sync_source
from tc_sync.queues import atomic
from tc_sync.queues.build import build_queues, csv_names, queues_folder, rebuild_after_cycle
from tc_sync.queues.row_cache import RowCache, RowRead, row_cache
from tc_sync.queues.rows import contact_for
from tc_sync.queues.xlsx import (
    DATE_FORMAT,
    MONEY_FORMAT,
    SMALLEST_SCALE,
    print_scale,
    shown_width,
)
from tc_sync.records import ClaimProcedure, Patient, Procedure, ProcedureCode

TODAY = date(2026, 11, 26)
FORMULA_NAME = '=HYPERLINK("http://example.invalid","click")'
MARKUP_NAME = "<img src=x onerror=alert(1)>"


def practice_settings(where: Path, /, **queues: object):  # type: ignore[no-untyped-def]
    return settings_from_mapping({
        "site_id": "queue-test", "timezone": "America/Chicago",
        "ledger": {"url": f"sqlite:///{where / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(where / "practice.db")}}},
        "queues": queues,
    }, label=str(where / "tc-sync.yaml"))


def synced_practice(folder: Path) -> sa.Engine:
    """The demo practice synced and reconciled; two patients given awkward names."""
    write_sqlite(folder / "practice.db", PracticeSpec(today=TODAY))
    settings = practice_settings(folder)
    engine = open_ledger(settings.ledger.url)
    run = sync_source(engine, "main", settings.sources["main"], settings.sync, full=True)
    assert run.outcome == "ok"
    reconcile_source(engine, "main", load_mappings(), TODAY, complete_run=True,
                     run_id=run.run_id)
    patients = replica[Patient]
    with engine.begin() as connection:
        claim_patient, treatment_patient = (connection.scalar(
            sa.select(items.c.patient_id).where(items.c.status == "open", items.c.kind == kind)
            .order_by(items.c.patient_id).limit(1))
            for kind in ("claim_outstanding", "unscheduled_treatment"))
        connection.execute(patients.update().where(patients.c.pms_id == claim_patient)
                           .values(last_name=FORMULA_NAME))
        connection.execute(patients.update().where(patients.c.pms_id == treatment_patient)
                           .values(first_name=MARKUP_NAME, preferred_name="Zoë"))
    return engine


def open_items(engine: sa.Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            sa.select(items).where(items.c.status == "open")).mappings()]


def per_queue(rows: list[dict]) -> dict[str, Counter]:
    found: dict[str, Counter] = {}
    for row in rows:
        found.setdefault(row["queue"], Counter())[row["item_key"]] += 1
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def item_keys(rows: list) -> list[str]:
    """The items the rows stand for: a patient's treatment row lists several."""
    return [key for row in rows for key in str(row["Item"]).split()]


TREATMENT_KINDS = ("unscheduled_treatment", "predetermination_returned", "benefits_expiring",
                   "planned_appointment_unscheduled")


def dollars_at_stake(engine: sa.Engine, open_: list[dict], source_id: str = "main") -> Decimal:
    """The items' dollars with each planned procedure counted once, worked out from the
    replica: a treatment item's procedures (a planned appointment's, a broken one's) priced
    fee x (units + base units); expiring benefits add none of their own. Any other item (a
    predetermination, a lab case or insurance check on a booked visit) is priced the same
    when its planned procedures add up to its amount, else adds its amount (a claim's fee).
    The items are all of `source_id`."""
    procedures, lines = replica[Procedure], replica[ClaimProcedure]
    assert {item["source_id"] for item in open_} <= {source_id}
    with engine.connect() as connection:
        planned = {row.pms_id: row for row in connection.execute(sa.select(procedures).where(
            procedures.c.status == "planned", procedures.c.source_id == source_id,
            procedures.c.deleted_at.is_(None)))}
        on_claim: dict[int, set[int]] = {}
        for claim_id, procedure_id in connection.execute(sa.select(
                lines.c.claim_id, lines.c.procedure_id).where(
                lines.c.source_id == source_id, lines.c.deleted_at.is_(None),
                lines.c.procedure_id.is_not(None))):
            on_claim.setdefault(claim_id, set()).add(procedure_id)
    by_unscheduled = {i["patient_id"]: json.loads(i["details"])["procedures"] for i in open_
                      if i["kind"] == "unscheduled_treatment"}
    fee = lambda p: planned[p].fee * (planned[p].units + planned[p].base_units)  # noqa: E731
    counted: set[int] = set()
    total = Decimal(0)
    for item in open_:
        details = json.loads(item["details"])
        if item["kind"] in ("unscheduled_treatment", "predetermination_returned"):
            ids = details["procedures"]
        elif item["kind"] == "benefits_expiring":
            ids = by_unscheduled[item["patient_id"]]
        elif item["kind"] == "planned_appointment_unscheduled":
            ids = [p for p, row in planned.items()
                   if row.planned_appointment_id == item["appointment_id"]]
        elif item["kind"] == "broken_appointment":
            ids = [p for p, row in planned.items() if row.appointment_id == item["appointment_id"]]
        else:
            if "procedures" in details:
                ids = details["procedures"]
            elif item["kind"] in ("lab_case_not_ready", "insurance_not_verified"):
                ids = [p for p, row in planned.items()
                       if row.appointment_id == item["appointment_id"]]
            else:
                ids = sorted(on_claim.get(item["claim_id"], ()))
            ids = [p for p in ids if p in planned]
            amount = Decimal(item["amount"] or 0).scaleb(-2)
            if not ids or sum(fee(p) for p in ids) != amount:
                total += amount
                continue
        for procedure in set(ids) - counted:
            total += fee(procedure)
        counted |= set(ids)
    return total


def sheet_rows(sheet) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


@contextmanager
def every_log_event() -> Iterator[list[dict]]:
    """Log events at every level, whatever level an earlier test configured."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as logs:
            yield logs
    finally:
        structlog.configure(**saved)


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sa.Engine]:
    folder = tmp_path_factory.mktemp("practice")
    return folder, synced_practice(folder)


@pytest.fixture(scope="module")
def built(practice, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder, engine = practice
    out = tmp_path_factory.mktemp("queues")
    result = build_queues(engine, practice_settings(folder), folder=out, today=TODAY)
    return out, result


@pytest.fixture(scope="module")
def book(built):  # type: ignore[no-untyped-def]
    return openpyxl.load_workbook(built[0] / "queues.xlsx")


def test_every_open_item_is_in_its_queue_exactly_once_in_the_workbook_and_the_csvs(
        practice, built, book):
    expected = per_queue(open_items(practice[1]))
    assert set(expected) == {"aged", "insurance", "scheduling", "treatment"}
    assert sum(sum(c.values()) for c in expected.values()) > 300
    for queue, keys in expected.items():
        assert Counter(item_keys(sheet_rows(book[queue]))) == keys
        assert Counter(item_keys(read_csv(built[0] / f"{queue}.csv"))) == keys
    assert book.sheetnames == ["Summary", "insurance", "scheduling", "treatment", "aged"]
    assert built[1].queues == {queue: sum(keys.values()) for queue, keys in expected.items()}


def test_each_queue_is_sorted_by_priority_then_next_follow_up(built, book):
    for queue in ("insurance", "scheduling", "treatment"):
        rows = sheet_rows(book[queue])
        order = [(-row["Priority"], row["Next follow-up"]) for row in rows]
        assert order == sorted(order)
        assert len({row["Priority"] for row in rows}) > 5      # an order that means something
        in_csv = [row["Item"] for row in read_csv(built[0] / f"{queue}.csv")]
        assert in_csv == [row["Item"] for row in rows]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.5, 2.0, 7.25]),
                          st.dates(date(2026, 1, 1), date(2026, 1, 5)),
                          st.text("abc", max_size=3)), max_size=40))
def test_rows_sort_by_priority_then_follow_up_then_key_ties_and_all(rows):
    from tc_sync.queues.rows import QueueRow, sort_rows

    made = [QueueRow(**{field.name: None for field in fields(QueueRow) if field.init} | {
        "priority": priority, "next_follow_up": day, "item_key": key})
        for priority, day, key in rows]
    assert [(row.priority, row.next_follow_up, row.item_key) for row in sort_rows(made)] == (
        sorted(rows, key=lambda row: (-row[0], row[1], row[2])))


def test_a_queue_sheet_has_a_frozen_header_filters_formats_and_widths(practice, book):
    sheet = book["insurance"]
    headers = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "A2"
    last_column = openpyxl.utils.get_column_letter(len(headers))
    assert sheet.auto_filter.ref == f"A1:{last_column}{sheet.max_row}"
    assert all(cell.font.bold for cell in sheet[1])
    column = {header: index + 1 for index, header in enumerate(headers)}
    amounts = {row["item_key"]: Decimal(row["amount"]).scaleb(-2)
               for row in open_items(practice[1]) if row["queue"] == "insurance"}
    for r in range(2, sheet.max_row + 1):
        key = sheet.cell(r, column["Item"]).value
        amount = sheet.cell(r, column["Amount"])
        assert amount.number_format == MONEY_FORMAT
        assert Decimal(str(amount.value)).quantize(Decimal("0.01")) == amounts[key]
        follow_up = sheet.cell(r, column["Next follow-up"])
        assert follow_up.is_date and follow_up.number_format == DATE_FORMAT
        sent = sheet.cell(r, column["Date sent"])
        assert sent.value is None or (sent.is_date and sent.number_format == DATE_FORMAT)
    widths = {header: sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
              for header, i in column.items()}
    assert all(len(header) < width <= 50 for header, width in widths.items())
    assert widths["Why now"] > widths["Attempts"]


def test_the_workbook_carries_what_she_prints_and_sorts_by_and_the_csv_every_column(
        built, book):
    headers = [cell.value for cell in book["insurance"][1]]
    assert headers[:len(DEFAULT_HEADERS)] == DEFAULT_HEADERS
    assert headers[len(DEFAULT_HEADERS):] == [
        "Priority", "Age (days)", "Appointment", "Carrier", "Date sent", "Days at carrier",
        "Item"]
    with (built[0] / "insurance.csv").open(encoding="utf-8-sig") as csv_file:
        in_csv = csv_file.readline().strip().split(",")
    assert set(headers) < set(in_csv)
    assert {"Treatment", "Bucket", "Carrier phone", "Claim #", "Codes"} <= set(in_csv) - set(
        headers)


DEFAULT_HEADERS = ["Patient", "Phone / email", "What", "Amount", "Why now", "Next step",
                   "Next follow-up", "Last contact", "Attempts", "Owner"]


def test_a_queue_sheet_prints_its_default_columns_landscape_legibly_with_its_header(book):
    for queue in ("insurance", "scheduling", "treatment"):
        sheet = book[queue]
        headers = [cell.value for cell in sheet[1]]
        defaults = [h for h in DEFAULT_HEADERS if h in headers]
        assert headers[:len(defaults)] == defaults and len(defaults) >= 9
        last = openpyxl.utils.get_column_letter(len(defaults))
        assert sheet.print_area == f"'{queue}'!$A$1:${last}${sheet.max_row}"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.print_title_rows == "$1:$1"
        letters = [openpyxl.utils.get_column_letter(i) for i in range(1, len(defaults) + 1)]
        widths = [shown_width(sheet.column_dimensions[letter].width) for letter in letters]
        assert print_scale(widths) >= SMALLEST_SCALE          # 11 pt prints at 8 pt or more
        setup = sheet.page_setup        # fitToWidth left out of the file means 1 (OOXML)
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        fonts = {cell.font.sz for row in sheet.iter_rows(max_row=20) for cell in row}
        assert min(size for size in fonts if size) >= 11        # None: Normal, 11 pt
        sorted_by = openpyxl.utils.get_column_letter(len(defaults) + 1)
        assert headers[len(defaults)] == "Priority"           # shown, past the print area
        assert not sheet.column_dimensions[sorted_by].hidden
        item = openpyxl.utils.get_column_letter(len(headers))
        assert headers[-1] == "Item"
        assert sheet.column_dimensions[item].hidden           # a collapsed group: + opens it
        assert sheet.column_dimensions[item].outlineLevel == 1


def test_columns_too_wide_for_one_legible_page_print_over_more_pages():
    assert print_scale([10] * 10) == 100
    assert print_scale([20] * 30) < SMALLEST_SCALE             # the old 27 columns: ~3 pt


def test_the_summary_sheet_prints_on_one_page(book):
    setup = book["Summary"].page_setup     # either left out of the file means 1 (OOXML)
    assert (setup.fitToWidth or 1, setup.fitToHeight or 1) == (1, 1)
    assert setup.orientation == "landscape"
    assert book["Summary"].sheet_properties.pageSetUpPr.fitToPage


def test_the_page_carries_the_default_columns_as_cells_and_the_rest_as_each_rows_detail(
        built):
    """The page is smaller: a row's other columns are one JSON array, not hidden cells."""
    import re

    page = (built[0] / "queues.html").read_text("utf-8")
    section = page.split('data-tab="insurance"', 2)[2].split("</section>", 1)[0]
    heads = re.findall(r'<th scope="col"[^>]*data-key="(\w+)"([^>]*)>', section)
    defaults = [key for key, rest in heads if "data-default" in rest]
    assert [key for key, _ in heads][:len(defaults)] == defaults     # defaults come first
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body)
    assert rows and all(row.count("<td") == len(defaults) for row in rows)
    block = section.split('<script type="application/json" class="details">', 1)[1]
    details = json.loads(block.split("</script>", 1)[0])
    assert len(details) == len(rows)
    assert all(len(detail) == len(heads) - len(defaults) for detail in details)
    claim = [key for key, _ in heads].index("claim_id") - len(defaults)
    in_csv = [row["Claim #"] for row in read_csv(built[0] / "insurance.csv")]
    assert [detail[claim] for detail in details] == in_csv


def test_the_csvs_have_the_workbooks_columns_in_its_order_and_its_rows(built, book):
    for queue in ("insurance", "scheduling", "treatment"):
        sheet = book[queue]
        with (built[0] / f"{queue}.csv").open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle))
        in_book = [cell.value for cell in sheet[1]]
        assert [name for name in header if name in in_book] == in_book
        assert len(read_csv(built[0] / f"{queue}.csv")) == sheet.max_row - 1


def test_the_summary_sheet_counts_and_totals_each_queue_each_dollar_once(practice, book):
    summary = [row for row in book["Summary"].iter_rows(values_only=True) if row[0]]
    by_queue = {row[0]: row for row in summary if row[1] in ("insurance", "scheduling",
                                                            "treatment")}
    every = open_items(practice[1])
    for queue in ("insurance", "scheduling", "treatment"):
        mine = [row for row in every if row["queue"] == queue]
        _, _, count, due, escalated, total = by_queue[queue]
        assert count == len(mine)
        assert due == sum(1 for row in mine if row["next_follow_up"] <= TODAY)
        assert escalated == sum(1 for row in mine if row["escalated"])
        assert Decimal(str(total)).quantize(Decimal("0.01")) == dollars_at_stake(
            practice[1], mine)
    added_up = Decimal(sum(row["amount"] or 0 for row in every
                           if row["queue"] == "treatment")).scaleb(-2)
    assert Decimal(str(by_queue["treatment"][5])) < added_up - 10_000    # no longer twice
    (everything,) = [row for row in summary if row[0] == "All queues"]
    assert everything[2] == len(every)
    assert Decimal(str(everything[5])).quantize(Decimal("0.01")) == dollars_at_stake(
        practice[1], every)
    assert any(row[0] == "main" and str(row[1]).startswith("green") for row in summary)


def test_the_treatment_queue_has_one_row_per_patient_listing_its_follow_ups(practice, built):
    rows = read_csv(built[0] / "treatment.csv")
    patients = Counter(row["Patient #"] for row in rows)
    assert patients.most_common(1)[0][1] == 1
    treatment = [i for i in open_items(practice[1]) if i["queue"] == "treatment"]
    mine: dict[int, set[str]] = {}
    for item in treatment:
        mine.setdefault(item["patient_id"], set()).add(item["item_key"])
    assert {int(row["Patient #"]): set(row["Item"].split()) for row in rows} == mine
    several = [row for row in rows if len(row["Item"].split()) > 1]
    assert len(several) > 20
    for row in several:
        assert ", " in row["What"] and row["Follow-ups"].count("[") == len(row["Item"].split())
    with_benefits = next(row for row in several
                         if row["What"].startswith("Unscheduled treatment, ")
                         and "benefits expiring" in row["What"])
    unscheduled = next(i for i in treatment if i["item_key"] in with_benefits["Item"].split()
                       and i["kind"] == "unscheduled_treatment")
    assert with_benefits["Amount"] == f"{unscheduled['amount'] / 100:.2f}"   # benefits not added
    assert with_benefits["Remaining benefits"]


def test_a_queue_shows_only_the_columns_that_apply_to_its_items(built, book):
    def headers(queue: str) -> set[str]:       # the CSV file: every column
        with (built[0] / f"{queue}.csv").open(encoding="utf-8-sig", newline="") as handle:
            return set(next(csv.reader(handle)))

    assert {"Carrier", "Carrier phone", "Date sent", "Bucket", "Claim #"} <= headers(
        "insurance")
    assert {"Remaining benefits", "Benefits renew", "Appointment #"} <= headers("treatment")
    scheduling = headers("scheduling")
    assert {"Appointment #", "Amount", "Provider"} <= scheduling
    assert not {"Claim #", "Carrier", "Bucket"} & scheduling
    for common in ("Patient", "Preferred name", "Contact by", "Phone / email", "Patient #",
                   "Codes", "Treatment", "Last contact", "Attempts", "Owner", "Clinic"):
        assert common in scheduling
    assert not {"Carrier", "Date sent"} & {cell.value for cell in book["scheduling"][1]}


def test_a_claim_row_names_the_patient_carrier_and_every_pms_id(practice, built):
    engine = practice[1]
    rows = {row["Item"]: row for row in read_csv(built[0] / "insurance.csv")}
    claim = next(item for item in open_items(engine) if item["kind"] == "claim_outstanding"
                 and item["queue"] == "insurance"
                 and json.loads(item["details"])["bucket"] == "90+")
    details = json.loads(claim["details"])
    patients, lines, codes = replica[Patient], replica[ClaimProcedure], replica[ProcedureCode]
    with engine.connect() as connection:
        patient = connection.execute(sa.select(patients).where(
            patients.c.pms_id == claim["patient_id"])).mappings().one()
        procedures = sorted(connection.execute(sa.select(lines.c.procedure_id).where(
            lines.c.claim_id == claim["claim_id"])).scalars())
        first_code = claim["codes"].split()[0]
        description = connection.scalar(sa.select(codes.c.description).where(
            codes.c.code == first_code))
    row = rows[claim["item_key"]]
    assert row["Patient"].lstrip("'") == f"{patient['last_name']}, {patient['first_name']}"
    assert row["Patient #"] == str(claim["patient_id"])
    assert row["Claim #"] == str(claim["claim_id"])
    assert row["Procedure #s"] == ", ".join(str(p) for p in procedures)
    assert row["Codes"] == claim["codes"]
    assert description in row["Treatment"]
    assert (row["Carrier"], row["Carrier phone"]) == (details["carrier"],
                                                      details["carrier_phone"])
    assert row["Date sent"] == details["date_sent"] and row["Bucket"] == "90+"
    sent = date.fromisoformat(details["date_sent"])
    assert row["Age (days)"] == str((TODAY - sent).days)
    assert row["Amount"] == f"{claim['amount'] / 100:.2f}"
    assert row["What"] == "Claim outstanding"


def test_a_treatment_row_shows_remaining_benefits_and_renewal(practice, built):
    rows = {key: row for row in read_csv(built[0] / "treatment.csv")
            for key in row["Item"].split()}
    item = next(item for item in open_items(practice[1])
                if item["kind"] == "benefits_expiring")
    details = json.loads(item["details"])
    row = rows[item["item_key"]]
    assert row["Remaining benefits"] == f"{details['remaining_benefits'] / 100:.2f}"
    assert row["Benefits renew"] == details["benefits_renew_on"]
    assert row["Carrier"] == details["carrier"]
    assert row["Procedure #s"]        # the treatment the benefits would pay for


@pytest.mark.parametrize(("method", "phones", "expected"), [
    ("mobile_phone", ("555-1", "555-2", "555-3", "a@b.c"), ("Mobile phone", "555-3")),
    ("text", ("555-1", "", "555-3", ""), ("Text", "555-3")),
    ("email", ("555-1", "", "", "a@b.c"), ("Email", "a@b.c")),
    ("email", ("555-1", "", "", ""), ("Email (none on file)", "555-1")),
    ("none", ("", "555-2", "", "a@b.c"), ("", "555-2")),
    ("do_not_call", ("555-1", "", "555-3", "a@b.c"), ("Do not call", "a@b.c")),
    ("do_not_call", ("555-1", "", "", ""), ("Do not call", "")),
])
def test_the_contact_shown_is_the_one_the_patient_prefers(method, phones, expected):
    home, work, mobile, email = phones
    assert contact_for(method, home=home, work=work, mobile=mobile, email=email) == expected


def test_text_that_looks_like_a_formula_stays_text(built, book):
    sheet = book["insurance"]
    patient_column = [cell.value for cell in sheet[1]].index("Patient") + 1
    cells = [sheet.cell(r, patient_column) for r in range(2, sheet.max_row + 1)]
    awkward = [cell for cell in cells if str(cell.value).startswith("=HYPERLINK")]
    assert awkward and all(cell.data_type == "s" for cell in awkward)
    names = [row["Patient"] for row in read_csv(built[0] / "insurance.csv")]
    assert any(name.startswith(f"'{FORMULA_NAME}") for name in names)
    assert not any(name.startswith("=") for name in names)


def test_the_files_are_for_owner_and_group_only_and_no_temporary_file_is_left(built):
    folder = built[0]
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".tc-sync-queues.json", "aged.csv", "insurance.csv", "queues.html",
                     "queues.xlsx", "scheduling.csv", "treatment.csv"]
    if os.name == "posix":
        assert {name: oct(stat.S_IMODE((folder / name).stat().st_mode)) for name in names} == (
            dict.fromkeys(names, oct(0o640)))


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "queues.csv"
    atomic.write_atomic(target, b"old queue\r\n")

    def power_cut(*_):  # type: ignore[no-untyped-def]
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", power_cut)
    with pytest.raises(OSError):
        atomic.write_atomic(target, b"new queue, half written")
    assert target.read_bytes() == b"old queue\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["queues.csv"]


def test_a_file_another_program_holds_is_skipped_and_written_next_time(practice, tmp_path,
                                                                      monkeypatch):
    folder, engine = practice
    settings = practice_settings(folder, formats=["xlsx", "csv"])
    real = atomic.write_atomic

    def excel_has_it_open(path: Path, content: bytes, **options: Any) -> None:
        if path.name == "queues.xlsx":
            raise PermissionError(13, "Permission denied")
        real(path, content, **options)

    monkeypatch.setattr("tc_sync.queues.build.write_atomic", excel_has_it_open)
    result = build_queues(engine, settings, folder=tmp_path, today=TODAY)
    assert list(result.skipped) == [tmp_path / "queues.xlsx"]
    assert "Permission denied" in result.skipped[tmp_path / "queues.xlsx"]
    assert sorted(p.name for p in result.written) == ["aged.csv", "insurance.csv",
                                                      "scheduling.csv", "treatment.csv"]
    monkeypatch.undo()
    again = build_queues(engine, settings, folder=tmp_path, today=TODAY)
    assert not again.skipped and (tmp_path / "queues.xlsx").exists()


def synced_an_hour_ago(ledger: sqlite3.Connection) -> None:
    """Move the ledger's write stamps an hour back: the queues' row cache re-reads what
    changed in the last couple of minutes, which would be all of a practice synced just now."""
    for table in (table.name for table in replica.values()):
        ledger.execute(f"UPDATE {table} SET last_changed = datetime(last_changed, '-1 hour')")
    ledger.execute("UPDATE items SET updated_at = datetime(updated_at, '-1 hour'), "
                   "planned_at = datetime(planned_at, '-1 hour')")


def test_a_rebuild_with_nothing_changed_reads_no_row_and_one_changed_item_is_picked_up(
        practice, tmp_path, monkeypatch):
    """The daemon rebuilds after every cycle; a quiet cycle must cost next to nothing."""
    folder, _ = practice
    with sqlite3.connect(folder / "ledger.db") as source, \
            sqlite3.connect(tmp_path / "ledger.db") as copy:
        source.backup(copy)             # a ledger of its own: this test changes an item
        synced_an_hour_ago(copy)
    settings = practice_settings(tmp_path)
    engine = open_ledger(settings.ledger.url)
    share = tmp_path / "share"
    first = build_queues(engine, settings, folder=share, today=TODAY)
    written = {path: path.stat().st_mtime_ns for path in first.written}
    reads: list[str] = []
    real = RowCache.rows

    def counted(*arguments: Any) -> Any:
        reads.append("rows")
        return real(*arguments)
    monkeypatch.setattr(RowCache, "rows", counted)

    quiet = build_queues(engine, settings, folder=share, today=TODAY)
    assert reads == [] and quiet.written == [] and quiet.queues == first.queues
    assert sorted(quiet.unchanged) == sorted(written)
    assert {path: path.stat().st_mtime_ns for path in written} == written

    with engine.connect() as connection:
        key, queue = connection.execute(sa.select(items.c.item_key, items.c.queue).where(
            items.c.status == "open", items.c.kind == "claim_outstanding")
            .order_by(items.c.item_key).limit(1)).one()
    with engine.begin() as connection:
        update_item(connection, key, {"owner": "Rosa"})     # as `tc-sync items` assigns it
    changed = build_queues(engine, settings, folder=share, today=TODAY)
    assert reads == ["rows"] and share / csv_names([queue])[queue] in changed.written
    assert row_cache(engine, ["main"]).last_read == RowRead(whole=False, patients=1)
    (row,) = [row for row in read_csv(share / csv_names([queue])[queue]) if row["Item"] == key]
    assert row["Owner"] == "Rosa"
    engine.dispose()


def test_a_sync_that_changed_a_patients_phone_rebuilds_the_queues(practice, tmp_path):
    """No item changed, but the replica did: the row shows the new phone."""
    folder, _ = practice
    with sqlite3.connect(folder / "ledger.db") as source, \
            sqlite3.connect(tmp_path / "ledger.db") as copy:
        source.backup(copy)
        synced_an_hour_ago(copy)
    settings = practice_settings(tmp_path)
    engine = open_ledger(settings.ledger.url)
    share = tmp_path / "share"
    build_queues(engine, settings, folder=share, today=TODAY)
    with engine.begin() as connection:
        key, queue, patient_id = connection.execute(sa.select(
            items.c.item_key, items.c.queue, items.c.patient_id).where(
            items.c.status == "open", items.c.kind == "claim_outstanding")
            .order_by(items.c.item_key).limit(1)).one()
        patients = replica[Patient]
        connection.execute(patients.update().where(patients.c.pms_id == patient_id).values(
            preferred_contact="mobile_phone", mobile_phone="(555)555-0999",
            last_changed=datetime.now(UTC).replace(tzinfo=None)))     # as a sync stamps it
        moment = datetime.now(UTC).replace(tzinfo=None)
        connection.execute(sync_runs.insert().values(
            source_id="main", mode="incremental", started_at=moment, finished_at=moment,
            outcome="ok", rows_read=1, rows_inserted=0, rows_updated=1, rows_deleted=0,
            rows_quarantined=0, statements=1, longest_statement_ms=0))
    build_queues(engine, settings, folder=share, today=TODAY)
    (row,) = [row for row in read_csv(share / csv_names([queue])[queue]) if row["Item"] == key]
    assert row["Phone / email"] == "(555)555-0999"
    engine.dispose()


def test_files_an_earlier_build_wrote_go_when_they_no_longer_apply(practice, tmp_path):
    folder, engine = practice
    build_queues(engine, practice_settings(folder), folder=tmp_path, today=TODAY)
    (tmp_path / "notes.txt").write_text("the coordinator's own file")
    build_queues(engine, practice_settings(folder, formats=["html"]), folder=tmp_path,
                 today=TODAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".tc-sync-queues.json", "notes.txt", "queues.html"]


def test_per_clinic_each_clinic_gets_a_folder_with_only_its_items(practice, tmp_path):
    folder, engine = practice
    result = build_queues(engine, practice_settings(folder, per_clinic=True),
                          folder=tmp_path, today=TODAY)
    assert not result.skipped
    clinics = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert clinics == ["HIL", "RIV"]
    for queue in ("insurance", "scheduling", "treatment"):
        whole = read_csv(tmp_path / f"{queue}.csv")
        split = Counter()
        for clinic in clinics:
            rows = read_csv(tmp_path / clinic / f"{queue}.csv")
            assert rows, f"{clinic} has no {queue} items"
            assert {row.get("Clinic", clinic) for row in rows} == {clinic}
            split.update(item_keys(rows))
        assert split == Counter(item_keys(whole))
        assert {row["Clinic"] for row in whole} == {"HIL", "RIV"}
    workbook = openpyxl.load_workbook(tmp_path / "RIV" / "queues.xlsx")
    assert "(RIV)" in workbook["Summary"]["A1"].value


def test_logs_of_a_build_carry_counts_never_a_patient_name(practice, tmp_path):
    folder, engine = practice
    with engine.connect() as connection:
        names = {name for row in connection.execute(sa.select(
            replica[Patient].c.last_name, replica[Patient].c.first_name)) for name in row}
    with every_log_event() as logs:
        build_queues(engine, practice_settings(folder), folder=tmp_path, today=TODAY)
    (built_event,) = [event for event in logs if event["event"] == "queues_built"]
    assert built_event["items"] > 300
    text = json.dumps(logs, default=str)
    assert not [name for name in names if len(name) > 3 and name in text]


def test_a_failed_build_after_a_cycle_is_logged_and_not_raised(practice, tmp_path):
    folder, engine = practice
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the queues folder should be")
    settings = practice_settings(folder, folder=str(blocker / "queues"))
    with every_log_event() as logs:
        assert rebuild_after_cycle(engine, settings, "main") is None
    (failed,) = [event for event in logs if event["event"] == "queues_failed"]
    assert failed["error_class"] in ("NotADirectoryError", "FileExistsError")
    assert failed["source"] == "main"


def test_the_daemon_rebuilds_the_queues_after_each_cycle(practice, tmp_path):
    from tc_sync.config.mappings_file import MappingsKeeper
    from tc_sync.runtime.daemon import Daemon

    write_sqlite(tmp_path / "practice.db", PracticeSpec(today=TODAY))
    settings = practice_settings(tmp_path, folder=str(tmp_path / "shared"))
    engine = open_ledger(settings.ledger.url)
    Daemon(engine, settings, MappingsKeeper()).run_job("main", False)
    engine.dispose()
    assert (tmp_path / "shared" / "queues.html").exists()
    book = openpyxl.load_workbook(tmp_path / "shared" / "queues.xlsx")
    assert book.sheetnames == ["Summary", "insurance", "scheduling", "treatment", "aged"]


def test_the_queues_folder_defaults_to_beside_a_sqlite_ledger(tmp_path):
    settings = settings_from_mapping({"ledger": {"url": f"sqlite:///{tmp_path / 'l.db'}"}})
    assert queues_folder(settings) == tmp_path / "queues"
    assert settings.queues.formats == ["xlsx", "csv", "html"]
    assert not settings.queues.per_clinic
    group = settings_from_mapping({"ledger": {"url": "postgresql+psycopg://tc@db/ledger"}})
    assert queues_folder(group) == Path("queues")


@pytest.mark.parametrize(("formats", "message"), [
    ("[xlsx, pdf]", "queues.formats[1]: Input should be 'xlsx', 'csv' or 'html'"),
    ("[]", "queues.formats: Value error, name at least one of xlsx, csv, html"),
    ("[csv, csv]", "queues.formats: Value error, a format is listed twice"),
])
def test_a_bad_queues_setting_names_file_line_and_column(tmp_path, formats, message):
    path = tmp_path / "tc-sync.yaml"
    path.write_text(f"queues:\n  folder: /srv/share/queues\n  formats: {formats}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:3:")
    assert message in problem


def test_the_demo_writes_the_queues_and_the_command_rebuilds_them(tmp_path):
    def tc_sync(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tc_sync", *arguments],
                              capture_output=True, text=True, check=False)

    demo = tc_sync("demo", "--dir", str(tmp_path / "demo"))
    assert demo.returncode == 0, demo.stderr
    queues = tmp_path / "demo" / "queues"
    assert f"work queues: {queues}" in demo.stdout
    assert "queues.xlsx" in demo.stdout and "open in a browser: file://" in demo.stdout
    assert {"queues.xlsx", "queues.html", "treatment.csv"} <= {p.name for p in queues.iterdir()}
    before = (queues / "queues.html").stat().st_mtime_ns
    rebuilt = tc_sync("--config", str(tmp_path / "demo" / "tc-sync.yaml"), "queues", "build")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "treatment" in rebuilt.stdout and " open" in rebuilt.stdout
    assert (queues / "queues.html").stat().st_mtime_ns > before
    elsewhere = tc_sync("--config", str(tmp_path / "demo" / "tc-sync.yaml"), "queues",
                        "build", "--folder", str(tmp_path / "share"))
    assert elsewhere.returncode == 0 and (tmp_path / "share" / "queues.xlsx").exists()


def test_built_time_and_freshness_are_in_the_practice_time_zone(practice, tmp_path):
    folder, engine = practice
    moment = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)        # 12:30 in Chicago
    build_queues(engine, practice_settings(folder), folder=tmp_path, today=TODAY, now=moment)
    summary = openpyxl.load_workbook(tmp_path / "queues.xlsx")["Summary"]
    assert summary["A2"].value.startswith("Built 2026-11-26 12:30 (CST)")


@pytest.mark.postgres
def test_a_postgres_ledger_gives_the_same_queues(practice, built, postgres_url, tmp_path):
    folder = practice[0]
    settings = practice_settings(folder)
    engine = open_ledger(postgres_url)
    run = sync_source(engine, "main", settings.sources["main"], settings.sync, full=True)
    reconcile_source(engine, "main", load_mappings(), TODAY, complete_run=True,
                     run_id=run.run_id)
    build_queues(engine, settings, folder=tmp_path, today=TODAY)
    engine.dispose()
    for queue in ("insurance", "scheduling", "treatment"):
        on_postgres = read_csv(tmp_path / f"{queue}.csv")
        on_sqlite = read_csv(built[0] / f"{queue}.csv")
        renamed = ("Patient", "Preferred name")      # the SQLite ledger's awkward names
        assert [{k: v for k, v in row.items() if k not in renamed} for row in on_postgres] == [
            {k: v for k, v in row.items() if k not in renamed} for row in on_sqlite]


def test_why_now_is_the_items_own_reasons_else_a_sentence_from_the_row(practice, built):
    from dataclasses import fields, replace

    from tc_sync.queues.reasons import next_step, why_now

    items_by_key = {item["item_key"]: item for item in open_items(practice[1])}
    merged = 0
    for queue in ("insurance", "treatment"):
        for row in read_csv(built[0] / f"{queue}.csv"):
            keys = row["Item"].split()
            reasons = [reason for key in keys
                       for reason in json.loads(items_by_key[key]["details"])["reasons"]]
            if len(keys) == 1:
                assert row["Why now"] == "; ".join(list(dict.fromkeys(reasons))[:3])
                continue
            merged += 1          # each reason told, the dollars at stake only once
            stakes = re.findall(r"\$[\d,.]+ at stake", row["Why now"])
            assert stakes and len(stakes) == len(set(stakes)), row["Why now"]
            assert row["Why now"].startswith(reasons[0])
    assert merged
    outstanding = next(row for row in read_csv(built[0] / "insurance.csv")
                       if row["What"] == "Claim outstanding")
    assert outstanding["Next step"].startswith(f"Call {outstanding['Carrier']}")
    from tc_sync.queues.rows import QueueRow

    row = QueueRow(**{field.name: None for field in fields(QueueRow) if field.init} | {
        "kind": ItemKind.BROKEN_APPOINTMENT, "amount": Decimal("450.00"), "age_days": 3,
        "parts": (), "reasons": ()})
    assert why_now(row) == "$450 appointment broken 3 days ago"
    assert next_step(row) == "Call to reschedule"
    told = replace(row, reasons=("$5,190 implant planned 12 days ago", "renews Jan 1"))
    assert why_now(told) == "$5,190 implant planned 12 days ago; renews Jan 1"
    returned = replace(row, reasons=("$5,190 at stake, answered 1 day ago",
                                      "the patient signed the treatment plan"))
    treatment = replace(row, reasons=("$5,190 at stake, planned 8 days ago",))
    assert why_now(replace(row, parts=(returned, treatment))) == (
        "$5,190 at stake, answered 1 day ago; the patient signed the treatment plan; "
        "planned 8 days ago")
    assert why_now(replace(row, parts=(returned, replace(row, reasons=("$5,190 at stake",))))
                   ) == "$5,190 at stake, answered 1 day ago; the patient signed the treatment plan"
    expiring = replace(row, reasons=("$1,263 at stake, owed 85 days ago",
                                      "benefits renew 2027-01-01, $1,263 left"))
    renewing = replace(row, reasons=("$5,190 at stake, planned 85 days ago",
                                     "benefits renew 2027-01-01, $1,263 left"))
    assert why_now(replace(row, parts=(renewing, expiring))) == (
        "$5,190 at stake, planned 85 days ago; benefits renew 2027-01-01, $1,263 left; "
        "owed 85 days ago")


def test_a_broken_appointment_shows_its_procedures_amount_provider_and_date_planned(
        practice, built):
    rows = {row["Item"]: row for row in read_csv(built[0] / "scheduling.csv")}
    broken = [i for i in open_items(practice[1]) if i["kind"] == "broken_appointment"]
    assert broken and any(i["amount"] for i in broken)
    for item in broken:
        row = rows[item["item_key"]]
        assert row["Amount"] == f"{(item['amount'] or 0) / 100:.2f}"
        assert row["Provider"]
    assert any(row["Date planned"] for row in rows.values())


def test_patient_portion_is_the_fee_less_the_insurance_estimates(practice, built):
    engine = practice[1]
    item = next(i for i in open_items(engine) if i["kind"] == "unscheduled_treatment"
                and i["queue"] == "treatment")
    ids = json.loads(item["details"])["procedures"]
    procedures, lines = replica[Procedure], replica[ClaimProcedure]
    with engine.connect() as connection:
        fees = sum(row.fee * (row.units + row.base_units) for row in connection.execute(
            sa.select(procedures).where(procedures.c.pms_id.in_(ids))))
        estimates = [row.estimate for row in connection.execute(sa.select(lines).where(
            lines.c.procedure_id.in_(ids), lines.c.status == "estimate"))]
    (row,) = [r for r in read_csv(built[0] / "treatment.csv")
              if item["item_key"] in r["Item"].split()]
    assert estimates
    assert row["Patient portion"] == f"{fees - sum(estimates):.2f}"
    portions = [r["Patient portion"] for r in read_csv(built[0] / "treatment.csv")]
    assert sum(1 for p in portions if p) > 20


def test_a_claim_row_gives_the_carrier_its_phone_and_days_at_the_carrier(practice, built):
    rows = read_csv(built[0] / "insurance.csv")
    outstanding = [row for row in rows if row["What"] == "Claim outstanding"]
    for row in outstanding:
        assert row["Carrier"] and row["Carrier phone"]
        sent = date.fromisoformat(row["Date sent"])
        assert row["Days at carrier"] == str((TODAY - sent).days)
        assert row["Next step"] == f"Call {row['Carrier']} {row['Carrier phone']}"


def test_rows_read_a_few_patients_at_a_time_are_the_rows_read_at_once(practice, built,
                                                                       tmp_path, monkeypatch):
    from tc_sync.queues import rows as queue_rows

    monkeypatch.setattr(queue_rows, "_BATCH", 7)      # a patient's items never split
    build_queues(practice[1], practice_settings(practice[0]), folder=tmp_path, today=TODAY)
    for queue in ("insurance", "scheduling", "treatment"):
        assert read_csv(tmp_path / f"{queue}.csv") == read_csv(built[0] / f"{queue}.csv")


def test_a_build_leaves_the_ledgers_page_cache_as_it_was(practice, tmp_path):
    engine = practice[1]
    build_queues(engine, practice_settings(practice[0]), folder=tmp_path, today=TODAY)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
