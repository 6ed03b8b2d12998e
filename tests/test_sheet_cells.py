"""The queue sheets' rows, made by tc-sync rather than XlsxWriter, read back as a spreadsheet
program reads them: the values, their types and their column's style."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter

from tc_sync.queues.sheet_cells import (
    MAX_TEXT,
    SheetError,
    SheetRows,
    column_letter,
    excel_serial,
    filled_pieces,
)

AWKWARD = ["O'Brien & Sons <LLC>", "  leading and trailing  ", "=SUM(A1:A9)", "bell\x07 rings",
           "Zoë Ångström 日本", "x" * (MAX_TEXT + 10)]


def fill_sheets(workbook: bytes, sheets: list[SheetRows]) -> bytes:
    """The workbook filled, whole (as the queue build writes it, piece by piece)."""
    return b"".join(filled_pieces(workbook, sheets))


def a_workbook(columns: int) -> tuple[bytes, list[object]]:
    """A summary sheet and one queue sheet with its header row and column styles only."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    book.add_worksheet("Summary").write_string(0, 0, "summary")
    sheet = book.add_worksheet("queue")
    styles = [book.add_format({"valign": "top", "text_wrap": True}),
              book.add_format({"num_format": '"$"#,##0.00', "valign": "top"}),
              book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
              book.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})][:columns]
    for index, style in enumerate(styles):
        sheet.set_column(index, index, 20, style)
        sheet.write_string(0, index, f"header {index}")
    book.close()
    return buffer.getvalue(), [style.xf_index for style in styles]


def test_every_kind_of_value_reads_back_as_written_in_its_columns_style():
    raw, styles = a_workbook(4)
    money = [12.5, None, 0, 1234567.89, -3.25, 7]
    days = [date(2026, 12, 5), None, date(1999, 1, 1), date(2026, 2, 28), "", date(2030, 6, 30)]
    moments = [datetime(2026, 12, 5, 14, 30), None, None, datetime(2026, 1, 1, 0, 0), None,
               datetime(2026, 12, 31, 23, 59)]
    filled = fill_sheets(raw, [SheetRows.of(2, [AWKWARD, money, days, moments],
                                         ["text", "number", "date", "date"], styles)])
    sheet = openpyxl.load_workbook(io.BytesIO(filled))["queue"]
    assert sheet.max_row == 7 and sheet.dimensions == "A1:D7"
    assert [cell.value for cell in sheet[1]] == [f"header {index}" for index in range(4)]
    texts = [sheet.cell(row, 1).value for row in range(2, 8)]
    assert texts[:5] == ["O'Brien & Sons <LLC>", "  leading and trailing  ", "=SUM(A1:A9)",
                         "bell rings", "Zoë Ångström 日本"]
    assert len(texts[5]) == MAX_TEXT and sheet.cell(4, 1).data_type == "s"   # not a formula
    assert [sheet.cell(row, 2).value for row in range(2, 8)] == money
    assert [sheet.cell(row, 3).value for row in range(2, 8)] == [
        datetime(2026, 12, 5), None, datetime(1999, 1, 1), datetime(2026, 2, 28), None,
        datetime(2030, 6, 30)]
    assert [sheet.cell(row, 4).value for row in range(2, 8)] == moments
    assert sheet.cell(2, 1).alignment.wrap_text and sheet.cell(2, 1).alignment.vertical == "top"
    assert sheet.cell(2, 2).number_format == '"$"#,##0.00'
    assert sheet.cell(2, 3).number_format == "yyyy-mm-dd" and sheet.cell(2, 3).is_date
    assert sheet.cell(2, 4).number_format == "yyyy-mm-dd hh:mm"


def test_blank_values_leave_no_cell_and_the_others_keep_their_columns():
    raw, styles = a_workbook(2)
    filled = fill_sheets(raw, [SheetRows.of(2, [["", "b", None], [None, 2, 3]],
                                         ["text", "number"], styles)])
    with zipfile.ZipFile(io.BytesIO(filled)) as book:
        xml = book.read("xl/worksheets/sheet2.xml").decode("utf-8")
    assert '<c r="A2"' not in xml and '<c r="B2"' not in xml and '<c r="A4"' not in xml
    sheet = openpyxl.load_workbook(io.BytesIO(filled))["queue"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        [None, None], ["b", 2], [None, 3]]


def test_the_summary_sheet_and_the_rest_of_the_workbook_are_left_as_xlsxwriter_wrote_them():
    raw, styles = a_workbook(1)
    filled = fill_sheets(raw, [SheetRows.of(2, [["a"]], ["text"], styles)])
    with zipfile.ZipFile(io.BytesIO(raw)) as before, zipfile.ZipFile(io.BytesIO(filled)) as after:
        assert before.namelist() == after.namelist()
        for name in before.namelist():
            if name != "xl/worksheets/sheet2.xml":
                assert before.read(name) == after.read(name), name


def test_a_workbook_not_shaped_as_expected_is_an_error_not_a_broken_file():
    raw, styles = a_workbook(1)
    with pytest.raises(SheetError, match="sheet9"):
        fill_sheets(raw, [SheetRows.of(9, [["a"]], ["text"], styles)])


def test_column_letters_and_serial_dates_are_excels():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    assert excel_serial(date(2026, 12, 5)) == 46361
    assert excel_serial(datetime(1900, 3, 1, 12)) == 61.5
