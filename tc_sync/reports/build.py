"""Make one weekly or monthly report: gather its figures, draw its charts once, write the HTML
page and the workbook atomically (report-<period>.html and .xlsx), 0640 and given
`reports.group` (else `queues.group`).

The reports hold counts, dollars, provider, carrier, queue and owner names: no patient's data.
Logs carry the kind, the period, the folder and the file names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.ledger.db import reading
from tc_sync.queues.atomic import group_id, make_folder, remove_leftovers, write_atomic
from tc_sync.reports.charts import draw
from tc_sync.reports.folder import reports_folder
from tc_sync.reports.html import page
from tc_sync.reports.period import Period, PeriodKind, last_complete
from tc_sync.reports.report import Report, gather
from tc_sync.reports.xlsx import workbook

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    """What a build wrote."""

    report: Report
    html: Path
    xlsx: Path


def file_names(period: Period) -> tuple[str, str]:
    """report-<period>.html and report-<period>.xlsx."""
    return f"report-{period.label}.html", f"report-{period.label}.xlsx"


def build_report(engine: sa.Engine, settings: Settings, kind: PeriodKind, *,
                 period: Period | None = None, folder: Path | None = None,
                 now: datetime | None = None, mappings: Mappings | None = None) -> ReportFiles:
    """Write the report of `period` (default: the last complete week or month)."""
    started = time.perf_counter()
    zone = ZoneInfo(settings.timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    chosen = period or last_complete(kind, moment.date())
    target = folder or reports_folder(settings)
    with reading(engine) as connection:
        report = gather(connection, site_id=settings.site_id, source_ids=list(settings.sources),
                        mappings=mappings or load_mappings(settings.mappings_file),
                        period=chosen, zone=zone, built_at=moment,
                        window_days=settings.reports.acceptance_window_days)
    charts = draw(report)
    gid = group_id(settings.reports.group or settings.queues.group, "reports.group")
    make_folder(target, gid)
    remove_leftovers(target)
    html_name, xlsx_name = file_names(chosen)
    write_atomic(target / html_name, page(report, charts), group=gid)
    write_atomic(target / xlsx_name, workbook(report, charts), group=gid)
    log.info("report_built", kind=chosen.kind, period=chosen.label, folder=str(target),
             files=[html_name, xlsx_name], seconds=round(time.perf_counter() - started, 3))
    return ReportFiles(report, target / html_name, target / xlsx_name)
