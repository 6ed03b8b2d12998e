"""What a new user meets first: a digest to preview without email, reports that say when
tracking began, that put a sentence where a chart would be empty, that name categories in a
coordinator's words and refuse a period not yet over; the status port and PMS host problems in
one sentence. Real SQLite practice and ledger, a real socket; no mocks."""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from tc_sync.cli import main
from tc_sync.commands.demo import items_summary, run_demo
from tc_sync.config import ConnectionSettings, settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.drivers.base import DriverError
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import sync_runs
from tc_sync.runtime.daemon import Daemon


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    assert run_demo(folder) == 0
    return folder


def test_digest_print_previews_the_whole_practice_without_an_email_target(demo, capsys):
    assert main(["--config", str(demo / "tc-sync.yaml"), "digest", "--print"]) == 0
    out = capsys.readouterr().out
    assert "(a preview: nobody receives this yet" in out
    assert "To: (nobody yet)" in out and "Subject: tc-sync daily digest, demo-practice" in out
    assert " open" in out


def test_the_first_sync_of_a_practice_is_recorded_as_a_full_sync(demo):
    # It reads every row, as the log already said; the run history said "incremental".
    engine = sa.create_engine(f"sqlite:///{demo / 'ledger.db'}")
    with engine.connect() as connection:
        first = connection.execute(sa.select(sync_runs.c.mode).order_by(sync_runs.c.run_id)
                                   ).scalars().first()
    engine.dispose()
    assert first == "full"


def test_the_demo_counts_open_items_in_a_coordinators_words_and_no_dollars_for_referrals(demo):
    engine = sa.create_engine(f"sqlite:///{demo / 'ledger.db'}")
    lines = {line.split("  ")[0]: line for line in items_summary(engine, "demo")}
    engine.dispose()
    assert "Unscheduled treatment" in lines and "unscheduled_treatment" not in "".join(lines)
    assert "$" in lines["Unscheduled treatment"]
    assert "$" not in lines["Referral: no outcome"]     # a referral has no amount, not $0.00


def test_a_report_for_a_period_not_yet_ended_is_refused_with_exit_2(demo, capsys):
    this_month = date.today().strftime("%Y-%m")
    code = main(["--config", str(demo / "tc-sync.yaml"), "report", "monthly", "--period",
                 this_month, "--folder", str(demo / "reports")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("tc-sync: ") and "has not ended yet" in err and "\n" not in err
    assert not (demo / "reports").exists()


def test_a_report_says_when_tracking_began_and_uses_the_coordinators_words(demo, capsys):
    last_week = (date.today() - timedelta(days=7)).isoformat()
    assert main(["--config", str(demo / "tc-sync.yaml"), "report", "weekly", "--period",
                 last_week, "--folder", str(demo / "reports")]) == 0
    page = next((demo / "reports").glob("report-*.html")).read_text("utf-8")
    assert f"Tracking began on {date.today()}" in page
    assert "items opened and resolved before that day are not counted" in page
    assert "oral_surgery" not in page and "prosthodontics_fixed" not in page
    assert ("Oral surgery" in page or "Fixed prosthodontics" in page
            or "Restorative" in page)


def test_an_empty_chart_is_a_sentence_and_a_new_ledger_says_tracking_has_not_begun(tmp_path,
                                                                                  capsys):
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"ledger: {{url: 'sqlite:///{tmp_path / 'ledger.db'}'}}\n")
    assert main(["--config", str(config), "report", "monthly", "--folder",
                 str(tmp_path / "out")]) == 0
    page = next((tmp_path / "out").glob("report-*.html")).read_text("utf-8")
    assert "Items per queue and owner: nothing to show for this period." in page
    assert '<figure id="chart-item_flow"' not in page
    assert "tc-sync has not recorded any item yet" in page


def test_a_busy_status_port_is_named_in_the_log(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    settings = settings_from_mapping({
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "http": {"port": port}}, label="test")
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper())
    try:
        with capture_logs() as logs:
            daemon._start_status_server()
    finally:
        holder.close()
        daemon.engine.dispose()
    [event] = [e for e in logs if e["event"] == "http_unavailable"]
    assert event["reason"].startswith(f"port {port} is in use: another program")
    assert daemon.status_server is None


def test_an_unresolvable_pms_host_says_so_at_once():
    from tc_sync.drivers.mysql import MysqlDriver

    started = time.monotonic()
    with pytest.raises(DriverError) as raised:
        MysqlDriver(ConnectionSettings(host="no-such-host.invalid", user="tc", database="od",
                                       retries=3))
    assert time.monotonic() - started < 5
    assert str(raised.value).startswith("cannot resolve host 'no-such-host.invalid'")
