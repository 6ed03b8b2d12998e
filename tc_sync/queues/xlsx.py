"""The queues as one Excel workbook: a summary sheet, then one sheet per queue."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tc_sync.queues.columns import Column, Format
from tc_sync.queues.rows import QueueRow
from tc_sync.queues.snapshot import Snapshot, Tally

MONEY_FORMAT = '"$"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_NUMBER_FORMATS = {Format.MONEY: MONEY_FORMAT, Format.DATE: DATE_FORMAT,
                   Format.DATETIME: DATETIME_FORMAT, Format.PRIORITY: "0.00",
                   Format.INTEGER: "0"}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_COLOUR_FILLS = {"green": PatternFill("solid", fgColor="C6EFCE"),
                 "amber": PatternFill("solid", fgColor="FFEB9C"),
                 "red": PatternFill("solid", fgColor="FFC7CE")}
_SUMMARY = "Summary"
_TALLY_HEADERS = ["Open items", "Due now", "Escalated", "Amount"]


def sheet_titles(queues: Iterable[str]) -> dict[str, str]:
    """A distinct, valid sheet title for each queue (Excel: 31 characters, no []:*?/\\)."""
    titles: dict[str, str] = {}
    taken = {_SUMMARY.lower()}
    for queue in queues:
        base = re.sub(r"[\[\]:*?/\\]", "-", queue).strip("'") [:31] or "queue"
        title, n = base, 1
        while title.lower() in taken:
            n += 1
            title = f"{base[:31 - len(str(n)) - 1]} {n}"
        taken.add(title.lower())
        titles[queue] = title
    return titles


def workbook(snapshot: Snapshot) -> bytes:
    """The whole workbook, as the bytes of an .xlsx file."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _SUMMARY
    titles = sheet_titles(snapshot.queues)
    _summary_sheet(summary, snapshot, titles)
    for queue, title in titles.items():
        _queue_sheet(book.create_sheet(title), snapshot, queue)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    for index, header in enumerate(headers, start=1):
        cell = _set(sheet, row, index, header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center")


def _shown_width(value: Any, kind: Format) -> int:
    if value is None:
        return 0
    return {Format.MONEY: 14, Format.DATE: 10, Format.DATETIME: 16}.get(kind, len(str(value)))


def _queue_sheet(sheet: Worksheet, snapshot: Snapshot, queue: str) -> None:
    columns = snapshot.columns(queue)
    rows = snapshot.queues[queue]
    _header(sheet, 1, [column.header for column in columns])
    widths = [len(column.header) for column in columns]
    for r, row in enumerate(rows, start=2):
        for c, column in enumerate(columns, start=1):
            value = column.value(row)
            _set(sheet, r, c, value if value != "" else None,
                 _NUMBER_FORMATS.get(column.format))
            widths[c - 1] = max(widths[c - 1], _shown_width(value, column.format))
    _finish_table(sheet, columns, widths, len(rows))


def _finish_table(sheet: Worksheet, columns: list[Column], widths: list[int],
                  count: int) -> None:
    """Frozen header, filters, widths, and a page that prints landscape with its header."""
    last = get_column_letter(len(columns))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    for index, (column, width) in enumerate(zip(columns, widths, strict=True), start=1):
        # The header always fits beside its filter button; long values stop at the cap.
        header = len(column.header) + 4
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(width + 2, header), max(column.max_width, header))
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def _tally_cells(sheet: Worksheet, row: int, first: int, tally: Tally) -> None:
    for offset, value in enumerate((tally.items, tally.due, tally.escalated)):
        _set(sheet, row, first + offset, value, "#,##0")
    _set(sheet, row, first + 3, tally.amount, MONEY_FORMAT)


def _summary_sheet(sheet: Worksheet, snapshot: Snapshot, titles: dict[str, str]) -> None:
    heading = _set(sheet, 1, 1, f"Work queues: {snapshot.site_id} ({snapshot.scope})")
    heading.font = Font(bold=True, size=14)
    _set(sheet, 2, 1, f"Built {snapshot.built_at:%Y-%m-%d %H:%M} "
                      f"({snapshot.built_at.tzname()}); "
                      "rebuilt after every sync: reopen the file for the latest.")
    row = 4
    _header(sheet, row, ["Queue", "Sheet", *_TALLY_HEADERS])
    everything: list[QueueRow] = []
    for queue, title in titles.items():
        row += 1
        everything += snapshot.queues[queue]
        _set(sheet, row, 1, queue)
        _set(sheet, row, 2, title)
        _tally_cells(sheet, row, 3, snapshot.tally(snapshot.queues[queue]))
    row += 1
    _set(sheet, row, 1, "All queues")
    _tally_cells(sheet, row, 3, snapshot.tally(everything))
    for cell in sheet[row]:
        cell.font = Font(bold=True)
    row += 2
    _header(sheet, row, ["Queue", "What", *_TALLY_HEADERS])
    for queue in titles:
        for label, tally in snapshot.by_kind(queue):
            row += 1
            _set(sheet, row, 1, queue)
            _set(sheet, row, 2, label)
            _tally_cells(sheet, row, 3, tally)
    row += 2
    _freshness(sheet, row, snapshot)
    for letter, width in zip("ABCDEF", (22, 44, 22, 12, 12, 16), strict=True):
        sheet.column_dimensions[letter].width = width


def _freshness(sheet: Worksheet, row: int, snapshot: Snapshot) -> None:
    _header(sheet, row, ["Data from", "Freshness", "Last successful sync"])
    for source in snapshot.freshness:
        row += 1
        _set(sheet, row, 1, source.source_id)
        status = _set(sheet, row, 2, f"{source.colour}: {source.reason}")
        status.fill = _COLOUR_FILLS.get(source.colour, PatternFill())
        last = source.last_success_at
        _set(sheet, row, 3, last.replace(tzinfo=None) if last else "never",
             DATETIME_FORMAT)
