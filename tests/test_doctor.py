"""`tc-sync doctor`: what an IT person sees on a healthy install and on the usual mistakes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tc_sync.cli import main
from tc_sync.commands.diagnosis import (
    DISK_FAIL_BYTES,
    DISK_WARN_BYTES,
    clock_finding,
    disk_finding,
    extra_privileges,
    zone_finding,
)
from tc_sync.commands.doctor import _api_version_finding, outbox_findings
from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings, settings_from_mapping
from tc_sync.demo.practice import PracticeSpec, write_mysql, write_sqlite
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.run import sync_source

TODAY = date(2026, 11, 26)


@pytest.fixture
def pms(mysql_server, mysql_database) -> Iterator[dict[str, str]]:
    """The synthetic practice in MariaDB, with a read-only user and a user that can write."""
    connection = mysql_server.connect(mysql_database)
    write_mysql(connection, PracticeSpec(patients=20, today=TODAY))
    suffix = uuid.uuid4().hex[:8]
    users = {"reader": f"tc_ro_{suffix}", "writer": f"tc_rw_{suffix}"}
    grants = {"reader": "SELECT, SHOW VIEW", "writer": "SELECT, INSERT, UPDATE, DELETE"}
    with connection.cursor() as cursor:
        for role, user in users.items():
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-{suffix}'")
            cursor.execute(f"GRANT {grants[role]} ON `{mysql_database}`.* TO '{user}'@'%'")
    yield {**users, "password": f"pw-{suffix}", "database": mysql_database}
    with connection.cursor() as cursor:
        for user in users.values():
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    connection.close()


def write_config(tmp_path: Path, connection: dict[str, object],
                 ledger: Path | None = None) -> Path:
    path = tmp_path / "tc-sync.yaml"
    path.write_text(yaml.safe_dump({
        "timezone": "UTC",
        "ledger": {"url": f"sqlite:///{ledger or tmp_path / 'ledger.db'}"},
        "logging": {"file": str(tmp_path / "logs" / "tc-sync.log")},
        "sources": {"main": {"kind": "opendental", "connection": connection}},
    }), encoding="utf-8")
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config", str(config), "doctor"])
    return code, capsys.readouterr().out.splitlines()


def line(lines: list[str], area: str) -> str:
    (found,) = [text for text in lines if f"  {area}: " in text]
    return found


def connection_for(server, pms, role: str) -> dict[str, object]:
    return {"host": server.host, "port": server.port, "user": pms[role],
            "password": pms["password"], "database": pms["database"]}


@pytest.mark.mysql
def test_a_read_only_user_and_a_synced_ledger_pass(mysql_server, pms, tmp_path, capsys):
    connection = connection_for(mysql_server, pms, "reader")
    config = write_config(tmp_path, connection)
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    synced = sync_source(ledger, "main", SourceSettings(
        kind="opendental", connection=ConnectionSettings(**connection)), SyncSettings())
    assert synced.outcome == "ok"
    ledger.dispose()

    code, lines = doctor(config, capsys)
    assert code == 0, "\n".join(lines)
    assert not [text for text in lines if "FAIL" in text]
    assert line(lines, "main: connection").startswith("  ok    main: connection: Open Dental 24.3")
    assert line(lines, "main: read-only") == (
        f"  ok    main: read-only: the user {pms['reader']} can only read")
    assert line(lines, "main: clock").startswith("  ok ")
    assert "readable, schema" in line(lines, "ledger") and "(current)" in line(lines, "ledger")
    assert line(lines, "disk (ledger)").startswith("  ok ")
    assert line(lines, "main: last sync").startswith("  ok    main: last sync: synced")
    assert lines[-1].startswith("0 failed")


@pytest.mark.mysql
def test_a_user_that_can_write_is_a_warning_with_the_grant_to_use(mysql_server, pms, tmp_path,
                                                                   capsys):
    config = write_config(tmp_path, connection_for(mysql_server, pms, "writer"))
    code, lines = doctor(config, capsys)
    assert code == 0                               # warnings only: no ledger yet, a writer
    warning = line(lines, "main: read-only")
    assert warning.startswith("  WARN  ") and f"the user {pms['writer']} can do more" in warning
    assert f"INSERT on `{pms['database']}`.*" in warning
    assert "DELETE" in warning and "SELECT on" not in warning
    fix = lines[lines.index(warning) + 1]
    assert fix.strip().startswith("fix: ")
    assert f"GRANT SELECT, SHOW VIEW ON `{pms['database']}`.*" in fix
    assert "no ledger yet" in line(lines, "ledger")


@pytest.mark.mysql
def test_an_unreachable_server_and_a_damaged_ledger_fail(mysql_server, pms, tmp_path, capsys):
    ledger = tmp_path / "ledger.db"
    ledger.write_bytes(b"this is not a SQLite database, it was overwritten" * 200)
    config = write_config(tmp_path, {"host": "127.0.0.1", "port": 9, "user": pms["reader"],
                                     "database": pms["database"], "connect_timeout": 2},
                          ledger)
    code, lines = doctor(config, capsys)
    assert code == 1
    failed = line(lines, "main: connection")
    assert failed.startswith("  FAIL  ") and "cannot connect to MySQL at 127.0.0.1:9" in failed
    assert "fix: check host, port" in lines[lines.index(failed) + 1]
    damaged = line(lines, "ledger")
    assert damaged.startswith("  FAIL  ") and str(ledger) in damaged
    assert "full sync rebuilds it" in lines[lines.index(damaged) + 1]
    assert lines[-1].startswith("2 failed")


def test_a_broken_configuration_is_a_failed_check_naming_file_and_line(tmp_path, capsys):
    config = tmp_path / "tc-sync.yaml"
    config.write_text("sources:\n  main:\n    kind: opendentl\n", encoding="utf-8")
    code, lines = doctor(config, capsys)
    assert code == 2                      # a configuration problem, as for every command
    assert line(lines, "configuration").startswith(f"  FAIL  configuration: {config}:3:11")


def test_the_outbox_is_checked_only_when_the_ledger_has_one(tmp_path):
    bare = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with bare.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE sync_runs (run_id INTEGER PRIMARY KEY)")
    assert list(outbox_findings(bare)) == []
    bare.dispose()

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE outbox (action_id INTEGER PRIMARY KEY, status TEXT, "
            "next_attempt_at TIMESTAMP)")
        due = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
        for status in ("pending", "pending", "sent"):
            connection.exec_driver_sql(
                "INSERT INTO outbox (status, next_attempt_at) VALUES (?, ?)", (status, due))
    (finding,) = outbox_findings(engine)
    assert (finding.status, finding.summary) == ("ok", "2 action(s) waiting, none overdue")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET next_attempt_at = '2026-01-01 08:00:00'")
    (finding,) = outbox_findings(engine)
    assert finding.status == "warn" and "the oldest due since 2026-01-01 08:00" in finding.summary
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET status = 'dead' WHERE status = 'sent'")
    (finding,) = outbox_findings(engine)
    assert finding.status == "warn" and finding.summary.startswith("1 action(s) failed for good")
    assert "tc-sync outbox retry" in (finding.fix or "")
    engine.dispose()


@pytest.mark.parametrize(("grants", "extra"), [
    (["GRANT USAGE ON *.* TO `ro`@`%`", "GRANT SELECT, SHOW VIEW ON `od`.* TO `ro`@`%`"], []),
    (["GRANT SELECT (`PatNum`, `LName`), INSERT (`Note`) ON `od`.`patient` TO `u`@`%`"],
     ["INSERT on `od`.`patient`"]),
    (["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"],
     ["ALL PRIVILEGES on *.*", "GRANT OPTION on *.*"]),
    (["GRANT `reporting` TO `u`@`%`", "GRANT SELECT ON `od`.* TO `reporting`"], []),
    (["GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION"],
     ["PROXY on ''@'%'", "GRANT OPTION on ''@'%'"]),
])
def test_privileges_beyond_reading_are_found_in_show_grants(grants, extra):
    assert extra_privileges(grants) == extra


def test_clocks_more_than_a_minute_apart_are_a_warning():
    local = datetime(2026, 11, 26, 15, 0, 0)
    assert clock_finding("c", local + timedelta(seconds=40), local).status == "ok"
    late = clock_finding("c", local - timedelta(minutes=7), local)
    assert late.status == "warn" and late.summary.endswith("7 min behind this machine's")
    assert "timedatectl set-ntp true" in (late.fix or "")


def test_a_pms_server_in_another_time_zone_is_named():
    assert zone_finding("z", timedelta(hours=-6), timedelta(hours=-6), "America/Chicago") is None
    moved = zone_finding("z", timedelta(0), timedelta(hours=-6), "America/Chicago")
    assert moved is not None and "+6 h from America/Chicago" in moved.summary


def test_disk_space_below_the_thresholds_warns_then_fails():
    assert disk_finding("d", "/var", DISK_WARN_BYTES + 1, True).status == "ok"
    assert disk_finding("d", "/var", DISK_WARN_BYTES - 1, True).status == "warn"
    assert disk_finding("d", "/var", DISK_FAIL_BYTES - 1, True).status == "fail"
    assert disk_finding("d", "/var", DISK_WARN_BYTES * 10, False).status == "fail"


@pytest.mark.postgres
def test_a_postgresql_ledger_is_checked_by_connection_and_schema_revision(
        postgres_url, tmp_path, capsys):
    practice = tmp_path / "practice.db"
    write_sqlite(practice, PracticeSpec(patients=5, today=TODAY))
    config = tmp_path / "tc-sync.yaml"

    def write(url: str) -> None:
        config.write_text(yaml.safe_dump({
            "ledger": {"url": url}, "logging": {"file": str(tmp_path / "logs" / "x.log")},
            "sources": {"main": {"kind": "opendental", "connection": {
                "driver": "sqlite", "path": str(practice)}}}}), encoding="utf-8")

    write(postgres_url)                          # a database with no tables yet
    code, lines = doctor(config, capsys)
    assert code == 0
    assert line(lines, "ledger") == "  WARN  ledger: PostgreSQL: empty (no tables yet)"
    open_ledger(postgres_url).dispose()          # what tc-sync does when it starts
    code, lines = doctor(config, capsys)
    assert line(lines, "ledger").startswith("  ok    ledger: PostgreSQL: readable, schema")
    assert not [text for text in lines if "disk (ledger)" in text]   # no ledger folder here
    write(postgres_url.rsplit("/", 1)[0] + "/tc_no_such_database")
    code, lines = doctor(config, capsys)
    assert code == 1
    assert line(lines, "ledger").startswith("  FAIL  ledger: PostgreSQL cannot be read")


def test_an_open_dental_older_than_the_task_api_fails_when_tasks_go_through_the_api():
    settings = settings_from_mapping({
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": "od-server", "user": "tc_sync_ro", "database": "opendental"}}},
        "push": {"targets": {"od-api": {
            "kind": "opendental_api", "source": "main", "base_url": "http://od-server:30223/api/v1",
            "developer_key": "d", "customer_key": "c"}}}}, label="test.yaml")
    old = _api_version_finding(settings, "main", "22.3.20.0")
    assert old is not None and old.status == "fail" and "22.4.15" in old.summary
    assert _api_version_finding(settings, "main", "24.1.5.0") is None
