"""What only Dentrix has, end to end through real ODBC: the hang guard on a locked table.

The Dentrix-shaped synthetic practice sits in PostgreSQL (schema admin: the Developer
Program's views over base tables, and the base tables integrators read), read through
psqlODBC as a role granted SELECT only. The front desk changes rows as the owner; the
server sets each row's change timestamp, as c-treeACE does. The scenarios every PMS passes
(booking, predeterminations, the office journal, deletes, partial pulls, aging, both ODBC
drivers) are in test_adapter_kit.py, with the front desk of tests/adapter_kit/odbc.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from .adapter_kit.ledger import cycle, item, open_keys, per_stream, sqlite_ledger, subject
from .adapter_kit.odbc import OdbcDesk, odbc_desk

pytestmark = pytest.mark.postgres


@pytest.fixture
def dentrix(postgres_admin) -> Iterator[OdbcDesk]:
    with odbc_desk("dentrix", postgres_admin) as desk:
        yield desk


@pytest.fixture
def ledger(tmp_path) -> Iterator[sa.Engine]:
    yield from sqlite_ledger(tmp_path)


def test_a_locked_table_trips_the_hang_guard_the_run_says_so_and_the_next_one_completes(
        dentrix, ledger, postgres_admin):
    cycle(ledger, dentrix.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    dentrix.book(subject(key), days_ahead=7)
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        url = postgres_admin.url.set(database=dentrix.db.name)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("LOCK TABLE admin.claim IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(60)
        engine.dispose()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(30)
        result, _ = cycle(ledger, dentrix.source(statement_limit=2))
    finally:
        release.set()
        holder.join()
    modes = per_stream(result, "mode")
    assert result.outcome == "partial"
    assert modes["claims"] == modes["claim_procedures"] == "failed"
    assert modes["appointments"] == "incremental"
    assert "ran longer than 2 s" in (result.error or "")
    assert item(ledger, key)["status"] == "open"       # a partial run resolves nothing
    result, _ = cycle(ledger, dentrix.source(statement_limit=2))
    assert result.outcome == "ok"
    assert item(ledger, key)["resolution"] == "scheduled"
