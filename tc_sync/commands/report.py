"""`tc-sync report weekly|monthly [--group]`: write a report's HTML page and workbook (with
--group: each practice's, and every practice side by side), print their paths."""

from __future__ import annotations

import sys
from pathlib import Path

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.ledger.db import open_ledger
from tc_sync.queues.group import GROUP_FOLDER
from tc_sync.reports.build import build_report
from tc_sync.reports.folder import reports_folder
from tc_sync.reports.group import build_group_report
from tc_sync.reports.period import PeriodError, PeriodKind, parse_period


def make_report(settings: Settings, kind: PeriodKind, period_text: str | None,
                folder: Path | None, *, group: bool = False) -> int:
    """Write the report of `--period` (default: the last complete one), or with `group` the
    group's; 1 if it cannot."""
    try:
        period = parse_period(kind, period_text, practice_today(settings))
    except PeriodError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 2
    target = folder or reports_folder(settings) / (GROUP_FOLDER if group else "")
    engine = open_ledger(settings.ledger.url)
    try:
        if group:
            made = build_group_report(engine, settings, kind, period=period, folder=target)
            print(f"{kind} report of every practice, {period.title}:")
            print(f"  {made.html.resolve()}")
            print(f"  {made.xlsx.resolve()}")
            for practice, path in made.practices.items():
                print(f"  {practice}: {path.resolve()}")
            return 0
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
