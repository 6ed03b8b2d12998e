"""A group of practices on one PostgreSQL ledger: many daemons start together, each guards its
own sources with a lease, and none holds a transaction open while it waits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import head_revision

pytestmark = pytest.mark.postgres


def _start_together(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    processes = [subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for command in commands]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def test_eight_processes_starting_at_once_on_a_new_ledger_all_start(postgres_url, tmp_path):
    config = tmp_path / "group.yaml"
    config.write_text(f"ledger:\n  url: {postgres_url}\n", encoding="utf-8")
    command = [sys.executable, "-m", "tc_sync", "--config", str(config), "status"]

    results = _start_together([command] * 8, tmp_path)

    failures = [result.stderr for result in results if result.returncode != 0]
    assert failures == []
    assert not any("Traceback" in result.stderr for result in results)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [(head_revision(),)]
