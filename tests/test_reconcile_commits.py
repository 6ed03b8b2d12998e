"""A reconcile commits as it goes: its writes are split into short transactions (so 32 agents
on one PostgreSQL ledger never hold one open for long), and the split never changes what the
ledger says. Real SQLite practice and ledger; no mocks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config import settings_from_mapping
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items import reconcile
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items
from tc_sync.pull.run import sync_source

TODAY = date(2026, 11, 20)


def _reconciled(folder: Path, practice: Path) -> tuple[sa.Engine, int, int]:
    """Sync the practice into a new ledger and reconcile it; the engine, and how many
    transactions committed and patients the reconcile evaluated."""
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{folder / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental",
                             "connection": {"driver": "sqlite", "path": str(practice)}}}})
    engine = open_ledger(settings.ledger.url)
    run = sync_source(engine, "main", settings.sources["main"], settings.sync)
    assert run.outcome == "ok"
    commits = []
    sa.event.listen(engine, "commit", lambda connection: commits.append(1))
    totals = reconcile.reconcile_source(engine, "main", load_mappings(), TODAY,
                                        complete_run=True, run_id=run.run_id)
    return engine, len(commits), totals.patients


def _ledger(engine: sa.Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with engine.connect() as connection:
        found = connection.execute(sa.select(
            items.c.item_key, items.c.status, items.c.queue, items.c.owner, items.c.amount,
            items.c.priority, items.c.next_follow_up, items.c.details).order_by(
            items.c.item_key)).all()
        events = connection.execute(sa.select(
            item_events.c.item_key, item_events.c.event, item_events.c.detail).order_by(
            item_events.c.item_key, item_events.c.event_id)).all()
    return [tuple(row) for row in found], [tuple(row) for row in events]


def test_a_reconcile_commits_as_it_goes_and_the_split_changes_nothing(tmp_path, monkeypatch):
    practice = tmp_path / "practice.db"
    write_sqlite(practice, PracticeSpec(patients=120, today=TODAY))
    (tmp_path / "whole").mkdir()
    (tmp_path / "split").mkdir()
    whole, whole_commits, patients = _reconciled(tmp_path / "whole", practice)
    monkeypatch.setattr(reconcile, "_WRITE_SECONDS", 0.0)   # commit after every patient
    split, split_commits, _ = _reconciled(tmp_path / "split", practice)
    assert patients >= 100
    assert split_commits >= patients > whole_commits
    assert _ledger(split) == _ledger(whole)
    assert _ledger(whole)[0], "the practice opened no items: the comparison proves nothing"
