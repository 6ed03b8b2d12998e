"""What only Eaglesoft has, end to end through real ODBC: treatment done leaves planned
services, and its status letters are a code map.

The Eaglesoft-shaped synthetic practice sits in PostgreSQL (owner PPM) and is read through
psqlODBC as a role granted SELECT only. Eaglesoft has no change timestamp tc-sync knows of, so
every cycle reads each stream whole and compares it with the ledger: changes and deletions
are both seen at the next cycle. The scenarios every PMS passes are in test_adapter_kit.py,
with the front desk of tests/adapter_kit/odbc.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from .adapter_kit.ledger import cycle, open_keys, per_stream, sqlite_ledger, status, subject
from .adapter_kit.odbc import OdbcDesk, odbc_desk

pytestmark = pytest.mark.postgres


@pytest.fixture
def eaglesoft(postgres_admin) -> Iterator[OdbcDesk]:
    with odbc_desk("eaglesoft", postgres_admin) as desk:
        yield desk


@pytest.fixture
def ledger(tmp_path) -> Iterator[sa.Engine]:
    yield from sqlite_ledger(tmp_path)


def test_treatment_done_leaves_planned_services_and_its_item_resolves(eaglesoft, ledger):
    cycle(ledger, eaglesoft.source())
    key = open_keys(ledger, "unscheduled_treatment")[0]
    eaglesoft.execute("DELETE FROM PPM.treatment_plan_items WHERE patient_id = %s", subject(key))
    eaglesoft.execute("DELETE FROM PPM.planned_services WHERE patient_id = %s", subject(key))
    cycle(ledger, eaglesoft.source())
    assert status(ledger, key) == ("resolved", "no_longer_eligible")


def test_an_unknown_status_letter_is_quarantined_naming_the_code_map(eaglesoft, ledger):
    patient, line = eaglesoft.execute(
        "SELECT patient_id, line_number FROM PPM.planned_services ORDER BY 1, 2 LIMIT 1")[0]
    eaglesoft.execute("UPDATE PPM.planned_services SET status = 'X' WHERE patient_id = %s "
                      "AND line_number = %s", patient, line)
    result, _ = cycle(ledger, eaglesoft.source())
    assert result.outcome == "ok"
    assert per_stream(result, "rows_quarantined")["procedures"] == 1
    with ledger.connect() as connection:
        reason = connection.execute(sa.text("SELECT reason FROM quarantine")).scalar_one()
    assert "code 'X' is not in the code map procedures.status" in reason
