"""Where the report files go: light to import (no charts, no workbook), so the daemon, which
only needs the folder's name until a report job runs, does not carry matplotlib."""

from __future__ import annotations

from pathlib import Path

from tc_sync.config import Settings
from tc_sync.ledger.db import folder_beside_ledger


def reports_folder(settings: Settings) -> Path:
    """The configured folder, else `reports` beside a SQLite ledger, else ./reports."""
    if settings.reports.folder is not None:
        return settings.reports.folder
    return folder_beside_ledger(settings.ledger.url, "reports")
