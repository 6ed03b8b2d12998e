"""The queue sheets' cells as SpreadsheetML, made here and put into XlsxWriter's workbook.

XlsxWriter makes a cell through its general write path, about 5 microseconds each: at 60,000
patients the queue sheets' 700,000 cells were 40 % of a build, and the daemon rebuilds every
half minute while the practice works (issue 17). So XlsxWriter still writes the workbook
(every sheet, the styles, widths, filters, print setup, the header rows) and this module
writes the queue sheets' data rows: the same XML XlsxWriter writes (`<row>` and `<c>`
elements, text as inline strings, numbers and dates as numbers in their column's style),
each distinct value of a column made once, and the rows' numbers put in last (`numbered`), so
that rows made once are kept by `tc_sync.queues.runs` wherever they move. The workbook's zip is
then copied (`tc_sync.queues.zip_writer`), each queue sheet's rows streamed into its
`<sheetData>`, a run at a time.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tc_sync.queues.columns import each_once
from tc_sync.queues.zip_writer import ZipWriter

MAX_TEXT = 32767
"""The longest text a cell holds (UTF-16 code units): longer text is cut, as XlsxWriter does."""
_EXCEL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's serial dates, as every date since March 1900 counts from it."""
_NUMBER = "\x00"
"""Where a row's number goes in `rows_xml`'s text: a character no cell can hold."""
_ROW_BREAK = "\x01"
"""Between two rows in `rows_xml`'s text: a character no cell can hold either."""
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+1(?::([A-Z]+)1)?"/>')
_SHEET_DATA_END = b"</sheetData>"
_PRESERVE = re.compile(r"^\s|\s$")
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Control characters a workbook cannot hold."""


class SheetError(RuntimeError):
    """The workbook XlsxWriter wrote is not shaped as expected (a new XlsxWriter?)."""


@dataclass(frozen=True)
class SheetRows:
    """One queue sheet's data rows (row 2 on), as XML pieces to put in after its header row."""

    sheet: int
    """The sheet's position in the workbook, from 1 (the summary is sheet 1)."""
    count: int
    """Data rows."""
    columns: int
    pieces: Iterable[bytes]
    """The rows' XML, in order, numbered (`numbered`); read once."""

    @classmethod
    def of(cls, sheet: int, values: Sequence[list[Any]], kinds: Sequence[str],
           styles: Sequence[int | None]) -> SheetRows:
        """A sheet's rows from its columns' values (row 2 on), written as `rows_xml` says."""
        count = len(values[0]) if values else 0
        return cls(sheet, count, len(values),
                   [numbered(rows_xml(values, kinds, styles).encode("utf-8"), 2)])


def column_letter(index: int) -> str:
    """A column's letters, from 0: A, B, ... Z, AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def excel_serial(value: date | datetime) -> float:
    """A date or time as Excel's serial number (days since its epoch, time as the fraction)."""
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                                value.day)
    delta = moment.replace(tzinfo=None) - _EXCEL_EPOCH
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400


def _escaped(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _cut(text: str) -> str:
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        text = text.encode("utf-16-le")[:MAX_TEXT * 2].decode("utf-16-le", "ignore")
    return text


def cell_writer(kind: str, style: int | None) -> Callable[[Any], str]:
    """How a value becomes the rest of its `<c r="..."` element ("" for a blank cell)."""
    styled = f' s="{style}"' if style is not None else ""

    def text(value: Any) -> str:
        if value is None or value == "":
            return ""
        shown = _cut(ILLEGAL_CHARACTERS.sub("", str(value)))
        space = ' xml:space="preserve"' if _PRESERVE.search(shown) else ""
        return f'{styled} t="inlineStr"><is><t{space}>{_escaped(shown)}</t></is></c>'

    def number(value: Any) -> str:
        if value is None or value == "":
            return ""
        return f"{styled}><v>{float(value):.16G}</v></c>"

    def day(value: Any) -> str:
        if not isinstance(value, date):
            return ""
        return f"{styled}><v>{excel_serial(value):.16G}</v></c>"

    return {"text": text, "number": number, "date": day}[kind]


def rows_xml(values: Sequence[list[Any]], kinds: Sequence[str],
             styles: Sequence[int | None]) -> str:
    """Some rows as XML, their numbers left out (`numbered` puts them in), so that the text
    stays right wherever the rows land in the sheet.

    `values`: per column, each row's value (None or "": a blank cell); `kinds`: per column,
    "text", "number" or "date"; `styles`: per column, the index of its cells' style in the
    workbook (None: the default)."""
    letters = [column_letter(index) for index in range(len(values))]
    writers = [cell_writer(kind, style) for kind, style in zip(kinds, styles, strict=True)]
    cells = [each_once(write, column) for write, column in zip(writers, values, strict=True)]
    return _ROW_BREAK.join([f'<row r="{_NUMBER}">' + "".join(
        [f'<c r="{letter}{_NUMBER}"{cell}'
         for letter, cell in zip(letters, row_cells, strict=True) if cell]) + "</row>"
        for row_cells in zip(*cells, strict=True)])


def numbered(text: bytes, first: int) -> bytes:
    """`rows_xml`'s rows (as UTF-8) numbered from `first`."""
    number = _NUMBER.encode("ascii")
    return b"".join([row.replace(number, b"%d" % row_number) for row_number, row in enumerate(
        text.split(_ROW_BREAK.encode("ascii")), start=first)]) if text else b""


def filled_pieces(workbook: bytes, sheets: Sequence[SheetRows]) -> Iterator[bytes]:
    """The workbook with each of `sheets`' rows put after its header row, as pieces handed on
    a member at a time: the whole ZIP (6 MB at 60,000 patients) is never in memory at once."""
    wanted = {f"xl/worksheets/sheet{rows.sheet}.xml": rows for rows in sheets}
    pending = _Pending()
    target = ZipWriter(pending)
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        for info in source.infolist():
            content = source.read(info)
            rows = wanted.pop(info.filename, None)
            pieces: Iterable[bytes] = [content]
            if rows is not None:
                head, tail = _split(content, info.filename, rows)
                pieces = itertools.chain([head], rows.pieces, [tail])
            target.add(info.filename, pieces, info.date_time, info.external_attr,
                       info.create_system)
            yield from pending.take()
    if wanted:
        raise SheetError(f"the workbook has no {', '.join(sorted(wanted))}")
    target.close()
    yield from pending.take()


class _Pending:
    """What the ZIP writer wrote since it was last taken."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._pieces.append(data)
        return len(data)

    def writelines(self, lines: Iterable[bytes], /) -> None:
        self._pieces.extend(lines)

    def take(self) -> list[bytes]:
        taken, self._pieces = self._pieces, []
        return taken


def _split(content: bytes, name: str, rows: SheetRows) -> tuple[bytes, bytes]:
    """The sheet's XML before and after where its data rows go, its dimension made whole."""
    end = content.find(_SHEET_DATA_END)
    found = _DIMENSION.search(content)
    if end < 0 or found is None:
        raise SheetError(f"{name} is not a sheet with a header row alone")
    last = column_letter(rows.columns - 1).encode("ascii")
    dimension = b'<dimension ref="A1:%s%d"/>' % (last, rows.count + 1)
    head = content[:found.start()] + dimension + content[found.end():end]
    return head, content[end:]
