"""Every stream's SQL against Open Dental's real schema, not only the project's fixture.

Uses ../shared/opendental (Open Dental's own blank 21.1.9 database dump, and its 24.3 schema
documentation), present beside the checkout in CI. Elsewhere these tests skip, saying why.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from tc_sync.adapter.loading import load_adapter
from tc_sync.config import SyncSettings
from tc_sync.ledger.schema import replica
from tc_sync.pull.run import sync_source
from tc_sync.records import Patient, Procedure, ProcedureCode

from .conftest import IN_CI, SHARED

DUMP = SHARED / "opendental" / "schema-21.1.9.sql"
DOCS = SHARED / "opendental" / "OpenDentalDocumentation-24.3.xml"

pytestmark = pytest.mark.conformance


def need(path):
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI always has ../shared/opendental")
        pytest.skip(f"{path} is not here (it is beside the checkout in CI)")


@pytest.fixture
def real_schema(mysql_server, mysql_database) -> str:
    need(DUMP)
    with DUMP.open("rb") as dump:
        subprocess.run(["mysql", "-h", mysql_server.host, "-P", str(mysql_server.port),
                        "-u", mysql_server.user, f"--password={mysql_server.password}",
                        mysql_database], stdin=dump, check=True, capture_output=True)
    return mysql_database


@pytest.mark.mysql
def test_every_stream_reads_open_dentals_own_21_1_database(mysql_server, real_schema, source,
                                                           ledger):
    with mysql_server.connect(real_schema) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        cursor.execute("INSERT INTO patient (LName, FName, PatStatus, Guarantor, PriProv, "
                       "PreferContactMethod, WirelessPhone) VALUES ('Testpatient', 'Ada', 0, "
                       "1, 1, 4, '555-0101')")
        patient = cursor.lastrowid
        cursor.execute("SELECT CodeNum FROM procedurecode WHERE ProcCode = 'D2740'")
        code_num = cursor.fetchone()[0]
        cursor.execute("INSERT INTO procedurelog (PatNum, CodeNum, ProcStatus, ProcFee, UnitQty, "
                       "ToothNum, DateTP, ProvNum) VALUES (%s, %s, 1, 1250, 1, '3', "
                       "CURDATE(), 1)", (patient, code_num))
        procedure = cursor.lastrowid
    result = sync_source(ledger, "od", source, SyncSettings())
    assert result.outcome == "ok", result.error
    assert result.pms_version == "21.1.9.0"
    assert result.rows_quarantined == 0
    with ledger.connect() as connection:
        codes = connection.scalar(sa.select(sa.func.count()).select_from(
            replica[ProcedureCode]))
        row = connection.execute(sa.select(replica[Procedure]).where(
            replica[Procedure].c.pms_id == procedure)).mappings().one()
        person = connection.execute(sa.select(replica[Patient])).mappings().one()
    assert codes == 579                                 # Open Dental ships its code list
    assert (row["code"], row["status"], str(row["fee"])) == ("D2740", "planned", "1250.00")
    assert row["appointment_id"] is None and row["date_complete"] is None
    assert (person["pms_id"], person["preferred_contact"]) == (patient, "mobile_phone")
    assert person["birthdate"] is None                  # '0001-01-01' means none


def _columns_read(sql: str) -> set[tuple[str, str]]:
    aliases = {alias: table for table, alias in
               re.findall(r"(?:FROM|JOIN)\s+(\w+)\s+(\w+)", sql, flags=re.IGNORECASE)}
    return {(aliases[alias], column) for alias, column in re.findall(r"\b(\w+)\.(\w+)\b", sql)
            if alias in aliases}


def test_every_column_read_after_24_2_1_exists_in_open_dentals_24_3_schema():
    need(DOCS)
    documented = {
        (table.get("name"), column.get("name"))
        for table in ET.parse(DOCS).getroot().iter("table") for column in table.iter("column")}
    adapter = load_adapter("opendental")
    missing = sorted({
        f"{stream.sql_file.name}: {table}.{column}"
        for stream in adapter.streams("24.3.10.0")
        for table, column in _columns_read(stream.sql) if (table, column) not in documented})
    assert missing == []


def test_every_column_read_before_24_2_1_exists_in_open_dentals_21_1_dump():
    need(DUMP)
    text = DUMP.read_text(encoding="utf-8", errors="replace")
    adapter = load_adapter("opendental")
    missing = []
    for stream in adapter.streams("21.1.9.0"):
        for table, column in _columns_read(stream.sql):
            block = re.search(rf"CREATE TABLE `{table}` \((.*?)\) ENGINE", text, re.DOTALL)
            if block is None or f"`{column}`" not in block.group(1):
                missing.append(f"{stream.sql_file.name}: {table}.{column}")
    assert missing == []
