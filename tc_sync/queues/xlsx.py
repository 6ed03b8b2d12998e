"""The queues as one Excel workbook: a summary sheet, then one sheet per queue.

Written with XlsxWriter in its constant-memory mode, formats made once per workbook and
shared; the queue sheets' data rows, most of the workbook, are made by
`tc_sync.queues.sheet_cells` (the same XML, several times faster) and put into XlsxWriter's
sheets.

A queue sheet carries what a coordinator prints and works from: the default columns (those
the page shows first), then the columns she sorts by, then the item key in a collapsed group
(the + above it opens it); every column is in the CSV files. It prints the default columns:
landscape, one page wide at a legible size, the header on every page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC
from decimal import Decimal
from functools import partial
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format as CellFormat
from xlsxwriter.worksheet import Worksheet

from tc_sync.queues.columns import Column, Format, workbook_columns
from tc_sync.queues.runs import FileRuns, Run, batched, run_key
from tc_sync.queues.sheet_cells import (
    ILLEGAL_CHARACTERS,
    SheetError,
    SheetRows,
    filled_pieces,
    numbered,
    rows_xml,
)
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
HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#305496", "valign": "vcenter"}
"""Header cells: bold white on blue."""
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


def shown_width(stored: float) -> float:
    """A width as Excel shows it (characters), from the one its file stores (XlsxWriter, as
    Excel, stores the width with its 5 pixels of padding: 26 is stored as 26.71)."""
    return round(stored - 5 / 7, 2) if stored > 1 else stored


def print_scale(widths: Iterable[float]) -> int:
    """The percent at which these columns print one page wide (at most 100)."""
    wanted = sum(column_pixels(width) for width in widths)
    return min(100, int(PRINTABLE_INCHES * 96 * 100 / wanted)) if wanted else 100


_SUMMARY = "Summary"
_SUMMARY_WIDTHS = (22, 44, 22, 12, 12, 16)
_TALLY_HEADERS = ["Open items", "Due now", "Escalated", "Amount"]
_COLOUR_FILLS = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}


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


class _Formats:
    """Every cell format of one workbook, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format(HEADER)
        self.queue_header = book.add_format({**HEADER, "text_wrap": True})
        self.wrapped = book.add_format({"valign": "top", "text_wrap": True})
        self.top = book.add_format({"valign": "top"})
        self.numbers = {kind: book.add_format({"num_format": number_format, "valign": "top"})
                        for kind, number_format in _NUMBER_FORMATS.items()}
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.count = book.add_format({"num_format": COUNT_FORMAT})
        self.money = book.add_format({"num_format": MONEY_FORMAT})
        self.bold_count = book.add_format({"num_format": COUNT_FORMAT, "bold": True})
        self.bold_money = book.add_format({"num_format": MONEY_FORMAT, "bold": True})
        self.datetime = book.add_format({"num_format": DATETIME_FORMAT})
        self.colours = {colour: book.add_format({"bg_color": fill})
                        for colour, fill in _COLOUR_FILLS.items()}


def workbook(snapshot: Snapshot, kept: FileRuns | None = None) -> Iterator[bytes]:
    """The whole workbook, as the bytes of an .xlsx file in pieces (made as they are read);
    the runs of rows `kept` from the workbook's last build are copied, not made again."""
    kept = kept if kept is not None else FileRuns()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"created": snapshot.built_at.astimezone(UTC).replace(tzinfo=None)})
    formats = _Formats(book)
    titles = sheet_titles(snapshot.queues)
    _summary_sheet(book.add_worksheet(_SUMMARY), snapshot, titles, formats)
    sheets = [_queue_sheet(book.add_worksheet(title), snapshot, queue, formats, kept)
              for queue, title in titles.items()]
    book.close()        # gives every style its index in the workbook, which the rows name
    return filled_pieces(buffer.getvalue(), [rows(number) for number, rows in enumerate(
        sheets, start=2)])


def _text(value: str) -> str:
    """Text as a cell shows it: without the characters a workbook cannot hold."""
    return ILLEGAL_CHARACTERS.sub("", value)


def _kind(column: Column) -> str:
    """How the column's cells are written: text always as text (a name starting with '=' is
    no formula), numbers and dates as numbers in their format."""
    if column.format in (Format.DATE, Format.DATETIME):
        return "date"
    return "number" if column.format in _NUMBER_FORMATS else "text"


def _style(column: Column, formats: _Formats) -> CellFormat | None:
    number_format = formats.numbers.get(column.format)
    if number_format is not None:
        return number_format
    return formats.wrapped if column.key in WRAPPED_COLUMNS else None


def _style_index(style: CellFormat | None) -> int | None:
    """The style's index in the written workbook (it was given to its column, so it has one)."""
    if style is None:
        return None
    if style.xf_index is None:
        raise SheetError("a queue column's style was not written to the workbook")
    return int(style.xf_index)


def _width(column: Column, longest: int) -> float:
    """The column's width: its widest value (`longest` characters; -1: none), within its cap;
    the header always fits beside its filter button."""
    shown = 0 if longest < 0 else _SHOWN_WIDTHS.get(column.format, longest)
    fits_header = len(column.header) + 4
    return min(max(shown + 2, fits_header), max(column.max_width, fits_header))


def _longest(values: list[Any]) -> int:
    """The length of the widest value as text (-1: every value is blank)."""
    shown = {value for value in values if value is not None and value != ""}
    return max(map(len, map(str, shown)), default=-1)


def _shown_length(column: Column, values: list[Any]) -> int:
    """How wide the column's values show, in characters (-1: every value is blank)."""
    if column.format not in _SHOWN_WIDTHS:
        return _longest(values)
    return 0 if any(value is not None and value != "" for value in values) else -1


def _queue_sheet(sheet: Worksheet, snapshot: Snapshot, queue: str, formats: _Formats,
                 kept: FileRuns) -> Callable[[int], SheetRows]:
    """The sheet's layout and header row; returns its data rows, for `filled_pieces` once the
    workbook is closed, given the sheet's position."""
    every = snapshot.columns(queue)
    position = {id(column): index for index, column in enumerate(every)}
    columns = workbook_columns(every)
    picked = [position[id(column)] for column in columns]
    keys = [column.key for column in columns]
    runs = snapshot.runs(queue)

    def lengths(run: Run) -> tuple[int, ...]:
        values = snapshot.values(queue, run)
        return tuple(_shown_length(column, values[index])
                     for column, index in zip(columns, picked, strict=True))

    context = repr(("widths", keys)).encode("utf-8")
    shown = [kept.value(run_key(context, run), partial(lengths, run)) for run in runs]
    widths = [_width(column, max((run_lengths[index] for run_lengths in shown), default=-1))
              for index, column in enumerate(columns)]
    count = len(snapshot.queues[queue])
    styles = [_style(column, formats) for column in columns]
    _layout(sheet, widths, styles, count, sum(1 for column in columns if column.default),
            sum(1 for column in columns if column.default or column.sorted_by))
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, formats.queue_header)
    kinds = [_kind(column) for column in columns]

    def rows(number: int) -> SheetRows:
        indices = [_style_index(style) for style in styles]
        context = repr(("sheet", keys, kinds, indices)).encode("utf-8")

        def made(run: Run) -> str:
            values = snapshot.values(queue, run)
            return rows_xml([values[index] for index in picked], kinds, indices)

        return SheetRows(number, count, len(columns), batched(
            numbered(kept.text(run_key(context, run), partial(made, run)), run.start + 2)
            for run in runs))
    return rows


def _layout(sheet: Worksheet, widths: list[float], styles: list[CellFormat | None], count: int,
            printed: int, shown: int) -> None:
    """Frozen header, filters, widths and each column's cell style, the columns past the
    `shown` first ones grouped and collapsed, and a page that prints the `printed` first
    columns landscape with the header."""
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, count, len(widths) - 1)
    for index, width in enumerate(widths):
        grouped = index >= shown
        sheet.set_column(index, index, width, styles[index],
                         {"level": 1, "hidden": True} if grouped else {})
    sheet.outline_settings(True, True, False, False)     # the + left of the group
    printed = printed or len(widths)
    sheet.repeat_rows(0)
    sheet.print_area(0, 0, count, printed - 1)
    sheet.set_landscape()
    _narrow_margins(sheet)
    if print_scale(widths[:printed]) >= SMALLEST_SCALE:
        sheet.fit_to_pages(1, 0)
    else:       # one page wide would be too small to read: legible, over more pages
        sheet.set_print_scale(SMALLEST_SCALE)


def _narrow_margins(sheet: Worksheet) -> None:
    sheet.set_margins(left=PRINT_MARGINS, right=PRINT_MARGINS, top=0.5, bottom=0.5)


def _tally(sheet: Worksheet, row: int, tally: Tally, formats: _Formats,
           bold: bool = False) -> None:
    count = formats.bold_count if bold else formats.count
    for column, value in enumerate((tally.items, tally.due, tally.escalated), start=2):
        sheet.write_number(row, column, value, count)
    sheet.write_number(row, 5, float(tally.amount or Decimal(0)),
                       formats.bold_money if bold else formats.money)


def _headers(sheet: Worksheet, row: int, headers: list[str], formats: _Formats) -> None:
    for column, header in enumerate(headers):
        sheet.write_string(row, column, header, formats.header)


def _summary_sheet(sheet: Worksheet, snapshot: Snapshot, titles: dict[str, str],
                   formats: _Formats) -> None:
    for index, width in enumerate(_SUMMARY_WIDTHS):
        sheet.set_column(index, index, width)
    sheet.set_landscape()                                 # the summary prints on one page
    sheet.fit_to_pages(1, 1)
    _narrow_margins(sheet)
    sheet.write_string(0, 0, _text(f"Work queues: {snapshot.site_id} ({snapshot.scope})"),
                       formats.title)
    sheet.write_string(1, 0, f"Built {snapshot.built_at:%Y-%m-%d %H:%M} "
                             f"({snapshot.built_at.tzname()}); "
                             "rebuilt after every sync: reopen the file for the latest.")
    row = 3
    _headers(sheet, row, ["Queue", "Sheet", *_TALLY_HEADERS], formats)
    for queue, title in titles.items():
        row += 1
        sheet.write_string(row, 0, _text(queue))
        sheet.write_string(row, 1, title)
        _tally(sheet, row, snapshot.queue_tally(queue), formats)
    row += 1
    sheet.write_string(row, 0, "All queues", formats.bold)
    sheet.write_blank(row, 1, None, formats.bold)
    _tally(sheet, row, snapshot.queue_tally(), formats, bold=True)
    row += 2
    _headers(sheet, row, ["Queue", "What", *_TALLY_HEADERS], formats)
    for queue in titles:
        for label, tally in snapshot.by_kind(queue):
            row += 1
            sheet.write_string(row, 0, _text(queue))
            sheet.write_string(row, 1, label)
            _tally(sheet, row, tally, formats)
    row += 2
    _headers(sheet, row, ["Data from", "Freshness", "Last successful sync"], formats)
    for source in snapshot.freshness:
        row += 1
        last = source.last_success_at
        sheet.write_string(row, 0, _text(source.source_id))
        sheet.write_string(row, 1, _text(f"{source.colour}: {source.reason}"),
                           formats.colours.get(source.colour))
        if last:
            sheet.write_datetime(row, 2, last.replace(tzinfo=None), formats.datetime)
        else:
            sheet.write_string(row, 2, "never")
