"""The report as an Excel workbook: a summary, one sheet per section (its table, then its
chart), and the definitions."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tc_sync.queues.xlsx import DATE_FORMAT, MONEY_FORMAT
from tc_sync.reports.charts import Drawn, draw
from tc_sync.reports.metrics import Acceptance
from tc_sync.reports.report import Report

HEADER_FONT = Font(bold=True, color="FFFFFF")         # as the queues' workbook
HEADER_FILL = PatternFill("solid", fgColor="305496")
HEADER_ALIGNMENT = Alignment(vertical="center")
PERCENT_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
SHEETS = ("Summary", "Acceptance", "Forecast", "Turnaround", "Aging", "Items", "Definitions")
ACCEPTANCE_HEADERS = ["Grouped by", "Group", "Patients presented", "Patients accepted",
                      "Acceptance by count", "Procedures presented", "Procedures accepted",
                      "Presented", "Accepted", "Acceptance by dollars"]


def _set(sheet: Worksheet, row: int, column: int, value: Any,
         number_format: str | None = None) -> Cell:
    """A value in a cell; text always stays text (a name starting with '=' is no formula)."""
    cell = sheet.cell(row, column)
    assert isinstance(cell, Cell)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def _header(sheet: Worksheet, row: int, headers: list[str]) -> None:
    for index, name in enumerate(headers, start=1):
        cell = _set(sheet, row, index, name)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGNMENT


def _rows(sheet: Worksheet, headers: list[str], rows: Sequence[Sequence[Any]],
          formats: Sequence[str | None]) -> None:
    """A table from row 1: its header, its rows (typed values, formatted), its widths."""
    _header(sheet, 1, headers)
    for r, values in enumerate(rows, start=2):
        for c, (value, number_format) in enumerate(zip(values, formats, strict=True), start=1):
            _set(sheet, r, c, value, number_format)
    for c, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = max(12, len(header) + 3)
    sheet.freeze_panes = "A2"


def _chart(sheet: Worksheet, drawn: Drawn, column: int, row: int = 2) -> None:
    """The chart's PNG beside the table (the numbers it shows are the table's); a sentence
    instead when it would be empty."""
    if drawn.chart.empty:
        _set(sheet, row, column, drawn.chart.empty_sentence)
        return
    sheet.add_image(Image(io.BytesIO(drawn.png)), f"{get_column_letter(column)}{row}")


def _acceptance_values(by: str, row: Acceptance) -> list[Any]:
    return [by, row.group, row.patients_presented, row.patients_accepted, row.patient_rate,
            row.procedures_presented, row.procedures_accepted, row.presented, row.accepted,
            row.dollar_rate]


def _summary(sheet: Worksheet, report: Report) -> None:
    title = _set(sheet, 1, 1, f"{report.site_id}: {report.period.kind} report, "
                              f"{report.period.title}")
    title.font = Font(bold=True, size=14)
    facts: list[tuple[str, Any, str | None]] = [
        ("Period from", report.period.start, DATE_FORMAT),
        ("Period to", report.period.end, DATE_FORMAT),
        ("Made", report.built_at.replace(tzinfo=None), "yyyy-mm-dd hh:mm"),
        ("Tracking began", report.tracking_since, DATE_FORMAT),
        ("Acceptance window (days)", report.window_days, COUNT_FORMAT),
        ("Acceptance by count", report.acceptance.patient_rate, PERCENT_FORMAT),
        ("Acceptance by dollars", report.acceptance.dollar_rate, PERCENT_FORMAT),
        ("Treatment presented", report.acceptance.presented, MONEY_FORMAT),
        ("Forecast, next 90 days", report.forecast.rows[-1].total, MONEY_FORMAT),
        ("Claims outstanding", report.aging[-1].fee, MONEY_FORMAT)]
    for row, (label, value, number_format) in enumerate(facts, start=3):
        _set(sheet, row, 1, label).font = Font(bold=True)
        _set(sheet, row, 2, value, number_format)
    if report.tracking_note is not None:
        _set(sheet, len(facts) + 6, 1, report.tracking_note)
    if report.maturing:
        _set(sheet, len(facts) + 4, 1, "Treatment planned less than the acceptance window ago "
                                       "has not had the whole window yet: rates can still rise.")
    _set(sheet, len(facts) + 5, 1, "Definitions: see the Definitions sheet.")
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 20


def workbook(report: Report, charts: dict[str, Drawn] | None = None) -> bytes:
    """The whole workbook, as the bytes of an .xlsx file."""
    charts = charts if charts is not None else draw(report)
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = SHEETS[0]
    sheets = {SHEETS[0]: first, **{name: book.create_sheet(name) for name in SHEETS[1:]}}
    _summary(sheets["Summary"], report)
    acceptance = [_acceptance_values("All", report.acceptance)]
    acceptance += [_acceptance_values("Provider", row) for row in report.by_provider]
    acceptance += [_acceptance_values("Category", row) for row in report.by_category]
    acceptance += [_acceptance_values("Presenter", row) for row in report.by_presenter]
    _rows(sheets["Acceptance"], ACCEPTANCE_HEADERS, acceptance,
          [None, None, COUNT_FORMAT, COUNT_FORMAT, PERCENT_FORMAT, COUNT_FORMAT, COUNT_FORMAT,
           MONEY_FORMAT, MONEY_FORMAT, PERCENT_FORMAT])
    _chart(sheets["Acceptance"], charts["acceptance_provider"], len(ACCEPTANCE_HEADERS) + 2)
    _chart(sheets["Acceptance"], charts["acceptance_category"], len(ACCEPTANCE_HEADERS) + 2,
           22)
    forecast = report.forecast
    _rows(sheets["Forecast"], ["Days ahead", "Scheduled", "Open treatment x acceptance",
                               "Forecast", "Open treatment", "Acceptance rate used", "From"],
          [[row.days, row.scheduled, row.weighted_open, row.total, forecast.open_treatment,
            forecast.rate, forecast.as_of] for row in forecast.rows],
          [COUNT_FORMAT, MONEY_FORMAT, MONEY_FORMAT, MONEY_FORMAT, MONEY_FORMAT,
           PERCENT_FORMAT, DATE_FORMAT])
    _chart(sheets["Forecast"], charts["forecast"], 9)
    _rows(sheets["Turnaround"], ["Carrier", "Received", "Median days", "90th percentile days"],
          [[row.carrier, row.count, row.median_days, row.p90_days]
           for row in report.turnaround], [None, COUNT_FORMAT, "0.0", COUNT_FORMAT])
    sheets["Turnaround"].column_dimensions["A"].width = 30
    _chart(sheets["Turnaround"], charts["turnaround"], 6)
    _rows(sheets["Aging"], ["Days since sent", "Claims", "Fee billed", "Insurance estimate"],
          [[row.bucket, row.claims, row.fee, row.estimate] for row in report.aging],
          [None, COUNT_FORMAT, MONEY_FORMAT, MONEY_FORMAT])
    _chart(sheets["Aging"], charts["aging"], 6)
    _rows(sheets["Items"], ["Queue", "Owner", "Opened", "Resolved", "Overdue"],
          [[row.queue, row.owner, row.opened, row.resolved, row.overdue]
           for row in report.flow], [None, None, COUNT_FORMAT, COUNT_FORMAT, COUNT_FORMAT])
    _chart(sheets["Items"], charts["item_flow"], 7)
    _definitions(sheets["Definitions"], report)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _definitions(sheet: Worksheet, report: Report) -> None:
    _header(sheet, 1, ["Term", "Definition"])
    for row, (term, text) in enumerate(report.definitions, start=2):
        _set(sheet, row, 1, term).font = Font(bold=True)
        _set(sheet, row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 110
