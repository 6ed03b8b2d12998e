"""No patient's name, phone, e-mail or birthdate leaves the ledger through logs, Sentry or metrics.

The synthetic practice is loaded into MariaDB and the daemon's own job runs against it through
a TCP proxy, with a failure forced at every stage: a bad row quarantined, the connection lost
mid-pull, a MySQL error that quotes a patient's name, a ledger write error whose SQL parameters
are a patient's row, and an exception in reconcile whose message and locals hold PHI. The
JSON log files, the console, /metrics, /healthz and every envelope a stand-in Sentry server
received (tests/sentry_standin.py: a real HTTP server, not Sentry) are then searched for each
patient string.
"""

from __future__ import annotations

import sqlite3
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.drivers.mysql import MysqlDriver
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.replica import ReplicaWriter
from tc_sync.ledger.schema import quarantine
from tc_sync.observability import logs
from tc_sync.observability.sentry import init_sentry
from tc_sync.runtime.daemon import Daemon

from . import observed
from .sentry_standin import SentryStandIn
from .tcp_proxy import TcpProxy

pytestmark = [pytest.mark.mysql, pytest.mark.reliability(
    "PHI: seeded patient data in logs, console, metrics, Sentry envelopes",
    figure="tests; every stage forced to fail; no seeded string found")]

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _fresh_observability() -> Iterator[None]:
    yield
    observed.reset()


@pytest.fixture
def standin() -> Iterator[SentryStandIn]:
    server = SentryStandIn()
    yield server
    server.close()


def patient_strings(connection: Any, count: int = 8) -> tuple[list[dict[str, Any]], list[str]]:
    """Some of the synthetic patients, and every form their PHI could be written in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT PatNum, FName, LName, HmPhone, WirelessPhone, Email, Birthdate FROM patient "
            "WHERE CHAR_LENGTH(LName) >= 7 AND CHAR_LENGTH(FName) >= 5 AND WirelessPhone <> '' "
            "ORDER BY PatNum LIMIT %s", (count,))
        rows = cursor.fetchall()
    patients = [dict(zip(("id", "first", "last", "home", "mobile", "email", "born"), row,
                         strict=True)) for row in rows]
    strings: set[str] = set()
    for patient in patients:
        born: date = patient["born"]
        strings |= {f"{patient['first']} {patient['last']}", patient["last"], patient["first"],
                    born.isoformat(), f"{born.year}, {born.month}, {born.day}",
                    patient["mobile"], "".join(filter(str.isdigit, patient["mobile"]))}
        if patient["home"]:
            strings.add(patient["home"])
        if patient["email"]:
            strings.add(patient["email"])
    return patients, sorted(strings)


def found(strings: list[str], text: str) -> list[str]:
    return [value for value in strings if value in text]


def daemon_settings(tmp_path: Path, server: Any, database: str, port: int,
                    dsn: str) -> Settings:
    return settings_from_mapping({
        "site_id": "phi-scan",
        "timezone": "America/Chicago",
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "logging": {"file": str(tmp_path / "logs" / "tc-sync.log"), "level": "debug"},
        "http": {"port": 0},
        "sentry": {"dsn": dsn, "environment": "test"},
        "sync": {"batch_size": 50, "window_keys": 1000, "safety_lag_seconds": 0},
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": "127.0.0.1", "port": port, "user": server.user,
            "password": server.password or None, "database": database, "retries": 1,
            "retry_max_wait": 0.1}}},
    })


def get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        return str(error.read().decode())


def test_no_patient_data_in_log_files_console_metrics_or_sentry_when_every_stage_fails(
        mysql_server, mysql_database, tmp_path, standin, monkeypatch, capsys):
    pms = mysql_server.connect(mysql_database)
    write_mysql(pms, PracticeSpec(patients=60, today=TODAY))
    patients, phi = patient_strings(pms)
    victim = patients[0]
    with pms.cursor() as cursor:      # an unknown status code: the row goes to quarantine
        cursor.execute("UPDATE patient SET PatStatus = 99 WHERE PatNum = %s", (victim["id"],))
    proxy = TcpProxy(mysql_server.host, mysql_server.port)
    settings = daemon_settings(tmp_path, mysql_server, mysql_database, proxy.port, standin.dsn)
    logs.configure(1)
    logs.log_to_file(tmp_path / "logs" / "tc-sync.log", settings.logging)
    assert init_sentry(settings)
    engine = open_ledger(settings.ledger.url)
    daemon = Daemon(engine, settings, MappingsKeeper())
    daemon._start_status_server()
    assert daemon.status_server is not None
    name, phone, born = (f"{victim['first']} {victim['last']}", victim["mobile"],
                         victim["born"].isoformat())

    # 1. The first sync: everything read, the bad row quarantined.
    daemon.run_job("main", False)

    # 2. The connection is lost in the middle of a pull.
    with monkeypatch.context() as patch:
        original, calls = MysqlDriver._execute, iter(range(1_000_000))

        def cut_after_a_few(self, sql, params):
            if next(calls) == 4:
                proxy.cut()
            return original(self, sql, params)

        patch.setattr(MysqlDriver, "_execute", cut_after_a_few)
        daemon.run_job("main", True)
    proxy.restore()

    # 3. MySQL answers with an error that quotes a patient's name.
    with monkeypatch.context() as patch:
        original = MysqlDriver._execute

        def quoting(self, sql, params):
            if "FROM patient p" in sql:
                raise self._module.DataError(
                    1366, f"Incorrect string value: '{name}' for column 'LName' at row 1")
            return original(self, sql, params)

        patch.setattr(MysqlDriver, "_execute", quoting)
        daemon.run_job("main", True)

    # 4. The ledger refuses a write; the error carries the statement's parameters.
    ledger_error = sa.exc.IntegrityError(
        "INSERT INTO patients (last_name, mobile_phone, birthdate) VALUES (?, ?, ?)",
        (victim["last"], phone, born),
        sqlite3.IntegrityError(f"UNIQUE constraint failed: {name} {phone}"))
    assert found(phi, str(ledger_error)), "the forced error must carry PHI to be a real test"
    with monkeypatch.context() as patch:
        def refuse(*args, **kwargs):
            raise ledger_error

        patch.setattr(ReplicaWriter, "apply", refuse)
        daemon.run_job("main", True)

    # 5. Reconcile fails with PHI in its message and in its local variables.
    with monkeypatch.context() as patch:
        def failing_reconcile(*args, **kwargs):
            patient = {"name": name, "phone": phone, "birthdate": victim["born"]}
            raise ValueError(f"cannot evaluate {patient['name']} born {patient['birthdate']}")

        patch.setattr("tc_sync.cycle.reconcile_source", failing_reconcile)
        daemon.run_job("main", False)

    daemon.check_health()
    base = f"http://127.0.0.1:{daemon.status_server.port}"
    metrics, healthz = get(f"{base}/metrics"), get(f"{base}/healthz")
    daemon.status_server.stop()
    observed.reset()                  # flushes Sentry, closes the log file
    proxy.close()

    # Each failure really happened and was reported: the scan below reads real output.
    events = observed.json_lines(tmp_path / "logs")
    names = [event["event"] for event in events]
    assert "rows_quarantined" in names and "stream_failed" in names
    failures = [event for event in events if event["event"] == "job_failed"]
    classes = [[link["error_class"] for link in event["exception"]["chain"]]
               for event in failures]
    assert any("sqlalchemy.exc.IntegrityError" in chain for chain in classes)
    assert any("ValueError" in chain for chain in classes)
    with engine.connect() as connection:   # the ledger keeps the bad row, for staff only
        held = connection.execute(sa.select(quarantine.c.row_data).where(
            quarantine.c.pms_id == victim["id"])).scalar_one()
    assert victim["last"] in held
    engine.dispose()

    sentry_events = standin.items("event")
    exception_types = {value["type"] for event in sentry_events
                       for value in event.get("exception", {}).get("values", [])}
    assert {"IntegrityError", "ValueError"} <= exception_types
    assert any(event.get("message") == "stream_failed" for event in sentry_events)
    assert all("vars" not in frame for event in sentry_events
               for value in event.get("exception", {}).get("values", [])
               for frame in value.get("stacktrace", {}).get("frames", []))
    check_ins = standin.items("check_in")
    assert {check["status"] for check in check_ins} == {"in_progress", "ok", "error"}
    assert {check["monitor_slug"] for check in check_ins} == {
        "tc-sync-phi-scan-main-cycle", "tc-sync-phi-scan-main-sweep"}
    assert all(event.get("server_name") == "phi-scan" for event in sentry_events)

    assert "tc_sync_rows_quarantined_total" in metrics and '"sources"' in healthz
    console = capsys.readouterr().err
    assert "job_failed" in console
    for where, text in [("log files", observed.log_text(tmp_path / "logs")),
                        ("console", console), ("Sentry", standin.raw_text()),
                        ("/metrics", metrics), ("/healthz", healthz)]:
        assert found(phi, text) == [], f"patient data in the {where}"
