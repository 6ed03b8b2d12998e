"""The daemon's logs: JSON lines in a rotating file, readable lines on the console, no PHI."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pymysql
import pytest
import structlog

from tc_sync.config import ConfigError, load_settings, settings_from_mapping
from tc_sync.config.observability import LoggingSettings
from tc_sync.observability import logs
from tc_sync.observability.redact import REDACTED

from . import observed

log = structlog.get_logger("tc_sync.tests")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    yield
    observed.reset()


@pytest.fixture
def log_folder(tmp_path: Path) -> Path:
    logs.configure(0)
    logs.log_to_file(tmp_path / "tc-sync.log", LoggingSettings())
    return tmp_path


def test_known_keys_keep_their_values_and_any_other_key_is_redacted(log_folder):
    log.info("sync_finished", source="main", run_id=7, rows=1200, outcome="ok",
             error_class="OperationalError", patient="Vera Pennington", phone="(555)555-0139")
    (event,) = observed.json_lines(log_folder)
    assert event["event"] == "sync_finished" and event["level"] == "info"
    assert (event["source"], event["run_id"], event["rows"], event["outcome"]) == (
        "main", 7, 1200, "ok")
    assert event["error_class"] == "OperationalError"
    assert event["patient"] == REDACTED and event["phone"] == REDACTED
    assert "Pennington" not in observed.log_text(log_folder)


def test_an_event_written_as_a_sentence_is_redacted_whole(log_folder):
    log.warning("could not reach Vera Pennington at (555)555-0139", source="main")
    (event,) = observed.json_lines(log_folder)
    assert event["event"] == REDACTED and event["source"] == "main"


def test_nested_values_follow_the_same_allowlist(log_folder):
    log.info("reconciled", source="main", streams=["patients", "claims"],
             detail={"count": 3, "note": "call Vera about her crown"})
    (event,) = observed.json_lines(log_folder)
    assert event["streams"] == ["patients", "claims"]
    assert event["detail"] == REDACTED          # an unknown key: not even walked into


def test_the_counts_a_reconcile_and_a_queue_build_log_are_kept(log_folder):
    log.info("reconciled", source="main", patients=3, planned=6, resolved=2)
    log.info("queues_built", patients_read=3, read_all=False, quiet=False, files=6)
    reconciled, built = observed.json_lines(log_folder)
    assert (reconciled["planned"], reconciled["resolved"]) == (6, 2)
    assert (built["patients_read"], built["read_all"], built["quiet"]) == (3, False, False)


def test_a_library_message_is_kept_as_its_template_without_its_arguments(log_folder):
    logging.getLogger("apscheduler.executors").warning(
        "Run time of job %s was missed by %s", "Vera Pennington", "0:00:03")
    (event,) = observed.json_lines(log_folder)
    assert event["event"] == "Run time of job … was missed by …"
    assert event["logger"] == "apscheduler.executors"


def test_each_http_request_of_a_push_is_not_a_line_of_the_log(log_folder):
    # httpx logs every request at info: with a task per item, it drowned the daemon's events.
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        httpx.get(f"http://127.0.0.1:{server.server_port}/tasks", timeout=5)
    finally:
        thread.join(5)
        server.server_close()
    assert observed.json_lines(log_folder) == []


def _insert_patient(row: dict[str, str]) -> None:
    patient_name = row["name"]  # a local the traceback must not show
    raise pymysql.err.IntegrityError(
        1062, f"Duplicate entry '{patient_name}' for key 'PRIMARY'")


def test_an_exception_is_written_as_class_code_and_places_never_message_or_locals(
        log_folder, capsys):
    try:
        try:
            _insert_patient({"name": "Vera Pennington"})
        except pymysql.err.IntegrityError as error:
            raise RuntimeError("while saving Vera Pennington") from error
    except RuntimeError:
        log.exception("job_failed", source="main", error_class="RuntimeError")
    (event,) = observed.json_lines(log_folder)
    cause, effect = event["exception"]["chain"]
    assert cause["error_class"] == "pymysql.err.IntegrityError"
    assert cause["error_code"] == 1062
    assert any(frame.endswith("in _insert_patient") for frame in cause["frames"])
    assert effect["error_class"] == "RuntimeError" and effect["error_code"] is None
    console = capsys.readouterr().err
    assert "job_failed" in console and "pymysql.err.IntegrityError (1062)" in console
    assert "_insert_patient" in console
    for text in (observed.log_text(log_folder), console):
        assert "Pennington" not in text and "patient_name" not in text


def test_the_file_rotates_by_size_and_keeps_the_configured_number_of_files(tmp_path):
    logs.configure(0)
    logs.log_to_file(tmp_path / "tc-sync.log",
                     LoggingSettings(max_bytes=64 * 1024, backups=2))
    for run_id in range(3000):
        log.info("sync_finished", source="main", run_id=run_id, rows=run_id * 10)
    names = sorted(path.name for path in tmp_path.glob("tc-sync.log*"))
    assert names == ["tc-sync.log", "tc-sync.log.1", "tc-sync.log.2"]
    assert all(path.stat().st_size <= 64 * 1024 for path in tmp_path.glob("tc-sync.log*"))
    newest = observed.json_lines(tmp_path)
    assert max(event["run_id"] for event in newest) == 2999   # the newest lines are kept


def test_the_console_shows_warnings_by_default_and_the_file_info(log_folder, capsys):
    log.info("sync_started", source="main")
    log.warning("rows_quarantined", source="main", count=2)
    console = capsys.readouterr().err
    assert "rows_quarantined" in console and "sync_started" not in console
    assert [event["event"] for event in observed.json_lines(log_folder)] == [
        "sync_started", "rows_quarantined"]


def test_the_log_file_defaults_to_a_logs_folder_beside_a_sqlite_ledger(tmp_path, monkeypatch):
    monkeypatch.delenv("LOGS_DIRECTORY", raising=False)
    settings = settings_from_mapping({"ledger": {"url": f"sqlite:///{tmp_path}/l/ledger.db"}})
    assert logs.default_log_file(settings) == tmp_path / "l" / "logs" / "tc-sync.log"
    monkeypatch.setenv("LOGS_DIRECTORY", str(tmp_path / "var-log"))   # systemd LogsDirectory=
    assert logs.default_log_file(settings) == tmp_path / "var-log" / "tc-sync.log"
    chosen = settings_from_mapping({"logging": {"file": str(tmp_path / "x.log")}})
    assert logs.default_log_file(chosen) == tmp_path / "x.log"


def test_the_logging_section_is_checked_with_file_and_line(tmp_path):
    path = tmp_path / "tc-sync.yaml"
    path.write_text("logging:\n  level: chatty\n  backups: 5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"{path}:2:10: logging.level:" in str(caught.value)
    path.write_text("logging:\n  max_bytes: 1048576\n  backups: 3\nhttp:\n  port: 9500\n",
                    encoding="utf-8")
    settings = load_settings(path)
    assert (settings.logging.max_bytes, settings.logging.backups, settings.http.port) == (
        1048576, 3, 9500)
    assert settings.http.host == "127.0.0.1" and settings.sentry.dsn is None
