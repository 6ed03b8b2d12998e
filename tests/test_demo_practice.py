"""The synthetic demo practice (tc_sync.demo) as its users meet it.

A developer builds the demo SQLite file or loads MariaDB and expects: every Open Dental table the
sync reads, every case the coordination features work on (several times each), the same rows for
the same spec, timestamps that move when a row changes, and every adapter query running on it.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pymysql
import pytest
import yaml

from tc_sync.demo.odschema import (
    PLANNEDAPPT_DROPPED_IN,
    mysql_ddl,
    parse_version,
    sqlite_ddl,
    table,
    tables_for,
    version_at_least,
)
from tc_sync.demo.practice import PracticeSpec, iter_rows, main, write_mysql, write_sqlite

TODAY = date(2025, 6, 16)
SPEC = PracticeSpec.demo(today=TODAY)
NEW = "24.3.10.0"
OLD = "21.1.9.0"
ADAPTERS = Path(__file__).resolve().parents[1] / "adapters" / "opendental"
PARAMS = {"after_key": 0, "until_key": 10**18, "since": None, "batch_size": 100_000}


def _greatest(*values: object) -> object:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.create_function("GREATEST", -1, _greatest, deterministic=True)
    return conn


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo practice as SQLite files, at a schema after and one before 24.2.1."""
    folder = tmp_path_factory.mktemp("demo")
    files = {}
    for version in (NEW, OLD):
        files[version] = folder / f"practice-{version}.db"
        write_sqlite(files[version], SPEC, version)
    return files


@pytest.fixture
def demo(demo_files: dict[str, Path]) -> Iterator[sqlite3.Connection]:
    conn = _open(demo_files[NEW])
    yield conn
    conn.close()


def scalar(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


# --- the schema ----------------------------------------------------------------------------


def test_the_schema_follows_the_24_2_1_change_of_planned_appointments():
    new = "\n".join(mysql_ddl("24.3.10.0"))
    old = "\n".join(mysql_ddl("24.2.0.9"))
    assert "CREATE TABLE `plannedappt`" not in new and "`ItemOrderPlanned` int(11)" in new
    assert "CREATE TABLE `plannedappt`" in old and "ItemOrderPlanned" not in old
    assert [t.name for t in tables_for("24.2.1")].count("plannedappt") == 0
    # Versions compare by number, not as text.
    assert version_at_least("24.10.0.0", PLANNEDAPPT_DROPPED_IN)
    assert not version_at_least("24.2.0.12", PLANNEDAPPT_DROPPED_IN)
    assert parse_version("24.2.1") == parse_version("24.2.1.0")
    assert "DataBaseVersion', '24.3.10.0'" in new


def test_the_mysql_schema_keeps_open_dentals_types_and_engine():
    ddl = "\n".join(mysql_ddl(NEW, "MyISAM"))
    assert ddl.count("ENGINE=MyISAM DEFAULT CHARSET=utf8") == len(tables_for(NEW))
    assert "`ProcCode` varchar(15) CHARACTER SET utf8 COLLATE utf8_bin NOT NULL DEFAULT ''" in ddl
    assert ("`DateTStamp` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP "
            "ON UPDATE CURRENT_TIMESTAMP") in ddl
    assert "`DateComplete` date NOT NULL DEFAULT '0001-01-01'" in ddl
    assert "`PatNum` bigint(20) NOT NULL AUTO_INCREMENT" in ddl
    assert "ENGINE=InnoDB" in mysql_ddl(NEW, "InnoDB")[0]


@pytest.mark.parametrize(
    "name", ["procedurelog", "patient", "appointment", "claim", "claimproc", "commlog"]
)
def test_cursor_columns_carry_no_index_where_open_dental_has_none(name):
    t = table(name)
    stamp = t.timestamp_column
    assert stamp in ("DateTStamp", "SecDateTEdit")
    assert not [ix.name for ix in t.indexes if stamp in ix.column_names()]
    create = t.mysql_create(NEW)
    assert not re.search(rf"KEY `\w+` \([^)]*`{stamp}`", create)
    assert not [s for s in t.sqlite_create(NEW) if s.startswith("CREATE INDEX") and stamp in s]


def test_the_tables_keep_their_real_secondary_indexes():
    assert "KEY `indexPNPSCN` (`PatNum`,`ProcStatus`,`ClinicNum`)" in table(
        "procedurelog").mysql_create(NEW)
    assert "KEY `indexPatNum` (`PatNum`)" in table("appointment").mysql_create(NEW)
    assert "KEY `indexLName` (`LName`(10))" in table("patient").mysql_create(NEW)


def test_the_sqlite_schema_has_the_same_tables_and_columns(tmp_path):
    conn = sqlite3.connect(tmp_path / "empty.db")
    for statement in sqlite_ddl(OLD):
        conn.execute(statement)
    for t in tables_for(OLD):
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{t.name}")')]
        assert columns == list(t.column_names(OLD)), t.name
    assert scalar(conn, "SELECT COUNT(*) FROM preference WHERE PrefName='DataBaseVersion' "
                        "AND ValueString = ?", OLD) == 1


# --- the demo practice -----------------------------------------------------------------------


def test_the_demo_has_every_table_with_rows(demo_files):
    for version, path in demo_files.items():
        conn = _open(path)
        names = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
        assert names == {t.name for t in tables_for(version)}
        for name in names:
            assert scalar(conn, f'SELECT COUNT(*) FROM "{name}"') > 0, (version, name)
        conn.close()
    assert scalar(_open(demo_files[NEW]), "SELECT COUNT(*) FROM patient") == 300


def test_the_demo_reference_data(demo):
    assert scalar(demo, "SELECT COUNT(*) FROM provider") == 3
    assert scalar(demo, "SELECT COUNT(*) FROM provider WHERE IsSecondary = 1") == 1
    assert scalar(demo, "SELECT COUNT(*) FROM clinic") == 2
    assert scalar(demo, "SELECT COUNT(*) FROM procedurecode") >= 60
    assert scalar(demo, "SELECT COUNT(*) FROM procedurecode pc JOIN definition d "
                        "ON d.DefNum = pc.ProcCat AND d.Category = 11") == scalar(
        demo, "SELECT COUNT(*) FROM procedurecode")
    for code in ("D0120", "D0150", "D0274", "D1110", "D2391", "D2740", "D2750", "D2950",
                 "D3330", "D4341", "D4910", "D6010", "D7140", "D7210", "D8090"):
        assert scalar(demo, "SELECT COUNT(*) FROM procedurecode WHERE ProcCode = ?", code) == 1
    categories = {r[0] for r in demo.execute("SELECT DISTINCT Category FROM definition")}
    assert {11, 13, 20, 27, 31} < categories
    assert categories - {11, 13, 20, 27, 31}, "other categories are there to be ignored"
    assert 8 <= scalar(demo, "SELECT COUNT(*) FROM carrier") <= 40
    assert scalar(demo, "SELECT COUNT(*) FROM insplan") >= 20


def test_the_demo_has_treatment_planned_work_in_every_state(demo):
    future = f"{TODAY.isoformat()} 23:59:59"
    # Planned, with no future appointment at all.
    assert scalar(demo, """
        SELECT COUNT(DISTINCT pl.PatNum) FROM procedurelog pl
        WHERE pl.ProcStatus = 1 AND NOT EXISTS (
          SELECT 1 FROM appointment a WHERE a.PatNum = pl.PatNum AND a.AptStatus = 1
            AND a.AptDateTime > ?)""", future) >= 20
    # Planned and attached to a future scheduled appointment.
    assert scalar(demo, """
        SELECT COUNT(DISTINCT a.AptNum) FROM procedurelog pl
        JOIN appointment a ON a.AptNum = pl.AptNum
        WHERE pl.ProcStatus = 1 AND a.AptStatus = 1 AND a.AptDateTime > ?""", future) >= 20
    planned = """
        SELECT COUNT(DISTINCT p.AptNum) FROM appointment p
        JOIN procedurelog pl ON pl.PlannedAptNum = p.AptNum AND pl.ProcStatus = 1
        WHERE p.AptStatus = 6 AND {} EXISTS (
          SELECT 1 FROM appointment s WHERE s.NextAptNum = p.AptNum AND s.AptStatus = 1)"""
    assert scalar(demo, planned.format("NOT")) >= 8, "planned appointments not yet scheduled"
    assert scalar(demo, planned.format("")) >= 4, "planned appointments since scheduled"
    for status in (5, 3):  # broken, unscheduled list
        assert scalar(demo, """
            SELECT COUNT(*) FROM appointment a JOIN definition d ON d.DefNum = a.UnschedStatus
            WHERE a.AptStatus = ? AND d.Category = 13""", status) >= 4
        assert scalar(demo, """
            SELECT COUNT(DISTINCT a.AptNum) FROM appointment a
            JOIN procedurelog pl ON pl.AptNum = a.AptNum AND pl.ProcStatus = 1
            WHERE a.AptStatus = ?""", status) >= 4
    # Inactive and archived patients who still have work planned.
    for status in (2, 3):
        assert scalar(demo, """
            SELECT COUNT(DISTINCT p.PatNum) FROM patient p JOIN procedurelog pl
            ON pl.PatNum = p.PatNum AND pl.ProcStatus = 1 WHERE p.PatStatus = ?""", status) >= 4


def test_the_demo_has_completed_and_deleted_work(demo):
    assert scalar(demo, "SELECT COUNT(*) FROM appointment WHERE AptStatus = 2") > 1000
    assert scalar(demo, "SELECT COUNT(*) FROM procedurelog WHERE ProcStatus = 2 "
                        "AND DateComplete = ProcDate AND DateComplete > '0001-01-01'") > 5000
    assert scalar(demo, "SELECT COUNT(*) FROM procedurelog WHERE ProcStatus = 6") >= 50
    assert scalar(demo, "SELECT COUNT(*) FROM procedurelog WHERE ProcStatus = 1 "
                        "AND DateComplete = '0001-01-01'") == scalar(
        demo, "SELECT COUNT(*) FROM procedurelog WHERE ProcStatus = 1")
    low, high = demo.execute("SELECT MIN(ProcFee), MAX(ProcFee) FROM procedurelog").fetchone()
    assert low >= 50
    assert high <= 3000
    teeth = {r[0] for r in demo.execute("SELECT DISTINCT ToothNum FROM procedurelog")}
    assert teeth <= {""} | {str(n) for n in range(1, 33)}
    assert scalar(demo, "SELECT COUNT(*) FROM procedurelog WHERE Surf = 'MOD'") > 0


def test_the_demo_has_predeterminations_pending_and_returned(demo):
    pending = [r[0] for r in demo.execute("""
        SELECT julianday(?) - julianday(DateSent) FROM claim
        WHERE ClaimType = 'PreAuth' AND ClaimStatus = 'S' AND DateReceived = '0001-01-01'""",
        (TODAY.isoformat(),))]
    assert len(pending) >= 8
    assert min(pending) < 30 and max(pending) > 60, "pending for various ages"
    assert scalar(demo, """
        SELECT COUNT(*) FROM claimproc cp JOIN claim c ON c.ClaimNum = cp.ClaimNum
        WHERE c.ClaimType = 'PreAuth' AND cp.Status != 2""") == 0
    # Returned, and the work is still not scheduled.
    assert scalar(demo, """
        SELECT COUNT(DISTINCT c.ClaimNum) FROM claim c
        JOIN claimproc cp ON cp.ClaimNum = c.ClaimNum
        JOIN procedurelog pl ON pl.ProcNum = cp.ProcNum
        WHERE c.ClaimType = 'PreAuth' AND c.ClaimStatus = 'R' AND c.DateReceived > '0001-01-01'
          AND pl.ProcStatus = 1 AND pl.AptNum = 0""") >= 4


def test_the_demo_has_claims_in_every_state_and_aging_bucket(demo):
    def sent_unpaid(low: int, high: int) -> int:
        return scalar(demo, """
            SELECT COUNT(*) FROM claim WHERE ClaimType = 'P' AND ClaimStatus = 'S'
              AND DateSent <= ? AND DateSent >= ?""", days_ago(low), days_ago(high))

    for low, high in ((0, 30), (31, 60), (61, 90), (91, 4000)):
        assert sent_unpaid(low, high) >= 4, (low, high)
    assert scalar(demo, "SELECT COUNT(*) FROM claim WHERE ClaimStatus = 'U'") >= 4
    received = "SELECT COUNT(*) FROM claim WHERE ClaimType = 'P' AND ClaimStatus = 'R' " \
               "AND DateReceived > '0001-01-01' AND {}"
    assert scalar(demo, received.format("InsPayAmt >= InsPayEst AND InsPayAmt > 0")) >= 100
    assert scalar(demo, received.format("InsPayAmt = 0 AND ClaimFee > 0 AND InsPayEst > 0")) >= 4
    assert scalar(demo, received.format("InsPayAmt > 0 AND InsPayAmt < 0.7 * InsPayEst")) >= 4
    assert scalar(demo, "SELECT COUNT(*) FROM claim WHERE ClaimStatus IN ('S', 'R') "
                        "AND DateReceived = '0001-01-01' AND ClaimStatus = 'R'") == 0
    assert scalar(demo, """
        SELECT COUNT(*) FROM claim c JOIN definition d ON d.DefNum = c.CustomTracking
        WHERE d.Category = 31""") >= 4
    # Claim totals are the sums of their procedures.
    assert scalar(demo, """
        SELECT COUNT(*) FROM claim c WHERE abs(c.ClaimFee -
          (SELECT SUM(FeeBilled) FROM claimproc cp WHERE cp.ClaimNum = c.ClaimNum)) > 0.01""") == 0


def test_the_demo_has_insurance_variety(demo):
    assert scalar(demo, "SELECT COUNT(*) FROM insplan WHERE MonthRenew = 0") >= 4
    assert scalar(demo, "SELECT COUNT(*) FROM insplan WHERE MonthRenew BETWEEN 2 AND 12") >= 4
    # Every plan has one annual maximum: a limitation, individual, per benefit year.
    assert scalar(demo, """
        SELECT COUNT(*) FROM insplan ip WHERE (SELECT COUNT(*) FROM benefit b
          WHERE b.PlanNum = ip.PlanNum AND b.BenefitType = 5 AND b.CovCatNum = 0
            AND b.CodeNum = 0 AND b.QuantityQualifier = 0 AND b.CoverageLevel = 1
            AND b.TimePeriod IN (1, 2)) != 1""") == 0
    assert scalar(demo, "SELECT COUNT(*) FROM benefit WHERE BenefitType = 2") >= 30
    assert scalar(demo, "SELECT COUNT(*) FROM benefit WHERE BenefitType = 1") >= 100
    assert scalar(demo, "SELECT COUNT(*) FROM patient p WHERE NOT EXISTS "
                        "(SELECT 1 FROM patplan pp WHERE pp.PatNum = p.PatNum)") >= 20
    assert {r[0] for r in demo.execute("SELECT DISTINCT PlanType FROM insplan")} == {
        "", "p", "f", "c"}


def test_the_demo_contact_log_and_synthetic_contact_details(demo):
    modes = {r[0] for r in demo.execute("SELECT DISTINCT Mode_ FROM commlog")}
    assert len(modes) >= 6
    assert scalar(demo, "SELECT COUNT(*) FROM commlog") >= 600
    assert scalar(demo, "SELECT COUNT(*) FROM patient WHERE Email != '' "
                        "AND Email NOT LIKE '%@example.com'") == 0
    phones = [r[0] for r in demo.execute(
        "SELECT HmPhone FROM patient UNION SELECT WirelessPhone FROM patient")]
    assert all(p == "" or re.fullmatch(r"\(555\)555-01\d\d", p) for p in phones)


def test_none_dates_are_open_dentals_0001_01_01(demo):
    assert scalar(demo, "SELECT COUNT(*) FROM claim WHERE DateReceived = '0001-01-01'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM appointment WHERE AptStatus = 6 "
                        "AND AptDateTime = '0001-01-01 00:00:00'") > 0
    for name in ("procedurelog", "claim", "claimproc", "patient", "appointment"):
        t = table(name)
        for col in t.columns:
            if col.kind in ("date", "datetime", "timestamp"):
                assert scalar(demo, f'SELECT COUNT(*) FROM "{name}" WHERE "{col.name}" IS NULL '
                                    f"OR \"{col.name}\" LIKE '0000%' OR \"{col.name}\" = ''") == 0


def test_timestamps_are_in_the_past_and_spread_over_two_years(demo):
    low, high = demo.execute("SELECT MIN(DateTStamp), MAX(DateTStamp) FROM procedurelog"
                             ).fetchone()
    assert high < TODAY.isoformat()
    assert low >= days_ago(731)
    assert low < days_ago(600)


def test_volumes_scale_with_the_number_of_patients():
    patients = 3000
    counts = Counter(name for name, _ in iter_rows(PracticeSpec(patients=patients, today=TODAY)))
    per = {name: n / patients for name, n in counts.items()}
    assert counts["patient"] == patients
    assert 29 <= per["procedurelog"] <= 37
    assert 6.0 <= per["appointment"] <= 7.5
    assert 4.2 <= per["claim"] <= 5.8
    assert 13 <= per["claimproc"] <= 18
    assert 2.5 <= per["commlog"] <= 3.5
    assert 0.8 <= per["treatplan"] <= 1.5
    assert 0.8 <= per["patplan"] <= 1.1
    assert 8 <= counts["carrier"] <= 40
    assert 100 <= counts["insplan"] <= 400


def test_the_same_spec_gives_the_same_practice(tmp_path):
    spec = PracticeSpec(patients=120, seed=11, today=TODAY)
    assert list(iter_rows(spec)) == list(iter_rows(spec))
    assert list(iter_rows(spec)) != list(iter_rows(PracticeSpec(patients=120, seed=12,
                                                                today=TODAY)))
    dumps = []
    for name in ("a.db", "b.db"):
        write_sqlite(tmp_path / name, spec)
        conn = sqlite3.connect(tmp_path / name)
        dumps.append({t.name: conn.execute(f'SELECT * FROM "{t.name}" ORDER BY 1').fetchall()
                      for t in tables_for(NEW)})
        conn.close()
    assert dumps[0] == dumps[1]


def test_dates_follow_the_given_today():
    later = TODAY + timedelta(days=100)
    columns = table("appointment").column_names(NEW)
    when, stamp = columns.index("AptDateTime"), columns.index("DateTStamp")
    rows = [r for n, r in iter_rows(PracticeSpec(patients=50, today=later)) if n == "appointment"]
    assert max(str(r[when]) for r in rows) > later.isoformat(), "future appointments"
    assert max(str(r[stamp]) for r in rows) < later.isoformat(), "stamps in the past"


def test_an_update_in_the_sqlite_demo_bumps_the_timestamp(demo_files, tmp_path):
    path = tmp_path / "practice.db"
    path.write_bytes(demo_files[NEW].read_bytes())
    conn = _open(path)
    before = conn.execute("SELECT DateTStamp FROM procedurelog WHERE ProcNum = 7").fetchone()[0]
    conn.execute("UPDATE procedurelog SET ProcFee = ProcFee + 1 WHERE ProcNum = 7")
    after = conn.execute("SELECT DateTStamp FROM procedurelog WHERE ProcNum = 7").fetchone()[0]
    assert after != before
    assert abs(datetime.fromisoformat(after) - datetime.now()) < timedelta(minutes=2)
    # An UPDATE that changes nothing leaves the stamp, as MySQL does.
    conn.execute("UPDATE claim SET ClaimFee = ClaimFee WHERE ClaimNum = 3")
    stamps = conn.execute("SELECT SecDateTEdit FROM claim WHERE ClaimNum IN (3, 4)").fetchall()
    conn.execute("UPDATE claim SET ClaimNote = 'called the carrier' WHERE ClaimNum = 4")
    assert conn.execute("SELECT SecDateTEdit FROM claim WHERE ClaimNum = 3").fetchone() == \
        stamps[0]
    assert conn.execute("SELECT SecDateTEdit FROM claim WHERE ClaimNum = 4").fetchone() != \
        stamps[1]
    # An UPDATE that sets the stamp itself keeps the value it set.
    conn.execute("UPDATE patient SET LName = 'Renamed', DateTStamp = '2020-01-02 03:04:05' "
                 "WHERE PatNum = 1")
    assert conn.execute("SELECT DateTStamp FROM patient WHERE PatNum = 1").fetchone()[0] == \
        "2020-01-02 03:04:05"
    # An INSERT that leaves the stamp out gets the local time now.
    conn.execute("INSERT INTO commlog (PatNum, CommDateTime, Mode_) "
                 "VALUES (1, '2025-06-01 10:00:00', 3)")
    inserted = conn.execute("SELECT DateTStamp FROM commlog ORDER BY CommlogNum DESC LIMIT 1"
                            ).fetchone()[0]
    assert abs(datetime.fromisoformat(inserted) - datetime.now()) < timedelta(minutes=2)
    conn.close()


def test_the_command_line_writes_a_sqlite_practice(tmp_path):
    lines: list[str] = []
    path = tmp_path / "cli.db"
    assert main(["--sqlite", str(path), "--patients", "40", "--today", TODAY.isoformat()],
                out=lines.append) == 0
    assert path.exists()
    assert any(line.startswith("patient") and line.rstrip().endswith("40") for line in lines)
    assert lines[-1].startswith("loaded 40 patients in ")


# --- adapter SQL ---------------------------------------------------------------------------


def _pre_version_files() -> dict[str, str]:
    """Adapter files that the manifest uses only before a version: {file: that version}."""
    manifest = yaml.safe_load((ADAPTERS / "manifest.yaml").read_text())
    files: dict[str, str] = {}
    for stream in manifest["streams"].values():
        for version, sql in (stream.get("before") or {}).items():
            files[sql] = str(version)
    return files


def _applies(sql_file: str, version: str) -> bool:
    """Whether the adapter reads ``sql_file`` at schema ``version`` (the manifest's choice)."""
    before = _pre_version_files()
    if sql_file in before:
        return not version_at_least(version, before[sql_file])
    manifest = yaml.safe_load((ADAPTERS / "manifest.yaml").read_text())
    for stream in manifest["streams"].values():
        if stream["sql"] == sql_file:
            cutoffs = stream.get("before") or {}
            return all(version_at_least(version, str(v)) for v in cutoffs)
    return True


ADAPTER_FILES = sorted(p.name for p in ADAPTERS.glob("*.sql"))
ADAPTER_CASES = [(v, f) for f in ADAPTER_FILES for v in (NEW, OLD) if _applies(f, v)]


def test_every_adapter_file_is_exercised_at_some_version():
    assert ADAPTER_FILES, f"no adapter SQL in {ADAPTERS}"
    assert {f for _, f in ADAPTER_CASES} == set(ADAPTER_FILES)
    assert (NEW, "appointments_pre_24_2.sql") not in ADAPTER_CASES
    assert (OLD, "appointments_pre_24_2.sql") in ADAPTER_CASES
    assert (OLD, "appointments.sql") not in ADAPTER_CASES


@pytest.mark.parametrize(("version", "sql_file"), ADAPTER_CASES)
def test_adapter_sql_runs_on_the_sqlite_demo(demo_files, version, sql_file):
    conn = _open(demo_files[version])
    sql = (ADAPTERS / sql_file).read_text()
    rows = conn.execute(sql, PARAMS).fetchall()
    assert rows, sql_file
    since = conn.execute(sql, {**PARAMS, "since": days_ago(30)}).fetchall()
    assert len(since) <= len(rows)
    conn.close()


# --- MariaDB / MySQL -------------------------------------------------------------------------


def _mysql_connect() -> pymysql.connections.Connection:
    host = os.environ.get("TC_SYNC_TEST_MYSQL_HOST", "127.0.0.1")
    port = int(os.environ.get("TC_SYNC_TEST_MYSQL_PORT", "3306"))
    try:
        return pymysql.connect(
            host=host, port=port, user=os.environ.get("TC_SYNC_TEST_MYSQL_USER", "root"),
            password=os.environ.get("TC_SYNC_TEST_MYSQL_PASSWORD", ""), charset="utf8mb4",
            autocommit=True, connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        reason = f"no MariaDB/MySQL server at {host}:{port}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def mysql_db() -> Iterator[pymysql.connections.Connection]:
    """A connection whose current database is fresh, dropped afterwards."""
    conn = _mysql_connect()
    name = f"tc_test_demo_{secrets.token_hex(4)}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8")
        cur.execute(f"USE `{name}`")
    try:
        yield conn
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def _mysql_scalar(conn: pymysql.connections.Connection, sql: str, *params: object) -> object:
    with conn.cursor() as cur:
        cur.execute(sql, params or None)
        row = cur.fetchone()
    assert row is not None
    return row[0]


@pytest.mark.mysql
@pytest.mark.parametrize("engine", ["MyISAM", "InnoDB"])
def test_the_mysql_writer_loads_the_demo(mysql_db, engine):
    write_mysql(mysql_db, SPEC, engine=engine)
    expected = Counter(name for name, _ in iter_rows(SPEC))
    expected["preference"] += 1
    with mysql_db.cursor() as cur:
        cur.execute("SELECT table_name, engine FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()")
        engines = dict(cur.fetchall())
    assert set(engines) == {t.name for t in tables_for(NEW)}
    assert set(engines.values()) == {engine}
    for name, n in expected.items():
        assert _mysql_scalar(mysql_db, f"SELECT COUNT(*) FROM `{name}`") == n, name
    assert _mysql_scalar(mysql_db, "SELECT ValueString FROM preference "
                                   "WHERE PrefName = 'DataBaseVersion'") == NEW
    assert _mysql_scalar(mysql_db, "SELECT COUNT(*) FROM patient WHERE LName = %s", "O'Hara") > 0
    # A few zero dates, as old Open Dental data has (the SQLite demo has none).
    assert _mysql_scalar(mysql_db, "SELECT COUNT(*) FROM procedurelog "
                                   "WHERE DateTP = '0000-00-00'") > 0
    # The writer leaves the session's sql_mode as it found it.
    assert _mysql_scalar(mysql_db, "SELECT @@SESSION.sql_mode") != ""
    # The same rows as the SQLite demo, zero dates aside.
    first = next(r for n, r in iter_rows(SPEC) if n == "claim")
    with mysql_db.cursor() as cur:
        cur.execute("SELECT ClaimNum, PatNum, ClaimStatus, ClaimFee, ClaimType FROM claim "
                    "WHERE ClaimNum = %s", (first[0],))
        assert cur.fetchone() == (first[0], first[1], first[4], first[8], first[15])


@pytest.mark.mysql
def test_mysql_bumps_the_timestamp_the_writer_set_in_the_past(mysql_db):
    write_mysql(mysql_db, PracticeSpec(patients=30, today=TODAY))
    before = _mysql_scalar(mysql_db, "SELECT DateTStamp FROM procedurelog WHERE ProcNum = 2")
    assert isinstance(before, datetime) and before.date() < TODAY
    with mysql_db.cursor() as cur:
        cur.execute("UPDATE procedurelog SET ProcFee = ProcFee + 1 WHERE ProcNum = 2")
    after = _mysql_scalar(mysql_db, "SELECT DateTStamp FROM procedurelog WHERE ProcNum = 2")
    assert after != before


def _mysql_params(sql: str) -> str:
    """Adapter SQL's :name parameters in pymysql's %(name)s style."""
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))


@pytest.mark.mysql
@pytest.mark.parametrize("version", [NEW, OLD])
def test_adapter_sql_runs_on_mariadb(mysql_db, version):
    write_mysql(mysql_db, SPEC, version=version)
    empty = []
    for sql_file in [f for v, f in ADAPTER_CASES if v == version]:
        with mysql_db.cursor() as cur:
            cur.execute(_mysql_params((ADAPTERS / sql_file).read_text()), PARAMS)
            if not cur.fetchall():
                empty.append(sql_file)
    assert not empty, f"no rows from {empty}"
