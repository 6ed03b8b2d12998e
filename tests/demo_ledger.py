"""A ledger synced from a small synthetic demo practice, as the daemon syncs it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.run import sync_source


def synced_ledger(folder: Path, today: date, patients: int = 120,
                  url: str | None = None) -> sa.Engine:
    """A demo practice of `patients` written into `folder` and synced into a new ledger
    (source "main"): at `url`, or a SQLite file there; nothing reconciled yet."""
    practice = folder / "practice.db"
    write_sqlite(practice, PracticeSpec(patients=patients, today=today))
    settings = settings_from_mapping({
        "ledger": {"url": url or f"sqlite:///{folder / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental",
                             "connection": {"driver": "sqlite", "path": str(practice)}}}})
    engine = open_ledger(settings.ledger.url)
    assert sync_source(engine, "main", settings.sources["main"], settings.sync).outcome == "ok"
    return engine
