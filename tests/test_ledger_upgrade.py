"""The daemon's ledger is migrated by a child process, so the daemon never carries Alembic
(issue 17: about 11 MB for the life of a daemon started on a new or upgraded install)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import LedgerError, current_revision, head_revision, open_ledger
from tc_sync.ledger.upgrade import open_ledger_apart


def _revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    finally:
        engine.dispose()


def test_a_new_ledger_is_migrated_and_the_daemon_process_never_imports_alembic(ledger_url):
    opened = subprocess.run([sys.executable, "-c", f"""
import sys
from tc_sync.ledger.upgrade import open_ledger_apart
open_ledger_apart({ledger_url!r}).dispose()
print("alembic" in sys.modules)
"""], capture_output=True, text=True, check=True)
    assert opened.stdout.strip().splitlines()[-1] == "False", opened.stderr
    assert _revision(ledger_url) == head_revision()


def test_a_ledger_the_child_cannot_migrate_is_one_sentence_from_the_child(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    open_ledger(url).dispose()
    engine = sa.create_engine(url)
    with engine.begin() as connection:      # a ledger written by a newer tc-sync
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(LedgerError) as raised:
        open_ledger_apart(url)
    message = str(raised.value)
    assert message.startswith("cannot bring the ledger's schema up to date")
    assert "9999" in message and "\n" not in message


def test_without_a_child_process_the_ledger_is_migrated_here(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    open_ledger_apart(url).dispose()
    assert _revision(url) == head_revision()


def test_a_ledger_in_memory_is_migrated_in_this_process():
    engine = open_ledger_apart("sqlite://")
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        engine.dispose()
