"""The command line as a user meets it: demo, check, sync and status."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest


def tc_sync(*arguments: str, cwd: Path | None = None, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "tc_sync", *arguments], capture_output=True,
                          text=True, check=False, cwd=cwd, env=env)


def test_the_demo_builds_a_practice_syncs_it_and_says_what_it_found(tmp_path):
    first = tc_sync("demo", "--dir", str(tmp_path / "demo"))
    assert first.returncode == 0, first.stderr
    assert "built now" in first.stdout
    assert "demo: ok" in first.stdout
    assert "planned procedures:" in first.stdout
    assert "predeterminations:" in first.stdout
    assert (tmp_path / "demo" / "ledger.db").exists()
    again = tc_sync("demo", "--dir", str(tmp_path / "demo"))
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout
    for stream in ("patients", "procedures", "appointments", "claims"):
        assert re.search(rf"^  {stream} +incremental read +0  new", again.stdout, re.M)


def practice_config(tmp_path: Path, mysql_server, mysql_database: str
                    ) -> tuple[Path, dict[str, str]]:
    """A configuration for the practice database (its password a secret), and the command's
    environment."""
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"""\
site_id: test-site
ledger:
  url: sqlite:///{tmp_path / 'ledger.db'}
sources:
  main:
    kind: opendental
    connection:
      host: {mysql_server.host}
      port: {mysql_server.port}
      user: {mysql_server.user}
      password: secret:od_password
      database: {mysql_database}
      retries: 0
""")
    return config, {"TC_SYNC_SECRET_OD_PASSWORD": mysql_server.password,
                    "PATH": "/usr/bin:/bin"}


@pytest.mark.mysql
def test_check_sync_and_status_against_a_practice_database(tmp_path, mysql_server,
                                                          mysql_database):
    from tc_sync.demo.practice import PracticeSpec, write_mysql

    with mysql_server.connect(mysql_database) as connection:
        write_mysql(connection, PracticeSpec())
    config, env = practice_config(tmp_path, mysql_server, mysql_database)
    checked = tc_sync("--config", str(config), "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "main: Open Dental 24.3.10.0 via mysql" in checked.stdout
    assert "procedurelog" in checked.stdout
    assert "change hints      readable: changes show within about 15 s" in checked.stdout
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE securitylog TO securitylog_away")
    unreadable = tc_sync("--config", str(config), "check", env=env)
    assert unreadable.returncode == 0, unreadable.stdout     # a warning: the scans still work
    assert "change hints      WARNING" in unreadable.stdout
    assert "schedule.hint_seconds: 0" in unreadable.stdout
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE securitylog_away TO securitylog")
    never = tc_sync("--config", str(config), "status", env=env)
    assert never.returncode == 1 and "main: never synced" in never.stdout
    synced = tc_sync("--config", str(config), "sync", "--once", env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "main: ok (run 1, Open Dental 24.3.10.0)" in synced.stdout
    status = tc_sync("--config", str(config), "status", env=env)
    assert status.returncode == 0
    assert "main: last run 1 ok" in status.stdout
    assert "quarantined; Open Dental 24.3.10.0" in status.stdout
    assert "rows in quarantine: 0" in status.stdout


def test_check_says_what_is_wrong_when_the_pms_cannot_be_reached(tmp_path):
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"""\
ledger:
  url: sqlite:///{tmp_path / 'ledger.db'}
sources:
  main:
    kind: opendental
    connection: {{host: 127.0.0.1, port: 1, connect_timeout: 2}}
""")
    checked = tc_sync("--config", str(config), "check")
    assert checked.returncode == 1
    assert "main: PROBLEM: cannot connect to MySQL at 127.0.0.1:1" in checked.stdout
    assert "fix:" in checked.stdout
    assert "Traceback" not in checked.stderr


def test_sync_and_status_call_the_pms_by_its_adapters_title(tmp_path):
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"""\
ledger:
  url: sqlite:///{tmp_path / 'ledger.db'}
sources:
  main:
    kind: dentrix
    connection: {{driver: odbc, odbc: {{dsn: TC_SYNC_NO_SUCH_DSN}}, retries: 0}}
""")
    synced = tc_sync("--config", str(config), "sync")
    assert synced.returncode == 1
    assert "main: failed (run 1, Dentrix version unknown)" in synced.stdout
    assert "Open Dental" not in synced.stdout
    status = tc_sync("--config", str(config), "status")
    assert status.returncode == 1
    assert "main: last run 1 failed" in status.stdout and "quarantined; Dentrix ?" in status.stdout


def test_without_a_configuration_the_command_says_how_to_give_one(tmp_path):
    done = tc_sync("status", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "pass --config FILE or set TC_SYNC_CONFIG" in done.stderr


def test_a_coordinator_lists_snoozes_assigns_and_reads_an_items_history(tmp_path):
    folder = tmp_path / "demo"
    assert tc_sync("demo", "--dir", str(folder)).returncode == 0
    (folder / "mappings.yaml").write_text("owners:\n  dana: {queues: [insurance]}\n")
    with (folder / "tc-sync.yaml").open("a") as settings:
        settings.write(f"mappings_file: {folder / 'mappings.yaml'}\n")
    config = str(folder / "tc-sync.yaml")
    listed = tc_sync("--config", config, "items", "list", "--kind", "claim_outstanding")
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()[1:-1]
    assert rows and all(row.startswith("claim_outstanding:demo:") for row in rows)
    key = rows[0].split()[0]
    too_late = tc_sync("--config", config, "items", "snooze", key, "--until", "2099-01-31")
    assert too_late.returncode == 2 and "a year ahead" in too_late.stderr
    until = (date.today() + timedelta(days=40)).isoformat()
    snoozed = tc_sync("--config", config, "items", "snooze", key, "--until", until)
    assert snoozed.returncode == 0 and "its next follow-up is" in snoozed.stdout
    stranger = tc_sync("--config", config, "items", "assign", key, "zed")
    assert stranger.returncode == 2 and "owners: dana" in stranger.stderr
    assigned = tc_sync("--config", config, "items", "assign", key, "dana")
    assert assigned.returncode == 0 and "assigned to dana" in assigned.stdout
    assert tc_sync("demo", "--dir", str(folder)).returncode == 0      # a cycle keeps both
    shown = tc_sync("--config", config, "items", "show", key)
    assert f"next_follow_up: {until}" in shown.stdout
    assert "owner: dana" in shown.stdout
    history = shown.stdout.split("history:")[1]
    assert [line.split()[3] for line in history.strip().splitlines()] == [
        "opened", "snoozed", "assigned"]
    missing = tc_sync("--config", config, "items", "show", "claim_outstanding:demo:0")
    assert missing.returncode == 1 and "no item" in missing.stderr


def test_a_ledger_that_cannot_be_created_is_one_clear_line_not_a_traceback(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"ledger:\n  url: sqlite:///{blocker / 'ledger.db'}\n"
                      "sources:\n  main: {kind: opendental}\n")
    done = tc_sync("--config", str(config), "status")
    assert done.returncode == 1
    assert "cannot create the ledger file" in done.stderr
    assert "Traceback" not in done.stderr


def test_status_says_how_far_a_running_sync_has_got_and_is_not_a_failure(tmp_path):
    from tc_sync.ledger.db import open_ledger
    from tc_sync.ledger.schema import sync_runs
    from tc_sync.ledger.state import now_utc, start_run
    from tc_sync.pull.cursor_store import save_cursor
    from tc_sync.pull.cursors import Cursor, Pull

    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"ledger:\n  url: sqlite:///{tmp_path / 'ledger.db'}\n"
                      "sources:\n  main: {kind: opendental}\n")
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")

    def pulling(mode: str, done: list[str], stream: str, after: int, until: int) -> int:
        with engine.begin() as connection:
            run = start_run(connection, "main", mode)
            for name in done:
                save_cursor(connection, "main", name, Cursor(since=now_utc()))
            save_cursor(connection, "main", stream, Cursor(pull=Pull(
                mode="full", since=None, started_at=now_utc(), after_key=after,
                until_key=until)))
        return run

    first = pulling("full", ["patients", "procedure_codes"], "procedures", 420, 1000)
    during_first = tc_sync("--config", str(config), "status")
    assert during_first.returncode == 0, during_first.stdout      # /healthz says "starting"
    assert (f"main: first sync running: run {first} (full), started "
            in during_first.stdout)
    assert ("2 streams pulled so far, now procedures 42% through its keys"
            in during_first.stdout)
    assert "last successful sync: never" in during_first.stdout
    with engine.begin() as connection:
        connection.execute(sync_runs.update().where(sync_runs.c.run_id == first).values(
            outcome="ok", finished_at=now_utc(), rows_read=5000, pms_version="24.3.10.0"))
    second = pulling("incremental", ["patients"], "claims", 3, 4)
    during_second = tc_sync("--config", str(config), "status")
    assert during_second.returncode == 0, during_second.stdout
    assert f"main: last run {first} ok" in during_second.stdout        # not the running one
    assert "5,000 rows read" in during_second.stdout and "Open Dental 24.3.10.0" in \
        during_second.stdout
    assert (f"running now: run {second} (incremental)" in during_second.stdout)
    assert "1 stream pulled so far, now claims 75% through its keys" in during_second.stdout
    engine.dispose()


@pytest.mark.mysql
def test_items_wait_for_a_first_sync_that_read_every_table(tmp_path, mysql_server,
                                                           mysql_database):
    """A first sync that could not read the appointments would, evaluated, call every planned
    procedure unscheduled: the items wait until a sync reads every table whole."""
    from tc_sync.demo.practice import PracticeSpec, write_mysql

    with mysql_server.connect(mysql_database) as connection:
        write_mysql(connection, PracticeSpec())
    config, env = practice_config(tmp_path, mysql_server, mysql_database)
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE appointment TO appointment_away")
    partial = tc_sync("--config", str(config), "sync", env=env)
    assert partial.returncode == 1
    assert "main: partial (run 1" in partial.stdout
    assert "items: not evaluated: they wait until a sync has read every table whole" in \
        partial.stdout
    listed = tc_sync("--config", str(config), "items", "list", env=env)
    assert listed.stdout.count(":main:") == 0, listed.stdout          # nothing opened
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE appointment_away TO appointment")
    whole = tc_sync("--config", str(config), "sync", env=env)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert "patients evaluated (all)" in whole.stdout and " opened" in whole.stdout
    again = tc_sync("--config", str(config), "items", "list", env=env)
    assert again.stdout.count(":main:") > 0
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE appointment TO appointment_away")
    later = tc_sync("--config", str(config), "sync", env=env)       # once whole, a partial
    assert "items:" in later.stdout and "not evaluated" not in later.stdout  # run evaluates
    with mysql_server.connect(mysql_database) as connection, connection.cursor() as cursor:
        cursor.execute("RENAME TABLE appointment_away TO appointment")
