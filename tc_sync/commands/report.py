"""`tc-sync report weekly|monthly`: write a report's HTML page and workbook, print their paths."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.reports.build import build_report, reports_folder
from tc_sync.reports.period import PeriodError, PeriodKind, parse_period


def make_report(settings: Settings, kind: PeriodKind, period_text: str | None,
                folder: Path | None) -> int:
    """Write the report of `--period` (default: the last complete one); 1 if it cannot."""
    try:
        period = parse_period(kind, period_text,
                              datetime.now(ZoneInfo(settings.timezone)).date())
    except PeriodError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 2
    target = folder or reports_folder(settings)
    engine = open_ledger(settings.ledger.url)
    try:
        files = build_report(engine, settings, kind, period=period, folder=target)
    except OSError as error:
        print(f"tc-sync: cannot write the report to {target}: "
              f"{error.strerror or type(error).__name__}; check reports.folder and that this "
              "account may write there", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{kind} report, {period.title}:")
    print(f"  {files.html.resolve()}")
    print(f"  {files.xlsx.resolve()}")
    return 0
