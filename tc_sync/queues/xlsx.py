"""The queues as one Excel workbook: a summary sheet, then one sheet per queue.

Written in openpyxl's write-only mode: each sheet streams to the file row by row as it is
appended, so a queue of 50,000 items holds no worksheet of cell objects in memory. That mode
wants a sheet's layout (widths, frozen header, page setup) before its first row, so a queue's
values are gathered first and its widths measured from them. Style objects are made once: a
queue column's number format lives on one cell that carries each row's value in turn (the row
is written when it is appended, which frees the cell for the next one).

A queue sheet shows the default columns (those the page shows first) and prints them:
landscape, one page wide at a legible size, the header on every page; the other columns
follow in a collapsed group (the + above them opens it), outside the print area.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import Outline, PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tc_sync.queues.columns import Column, Format
from tc_sync.queues.rows import QueueRow
from tc_sync.queues.snapshot import Snapshot, Tally

MONEY_FORMAT = '"$"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
COUNT_FORMAT = "#,##0"
_NUMBER_FORMATS = {Format.MONEY: MONEY_FORMAT, Format.DATE: DATE_FORMAT,
                   Format.DATETIME: DATETIME_FORMAT, Format.PRIORITY: "0.00",
                   Format.INTEGER: "0"}
_SHOWN_WIDTHS = {Format.MONEY: 14, Format.DATE: 10, Format.DATETIME: 16}
"""How wide a formatted value shows, whatever the value (others: the length of its text)."""
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
HEADER_ALIGNMENT = Alignment(vertical="center")
_QUEUE_HEADER = Alignment(vertical="center", wrap_text=True)
_WRAPPED = Alignment(vertical="top", wrap_text=True)
_TOP = Alignment(vertical="top")
WRAPPED_COLUMNS = frozenset({"what", "why_now", "next_step", "patient"})
"""Default columns whose text wraps within the column's width."""
PRINT_MARGINS = 0.3
"""Inches: narrow page margins leave the default columns room at a legible size."""
PRINTABLE_INCHES = 11 - 2 * PRINT_MARGINS
"""Across a landscape Letter page (A4 is wider)."""
SMALLEST_SCALE = 73
"""Percent: 11-point text printed at 73% is 8 points, the least that reads comfortably."""


def column_pixels(width: float) -> int:
    """How wide a column of this width (in characters) is, as Excel lays it out at 96 dpi."""
    return int(width * 7 + 5)


def print_scale(widths: Iterable[float]) -> int:
    """The percent at which these columns print one page wide (at most 100)."""
    wanted = sum(column_pixels(width) for width in widths)
    return min(100, int(PRINTABLE_INCHES * 96 * 100 / wanted)) if wanted else 100
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_COLOUR_FILLS = {"green": PatternFill("solid", fgColor="C6EFCE"),
                 "amber": PatternFill("solid", fgColor="FFEB9C"),
                 "red": PatternFill("solid", fgColor="FFC7CE")}
_SUMMARY = "Summary"
_SUMMARY_WIDTHS = (22, 44, 22, 12, 12, 16)
_TALLY_HEADERS = ["Open items", "Due now", "Escalated", "Amount"]
_NOT_PLAIN_TEXT = ("=", "#")
"""Text Excel would read as a formula (=...) or an error value (#N/A): written as text."""


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
    book = Workbook(write_only=True)
    titles = sheet_titles(snapshot.queues)
    _summary_sheet(book.create_sheet(_SUMMARY), snapshot, titles)
    for queue, title in titles.items():
        _queue_sheet(book.create_sheet(title), snapshot, queue)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text(sheet: WriteOnlyWorksheet, value: str) -> str | Cell:
    """Text as a cell shows it: without the characters a workbook cannot hold, and always text
    (a name starting with '=' is no formula)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(_NOT_PLAIN_TEXT):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None, *,
         font: Font | None = None, fill: PatternFill | None = None,
         alignment: Alignment | None = None) -> Any:
    """A value with its number format and style (made once, shared), ready to append."""
    if isinstance(value, str):
        value = _text(sheet, value)
    if not (number_format or font or fill or alignment):
        return value
    styled = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
    if number_format and value is not None:
        styled.number_format = number_format
    if font:
        styled.font = font
    if fill:
        styled.fill = fill
    if alignment:
        styled.alignment = alignment
    return styled


def _header(sheet: WriteOnlyWorksheet, headers: list[str],
            alignment: Alignment = HEADER_ALIGNMENT) -> list[Any]:
    """A header row's cells: bold white on blue."""
    return [_cell(sheet, name, font=HEADER_FONT, fill=HEADER_FILL, alignment=alignment)
            for name in headers]


def _column_values(sheet: WriteOnlyWorksheet, column: Column) -> Callable[[Any], Any]:
    """What to append for each of a column's values (None for a blank)."""
    number_format = _NUMBER_FORMATS.get(column.format)
    if number_format is None and column.key in WRAPPED_COLUMNS:
        wrapped = WriteOnlyCell(sheet)
        wrapped.alignment = _WRAPPED

        def wrap(value: Any) -> Any:
            if not value:
                return None
            text = _text(sheet, str(value))
            if isinstance(text, Cell):
                text.alignment = _WRAPPED
                return text
            wrapped.value = text
            return wrapped
        return wrap
    if number_format is None:
        def plain(value: Any) -> Any:
            if isinstance(value, str):
                return _text(sheet, value) if value else None
            return value
        return plain
    formatted = WriteOnlyCell(sheet)
    formatted.number_format = number_format
    formatted.alignment = _TOP

    def carry(value: Any) -> Any:
        if value is None or value == "":
            return None
        formatted.value = value
        return formatted
    return carry


def _width(column: Column, longest: int) -> float:
    """The column's width: its widest value (`longest` characters; -1: none), within its cap;
    the header always fits beside its filter button."""
    shown = 0 if longest < 0 else _SHOWN_WIDTHS.get(column.format, longest)
    fits_header = len(column.header) + 4
    return min(max(shown + 2, fits_header), max(column.max_width, fits_header))


def _queue_sheet(sheet: WriteOnlyWorksheet, snapshot: Snapshot, queue: str) -> None:
    columns = snapshot.columns(queue)
    rows = snapshot.queues[queue]
    measured = [column.format not in _SHOWN_WIDTHS for column in columns]
    longest = [-1] * len(columns)
    table: list[list[Any]] = []
    for row in rows:        # one pass: the values, and each column's widest
        values = [column.value(row) for column in columns]
        table.append(values)
        for index, value in enumerate(values):
            if value is not None and value != "":
                length = len(str(value)) if measured[index] else 0
                longest[index] = max(longest[index], length)
    widths = [_width(column, most) for column, most in zip(columns, longest, strict=True)]
    _layout(sheet, widths, len(rows), sum(1 for column in columns if column.default))
    sheet.append(_header(sheet, [column.header for column in columns], _QUEUE_HEADER))
    convert = [_column_values(sheet, column) for column in columns]
    for values in table:
        sheet.append([to_cell(value) for to_cell, value in zip(convert, values, strict=True)])


def _settings(sheet: WriteOnlyWorksheet) -> Worksheet:
    """The sheet's layout settings: openpyxl gives a write-only sheet those of a worksheet
    (widths, filter, page setup), which its type stubs leave out."""
    return cast(Worksheet, sheet)


def _layout(write_only: WriteOnlyWorksheet, widths: list[float], count: int,
            defaults: int) -> None:
    """Frozen header, filters, widths, the columns past the `defaults` first ones grouped and
    collapsed, and a page that prints those first columns landscape with the header."""
    sheet = _settings(write_only)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(widths))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    for index, width in enumerate(widths, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = width
        if index > defaults:
            dimension.outlineLevel, dimension.hidden = 1, True
    sheet.sheet_properties.outlinePr = Outline(summaryRight=False)  # + left of the group
    printed = defaults or len(widths)
    sheet.print_title_rows = "1:1"
    sheet.print_area = f"A1:{get_column_letter(printed)}{count + 1}"
    sheet.page_setup.orientation = "landscape"
    _narrow_margins(sheet)
    if print_scale(widths[:printed]) >= SMALLEST_SCALE:
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    else:       # one page wide would be too small to read: legible, over more pages
        sheet.page_setup.scale = SMALLEST_SCALE


def _narrow_margins(sheet: Worksheet) -> None:
    margins = sheet.page_margins
    margins.left = margins.right = PRINT_MARGINS
    margins.top = margins.bottom = 0.5


def _tally_cells(sheet: WriteOnlyWorksheet, tally: Tally,
                 font: Font | None = None) -> list[Any]:
    return [*(_cell(sheet, value, COUNT_FORMAT, font=font)
              for value in (tally.items, tally.due, tally.escalated)),
            _cell(sheet, tally.amount, MONEY_FORMAT, font=font)]


def _summary_sheet(sheet: WriteOnlyWorksheet, snapshot: Snapshot,
                   titles: dict[str, str]) -> None:
    settings = _settings(sheet)
    for letter, width in zip("ABCDEF", _SUMMARY_WIDTHS, strict=True):
        settings.column_dimensions[letter].width = width
    settings.page_setup.orientation = "landscape"       # the summary prints on one page
    settings.page_setup.fitToWidth = settings.page_setup.fitToHeight = 1
    settings.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    _narrow_margins(settings)
    sheet.append([_cell(sheet, f"Work queues: {snapshot.site_id} ({snapshot.scope})",
                       font=_TITLE)])
    sheet.append([_cell(sheet, f"Built {snapshot.built_at:%Y-%m-%d %H:%M} "
                              f"({snapshot.built_at.tzname()}); "
                              "rebuilt after every sync: reopen the file for the latest.")])
    sheet.append([])
    sheet.append(_header(sheet, ["Queue", "Sheet", *_TALLY_HEADERS]))
    everything: list[QueueRow] = []
    for queue, title in titles.items():
        everything += snapshot.queues[queue]
        sheet.append([_cell(sheet, queue), _cell(sheet, title),
                      *_tally_cells(sheet, snapshot.tally(snapshot.queues[queue]))])
    sheet.append([_cell(sheet, "All queues", font=_BOLD), _cell(sheet, None, font=_BOLD),
                  *_tally_cells(sheet, snapshot.tally(everything), _BOLD)])
    sheet.append([])
    sheet.append(_header(sheet, ["Queue", "What", *_TALLY_HEADERS]))
    for queue in titles:
        for label, tally in snapshot.by_kind(queue):
            sheet.append([_cell(sheet, queue), _cell(sheet, label),
                          *_tally_cells(sheet, tally)])
    sheet.append([])
    sheet.append(_header(sheet, ["Data from", "Freshness", "Last successful sync"]))
    for source in snapshot.freshness:
        last = source.last_success_at
        sheet.append([_cell(sheet, source.source_id),
                      _cell(sheet, f"{source.colour}: {source.reason}",
                           fill=_COLOUR_FILLS.get(source.colour)),
                      _cell(sheet, last.replace(tzinfo=None) if last else "never",
                           DATETIME_FORMAT)])
