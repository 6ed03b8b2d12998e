"""Sentry: what an event is reduced to before it leaves, and the cron monitors per source/job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk

from tc_sync.config import settings_from_mapping
from tc_sync.observability import logs
from tc_sync.observability.redact import REDACTED
from tc_sync.observability.sentry import (
    CheckIn,
    init_sentry,
    monitor_config,
    monitor_slug,
    scrub_breadcrumb,
    scrub_event,
)

from . import observed
from .sentry_standin import SentryStandIn


@pytest.fixture(autouse=True)
def _fresh_observability() -> Iterator[None]:
    yield
    observed.reset()


def _settings(**sentry: object):  # type: ignore[no-untyped-def]
    return settings_from_mapping({
        "site_id": "Smile-Dental.North", "timezone": "America/Chicago",
        "sentry": sentry,
        "sources": {"main": {"kind": "opendental", "schedule": {
            "interval_seconds": 90, "full_sweep_at": "02:30"}}},
    })


def test_monitor_slugs_name_site_source_and_job_in_sentry_s_alphabet():
    assert monitor_slug("Smile-Dental.North", "main", "cycle") == (
        "tc-sync-smile-dental-north-main-cycle")
    long = monitor_slug("a-very-long-site-name-for-a-dental-group", "downtown-annex", "sweep")
    assert len(long) == 50 and long.startswith("tc-sync-a-very-long-site-name")
    assert long != monitor_slug("a-very-long-site-name-for-a-dental-group", "downtown-anne",
                                "sweep")


def test_monitor_schedules_follow_the_daemon_s_schedule_in_the_practice_s_zone():
    settings = _settings(dsn="http://k@127.0.0.1:9/1", checkin_margin_minutes=7)
    cycle = monitor_config(settings, "main", "cycle")
    assert cycle["schedule"] == {"type": "interval", "value": 2, "unit": "minute"}
    assert (cycle["timezone"], cycle["checkin_margin"]) == ("America/Chicago", 7)
    sweep = monitor_config(settings, "main", "sweep")
    assert sweep["schedule"] == {"type": "crontab", "value": "30 2 * * *"}


def test_an_event_keeps_classes_codes_and_places_and_loses_everything_else():
    event = {
        "message": "Duplicate entry 'Vera Pennington'",
        "logentry": {"message": "called %s", "params": ["(555)555-0139"]},
        "exception": {"values": [{"type": "IntegrityError", "value": "Duplicate 'Vera'",
                                  "stacktrace": {"frames": [{
                                      "filename": "sync.py", "function": "pull", "lineno": 9,
                                      "vars": {"row": "Vera Pennington"},
                                      "context_line": "name = row['name']"}]}}]},
        "breadcrumbs": {"values": [{"category": "query", "message": "SELECT * WHERE n='Vera'",
                                    "data": {"db.params": ["Vera"], "rows": 3}}]},
        "extra": {"source": "main", "patient": "Vera Pennington"},
        "tags": {"site": "x", "name": "Vera"},
        "request": {"data": "Vera"}, "user": {"email": "vera@example.com"},
        "contexts": {"runtime": {"name": "CPython"}, "state": {"row": "Vera"}},
    }

    class IntegrityError(Exception):
        pass

    error = IntegrityError(1062, "Duplicate entry 'Vera Pennington'")
    scrubbed = scrub_event(event, {"exc_info": (IntegrityError, error, None)})
    text = repr(scrubbed)
    assert "Vera" not in text and "555" not in text
    (value,) = scrubbed["exception"]["values"]
    assert value["type"] == "IntegrityError" and value["value"] == f"(1062) {REDACTED}"
    assert value["stacktrace"]["frames"] == [
        {"filename": "sync.py", "function": "pull", "lineno": 9}]
    assert scrubbed["breadcrumbs"]["values"][0]["data"] == {"db.params": REDACTED, "rows": 3}
    assert scrubbed["extra"] == {"source": "main", "patient": REDACTED}
    assert "request" not in scrubbed and "user" not in scrubbed
    assert scrubbed["contexts"] == {"runtime": {"name": "CPython"}}


def test_a_breadcrumb_keeps_an_event_name_but_not_a_sentence():
    assert scrub_breadcrumb({"message": "sync_started", "level": "info"}, {}) == {
        "message": "sync_started", "level": "info"}
    assert scrub_breadcrumb({"message": "GET /patients/Vera"}, {})["message"] == REDACTED


def test_without_a_dsn_nothing_starts_and_check_ins_do_nothing():
    settings = _settings()
    assert init_sentry(settings) is False
    assert not sentry_sdk.get_client().is_active()
    check_in = CheckIn(settings, "main", "cycle")
    assert check_in.enabled is False
    check_in.started()
    check_in.finished(ok=True, seconds=1.0)


def test_sentry_is_started_with_privacy_settings_and_the_site_as_server_name():
    standin = SentryStandIn()
    try:
        settings = _settings(dsn=standin.dsn, environment="staging")
        logs.configure(0)
        assert init_sentry(settings) is True
        options = sentry_sdk.get_client().options
        assert options["include_local_variables"] is False
        assert options["max_request_body_size"] == "never"
        assert options["server_name"] == "Smile-Dental.North"
        assert options["release"].startswith("tc-sync@")
        if options.get("data_collection"):        # SDK releases that deprecate the flag
            assert options["data_collection"]["user_info"] is False
            assert options["data_collection"]["stack_frame_variables"] is False
        else:
            assert options["send_default_pii"] is False
        check_in = CheckIn(settings, "main", "sweep")
        check_in.started()
        check_in.finished(ok=False, seconds=3.5)
        sentry_sdk.flush(timeout=5)
        started, finished = standin.items("check_in")
        assert started["status"] == "in_progress" and finished["status"] == "error"
        assert finished["check_in_id"] == started["check_in_id"]
        assert finished["monitor_config"]["schedule"]["value"] == "30 2 * * *"
        assert finished["duration"] == 3.5 and finished["environment"] == "staging"
        assert standin.paths[0] == "/api/1/envelope/"
    finally:
        observed.reset()
        standin.close()
