"""Where the report files go: light to import (no charts, no workbook), so the daemon, which
only needs the folder's name until a report job runs, does not carry matplotlib."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import Settings


def reports_folder(settings: Settings) -> Path:
    """The configured folder, else `reports` beside a SQLite ledger, else ./reports."""
    if settings.reports.folder is not None:
        return settings.reports.folder
    url = sa.make_url(settings.ledger.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).parent / "reports"
    return Path("reports")
