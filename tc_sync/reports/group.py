"""A group's report: each practice's weekly or monthly report, and their figures side by side.

`tc-sync report weekly|monthly --group` writes, in an `All-practices` folder inside the reports
folder, each enabled source's own report (`build.build_report`, in a folder named after the
source) and `group-<period>.html` / `.xlsx`: a row per practice and one for the group, a
column per figure the reports already compute (treatment presented and accepted, the
forecast, claims outstanding, predeterminations returned, follow-ups opened and resolved), so
a group of hundreds of practices sorts and filters in Excel.
The group's row adds the practices' figures (each practice's forecast weighted by its own
acceptance rate, as its report does); its rates are worked out from those sums. No patient's
data: counts and dollars only.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from tc_sync.config import Settings
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.queues.atomic import group_id, make_folder, write_atomic
from tc_sync.queues.group import ALL_PRACTICES, GROUP_FOLDER, group_settings
from tc_sync.queues.html import money
from tc_sync.reports.build import build_report
from tc_sync.reports.folder import reports_folder
from tc_sync.reports.html import percent
from tc_sync.reports.metrics import ALL
from tc_sync.reports.period import Period, PeriodKind, last_complete
from tc_sync.reports.report import Report

log = structlog.get_logger(__name__)

Number = int | Decimal


@dataclass(frozen=True)
class Figure:
    """One row of the side-by-side table: a count or dollars a report computes, or a rate of
    two of them (worked out from the sums in the group's column)."""

    label: str
    kind: str
    """count, money or rate."""
    value: Callable[[Report], Number] | None = None
    rate_of: tuple[str, str] | None = None
    """A rate: the labels of its numerator and denominator figures."""


def _flow(report: Report, what: str) -> int:
    return sum(getattr(row, what) for row in report.flow)


def _forecast(days_index: int) -> Callable[[Report], Number]:
    return lambda report: report.forecast.rows[days_index].total


def _outstanding(report: Report) -> tuple[int, Decimal]:
    whole = next(row for row in report.aging if row.bucket == ALL)
    return whole.claims, whole.fee


FIGURES: tuple[Figure, ...] = (
    Figure("Patients presented treatment", "count", lambda r: r.acceptance.patients_presented),
    Figure("Patients who accepted", "count", lambda r: r.acceptance.patients_accepted),
    Figure("Case acceptance (patients)", "rate",
           rate_of=("Patients who accepted", "Patients presented treatment")),
    Figure("Treatment presented", "money", lambda r: r.acceptance.presented),
    Figure("Treatment accepted", "money", lambda r: r.acceptance.accepted),
    Figure("Case acceptance (dollars)", "rate",
           rate_of=("Treatment accepted", "Treatment presented")),
    Figure("Forecast, next 30 days", "money", _forecast(0)),
    Figure("Forecast, next 60 days", "money", _forecast(1)),
    Figure("Forecast, next 90 days", "money", _forecast(2)),
    Figure("Claims outstanding at the period's end", "count", lambda r: _outstanding(r)[0]),
    Figure("Claims outstanding, fees", "money", lambda r: _outstanding(r)[1]),
    Figure("Predeterminations returned", "count",
           lambda r: sum(row.count for row in r.turnaround)),
    Figure("Follow-ups opened", "count", lambda r: _flow(r, "opened")),
    Figure("Follow-ups resolved", "count", lambda r: _flow(r, "resolved")),
    Figure("Follow-ups overdue at the period's end", "count", lambda r: _flow(r, "overdue")),
)
"""The figures side by side, in order."""


@dataclass(frozen=True)
class SideBySide:
    """A row per practice (in the configuration's order), then the group's row; a column per
    figure (`FIGURES`)."""

    period: Period
    rows: list[tuple[str, list[Number | float | None]]]

    def row(self, practice: str) -> dict[str, Number | float | None]:
        """One practice's (or `ALL_PRACTICES`') figures by label."""
        values = dict(self.rows)[practice]
        return {figure.label: value for figure, value in zip(FIGURES, values, strict=True)}


def side_by_side(reports: dict[str, Report], period: Period) -> SideBySide:
    """The figures of each practice's report, then the group's: sums, and rates of sums."""
    practices = list(reports)
    columns: dict[str, list[Number]] = {}
    shown: list[list[Number | float | None]] = []
    for figure in FIGURES:
        if figure.value is not None:
            values: list[Number] = [figure.value(reports[p]) for p in practices]
            total: Number = sum(values, Decimal(0) if figure.kind == "money" else 0)
            columns[figure.label] = [*values, total]
            shown.append([*values, total])
            continue
        assert figure.rate_of is not None
        parts, wholes = columns[figure.rate_of[0]], columns[figure.rate_of[1]]
        shown.append([float(Decimal(part) / Decimal(whole)) if whole else None
                      for part, whole in zip(parts, wholes, strict=True)])
    names = [*practices, ALL_PRACTICES]
    return SideBySide(period, [(name, [column[index] for column in shown])
                               for index, name in enumerate(names)])


def _shown(value: Number | float | None, kind: str) -> str:
    if kind == "rate":
        return percent(value if isinstance(value, float) or value is None else float(value))
    if kind == "money":
        return money(Decimal(value or 0))
    return f"{int(value or 0):,}"


_STYLE = ("body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:1.5em;color:#222}"
          "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .6em}"
          "th{background:#305496;color:#fff;font-weight:normal}td.n{text-align:right}"
          "tr.all td{font-weight:bold;background:#eef}th a{color:#fff}")


def page(table: SideBySide, site_id: str, built_at: datetime) -> bytes:
    """The table as a self-contained HTML page, each practice linked to its own report."""
    html_name = f"report-{table.period.label}.html"
    head = "<th>Practice</th>" + "".join(f"<th>{escape(f.label)}</th>" for f in FIGURES)
    body = []
    for practice, values in table.rows:
        group = practice == ALL_PRACTICES
        name = escape(practice) if group else (
            f'<a href="{escape(practice)}/{html_name}">{escape(practice)}</a>')
        cells = "".join(f'<td class="n">{escape(_shown(value, figure.kind))}</td>'
                        for figure, value in zip(FIGURES, values, strict=True))
        body.append(f'<tr{" class=all" if group else ""}><td>{name}</td>{cells}</tr>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{escape(site_id)}: {escape(table.period.title)}, every practice</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(site_id)}: every practice, "
            f"{escape(table.period.title)}</h1><p>Built {built_at:%Y-%m-%d %H:%M %Z}. Each "
            "practice's own report (its definitions, charts and tables) is linked from its "
            "name. The last row adds the practices' figures; its rates are worked out from "
            "those sums; each practice's forecast is weighted by its own acceptance rate."
            f"</p><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</body></html>").encode()


_FORMATS = {"money": '"$"#,##0.00', "count": "#,##0", "rate": "0.0%"}


def workbook(table: SideBySide) -> bytes:
    """The table as a one-sheet workbook of numbers (sortable, filterable), the group last."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"Every practice {table.period.label}"[:31]
    sheet.append(["Practice", *(figure.label for figure in FIGURES)])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="305496")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for practice, values in table.rows:
        sheet.append([practice, *(None if value is None else int(value)
                                  if figure.kind == "count" else float(value)
                                  for figure, value in zip(FIGURES, values, strict=True))])
        for cell, figure in zip(sheet[sheet.max_row][1:], FIGURES, strict=True):
            cell.number_format = _FORMATS[figure.kind]
        if practice == ALL_PRACTICES:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    for index in range(2, len(FIGURES) + 2):
        sheet.column_dimensions[get_column_letter(index)].width = 15
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(FIGURES) + 1)}{sheet.max_row - 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class GroupReportFiles:
    """What a group report wrote."""

    table: SideBySide
    html: Path
    xlsx: Path
    practices: dict[str, Path]
    """Each practice's own report page."""


def build_group_report(engine: sa.Engine, settings: Settings, kind: PeriodKind, *,
                       period: Period | None = None, folder: Path | None = None,
                       now: datetime | None = None,
                       mappings: Mappings | None = None) -> GroupReportFiles:
    """Write every practice's report and the group's side-by-side page and workbook."""
    zone = ZoneInfo(settings.timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    chosen = period or last_complete(kind, moment.date())
    target = folder or reports_folder(settings) / GROUP_FOLDER
    rules = mappings or load_mappings(settings.mappings_file)
    group = group_settings(settings)
    reports: dict[str, Report] = {}
    pages: dict[str, Path] = {}
    for source_id, source in group.sources.items():
        own = group.model_copy(update={"sources": {source_id: source}})
        files = build_report(engine, own, kind, period=chosen, folder=target / source_id,
                             now=moment, mappings=rules)
        reports[source_id], pages[source_id] = files.report, files.html
    table = side_by_side(reports, chosen)
    gid = group_id(settings.reports.group or settings.queues.group, "reports.group")
    make_folder(target, gid)
    html, xlsx = target / f"group-{chosen.label}.html", target / f"group-{chosen.label}.xlsx"
    write_atomic(html, page(table, settings.site_id, moment), group=gid)
    write_atomic(xlsx, workbook(table), group=gid)
    log.info("group_report_built", kind=chosen.kind, period=chosen.label, folder=str(target),
             count=len(reports))
    return GroupReportFiles(table, html, xlsx, pages)
