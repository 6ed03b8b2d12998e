"""A group's views of one ledger: the queues of every practice together, reports side by side,
and every practice's health on one page.

Three synthetic practices (different sizes and seeds, so their PMS ids overlap) are synced into
one ledger, SQLite and PostgreSQL; what the files and the page show is checked against the
ledger's open items, which are the truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.mappings import load_mappings
from tc_sync.queues.group import ALL_PRACTICES, ALL_QUEUES, build_group_queues
from tc_sync.sync import sync_source
from tests.test_queues import dollars_at_stake, item_keys, open_items, read_csv

TODAY = date(2026, 11, 26)
PRACTICES = {"downtown": PracticeSpec(patients=120, seed=1, today=TODAY),
             "uptown": PracticeSpec(patients=160, seed=2, today=TODAY),
             "eastside": PracticeSpec(patients=90, seed=3, today=TODAY)}


def group_config(folder: Path, ledger_url: str) -> dict[str, Any]:
    return {
        "site_id": "smile-group", "timezone": "America/Chicago",
        "ledger": {"url": ledger_url},
        "queues": {"folder": str(folder / "queues")},
        "reports": {"folder": str(folder / "reports")},
        "sources": {name: {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(folder / f"{name}.db")}} for name in PRACTICES},
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def group(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Settings, sa.Engine]]:
    """The three practices synced and reconciled into one ledger."""
    folder = tmp_path_factory.mktemp(f"group-{request.param}")
    for name, spec in PRACTICES.items():
        write_sqlite(folder / f"{name}.db", spec)
    if request.param == "sqlite":
        url, drop = f"sqlite:///{folder / 'ledger.db'}", None
    else:
        admin: sa.Engine = request.getfixturevalue("postgres_admin")
        name = f"tc_test_group_{folder.name[-6:].replace('-', '_')}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        drop = name
    settings = settings_from_mapping(group_config(folder, url), label=str(folder / "g.yaml"))
    engine = open_ledger(url)
    mappings = load_mappings()
    for source_id, source in settings.sources.items():
        run = sync_source(engine, source_id, source, settings.sync, full=True)
        assert run.outcome == "ok"
        reconcile_source(engine, source_id, mappings, TODAY, complete_run=True,
                         run_id=run.run_id)
    yield settings, engine
    engine.dispose()
    if drop is not None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {drop} WITH (FORCE)")


def test_the_group_queues_hold_every_practices_rows_with_its_practice_and_its_totals(group):
    settings, engine = group
    built = build_group_queues(engine, settings, today=TODAY)

    folder = built.queues.folder
    assert folder.name == "All-practices"
    every = open_items(engine)
    assert {item["source_id"] for item in every} == set(PRACTICES)
    shown: dict[str, str] = {}
    for path in folder.glob("*.csv"):
        if path.name == "practices.csv":
            continue
        for row in read_csv(path):
            assert next(iter(row)) == "Practice"
            for key in item_keys([row]):
                assert key not in shown, f"{key} listed twice"
                shown[key] = row["Practice"]
    assert shown == {item["item_key"]: item["source_id"] for item in every}

    totals = {(row["Practice"], row["Queue"]): row
              for row in read_csv(folder / "practices.csv")}
    for practice in PRACTICES:
        mine = [item for item in every if item["source_id"] == practice]
        whole = totals[(practice, ALL_QUEUES)]
        assert int(whole["Open items"]) == len(mine)
        assert int(whole["Due now"]) == sum(1 for i in mine if i["next_follow_up"] <= TODAY)
        assert Decimal(whole["Amount"]) == dollars_at_stake(engine, mine, practice)
        treatment = [item for item in mine if item["queue"] == "treatment"]
        assert Decimal(totals[(practice, "treatment")]["Amount"]) == dollars_at_stake(
            engine, treatment, practice)
    group_total = totals[(ALL_PRACTICES, ALL_QUEUES)]
    assert int(group_total["Open items"]) == len(every)
    assert Decimal(group_total["Amount"]) == sum(
        (dollars_at_stake(engine, [i for i in every if i["source_id"] == p], p)
         for p in PRACTICES), start=Decimal(0))
    page = (folder / "practices.html").read_text("utf-8")
    assert all(practice in page for practice in PRACTICES)
    assert (folder / "queues.xlsx").is_file() and (folder / "queues.html").is_file()


def _now() -> datetime:
    return datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
