"""A group's views of one ledger: the queues of every practice together, reports side by side,
and every practice's health on one page.

Three synthetic practices (different sizes and seeds, so their PMS ids overlap) are synced into
one ledger, SQLite and PostgreSQL; what the files and the page show is checked against the
ledger's open items, which are the truth.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from tc_sync.cli import main
from tc_sync.config import Settings, settings_from_mapping
from tc_sync.config.mappings_file import MappingsKeeper, load_mappings
from tc_sync.cycle import run_cycle
from tc_sync.demo.practice import PracticeSpec, write_sqlite
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import replica, source_leases, sync_runs
from tc_sync.observability.group_health import group_answer, group_health
from tc_sync.pull.run import sync_source
from tc_sync.queues.group import ALL_PRACTICES, ALL_QUEUES, build_group_queues
from tc_sync.records import Patient
from tc_sync.reports.group import build_group_report
from tc_sync.reports.period import month_of
from tc_sync.reports.report import gather
from tc_sync.runtime.daemon import Daemon
from tc_sync.runtime.selection import select_sources
from tests.test_queues import dollars_at_stake, item_keys, open_items, read_csv

TODAY = date(2026, 11, 26)
PRACTICES = {"downtown": PracticeSpec(patients=120, seed=1, today=TODAY),
             "uptown": PracticeSpec(patients=160, seed=2, today=TODAY),
             "eastside": PracticeSpec(patients=90, seed=3, today=TODAY)}


def group_config(folder: Path, ledger_url: str) -> dict[str, Any]:
    return {
        "site_id": "smile-group", "timezone": "America/Chicago",
        "ledger": {"url": ledger_url},
        "queues": {"folder": str(folder / "queues")},
        "reports": {"folder": str(folder / "reports")},
        "sources": {name: {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(folder / f"{name}.db")}} for name in PRACTICES},
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def group(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Settings, sa.Engine]]:
    """The three practices synced and reconciled into one ledger."""
    folder = tmp_path_factory.mktemp(f"group-{request.param}")
    for name, spec in PRACTICES.items():
        write_sqlite(folder / f"{name}.db", spec)
    if request.param == "sqlite":
        url, drop = f"sqlite:///{folder / 'ledger.db'}", None
    else:
        admin: sa.Engine = request.getfixturevalue("postgres_admin")
        name = f"tc_test_group_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        drop = name
    settings = settings_from_mapping(group_config(folder, url), label=str(folder / "g.yaml"))
    engine = open_ledger(url)
    mappings = load_mappings()
    for source_id, source in settings.sources.items():
        run = sync_source(engine, source_id, source, settings.sync, full=True)
        assert run.outcome == "ok"
        reconcile_source(engine, source_id, mappings, TODAY, complete_run=True,
                         run_id=run.run_id)
    yield settings, engine
    engine.dispose()
    if drop is not None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {drop} WITH (FORCE)")


def test_the_group_queues_hold_every_practices_rows_with_its_practice_and_its_totals(group):
    settings, engine = group
    built = build_group_queues(engine, settings, today=TODAY)

    folder = built.queues.folder
    assert folder.name == "All-practices"
    every = open_items(engine)
    assert {item["source_id"] for item in every} == set(PRACTICES)
    shown: dict[str, str] = {}
    for path in folder.glob("*.csv"):
        if path.name == "practices.csv":
            continue
        for row in read_csv(path):
            assert next(iter(row)) == "Practice"
            for key in item_keys([row]):
                assert key not in shown, f"{key} listed twice"
                shown[key] = row["Practice"]
    assert shown == {item["item_key"]: item["source_id"] for item in every}

    totals = {(row["Practice"], row["Queue"]): row
              for row in read_csv(folder / "practices.csv")}
    for practice in PRACTICES:
        mine = [item for item in every if item["source_id"] == practice]
        whole = totals[(practice, ALL_QUEUES)]
        assert int(whole["Open items"]) == len(mine)
        assert int(whole["Due now"]) == sum(1 for i in mine if i["queue"] != "aged"
                                            and i["next_follow_up"] <= TODAY)
        assert Decimal(whole["Amount"]) == dollars_at_stake(engine, mine, practice)
        treatment = [item for item in mine if item["queue"] == "treatment"]
        assert Decimal(totals[(practice, "treatment")]["Amount"]) == dollars_at_stake(
            engine, treatment, practice)
    group_total = totals[(ALL_PRACTICES, ALL_QUEUES)]
    assert int(group_total["Open items"]) == len(every)
    assert Decimal(group_total["Amount"]) == sum(
        (dollars_at_stake(engine, [i for i in every if i["source_id"] == p], p)
         for p in PRACTICES), start=Decimal(0))
    page = (folder / "practices.html").read_text("utf-8")
    assert all(practice in page for practice in PRACTICES)
    totals_text = page + (folder / "practices.csv").read_text("utf-8")
    assert not [value for value in _patients_data(engine) if value in totals_text]
    assert (folder / "queues.xlsx").is_file() and (folder / "queues.html").is_file()


def test_per_clinic_the_group_gets_a_folder_per_practice_and_clinic(group, tmp_path):
    settings, engine = group
    per_clinic = settings.model_copy(update={
        "queues": settings.queues.model_copy(update={"per_clinic": True})})
    built = build_group_queues(engine, per_clinic, today=TODAY, folder=tmp_path / "g")

    folders = [path for path in (tmp_path / "g").iterdir() if path.is_dir()]
    assert {path.name.split("-")[0] for path in folders} == set(PRACTICES)
    listed: list[str] = []
    for path in folders:
        practice = path.name.split("-")[0]
        for csv_file in path.glob("*.csv"):
            rows = read_csv(csv_file)
            assert {row["Practice"] for row in rows} <= {practice}
            listed += item_keys(rows)
    assert sorted(listed) == sorted(item["item_key"] for item in open_items(engine))
    assert built.totals[-1].tally.items == len(listed)


def _patients_data(engine: sa.Engine) -> list[str]:
    """Every patient's name, phone and email in the ledger: none may reach the health page."""
    table = replica[Patient]
    with engine.connect() as connection:
        found = connection.execute(sa.select(
            table.c.last_name, table.c.first_name, table.c.home_phone, table.c.mobile_phone,
            table.c.email)).all()
    return [value for row in found for value in (f"{row[0]}, {row[1]}", *row[2:])
            if value and len(value) > 5]


def _age_runs(engine: sa.Engine, source_id: str, moment: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(sync_runs.update().where(sync_runs.c.source_id == source_id).values(
            started_at=moment.replace(tzinfo=None), finished_at=moment.replace(tzinfo=None)))


def _hold_lease(engine: sa.Engine, source_id: str, holder: str, renewed: datetime,
                seconds: int) -> None:
    naive = renewed.astimezone(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(source_leases.insert().values(
            source_id=source_id, holder=holder, acquired_at=naive, renewed_at=naive,
            expires_at=naive + timedelta(seconds=seconds)))


def test_the_group_health_page_shows_each_practice_with_its_colour_and_why_and_no_phi(
        group, tmp_path, capsys):
    settings, engine = group
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the queues folder should be", encoding="utf-8")
    unwritable = settings.model_copy(update={
        "queues": settings.queues.model_copy(update={"folder": blocked})})
    failed = run_cycle(engine, unwritable, load_mappings(), only_source="eastside", queues=True)
    assert failed.queue_problem is not None
    result = run_cycle(engine, settings, load_mappings(), only_source="uptown", queues=True)
    assert result.queues is not None
    now = datetime.now(UTC)
    _age_runs(engine, "downtown", now - timedelta(minutes=45))    # amber: over 30 min
    _age_runs(engine, "eastside", now - timedelta(hours=5))       # red: over 4 h
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        _hold_lease(engine, "uptown", "srv-uptown:4242:ab12", now - timedelta(seconds=5), 60)
        _hold_lease(engine, "downtown", "srv-down:77:cd34", now - timedelta(minutes=10), 60)

    code, content_type, body = group_answer(engine, settings, "/group.json", now)
    assert (code, content_type) == (200, "application/json")
    answer = json.loads(body)
    practices = {p["id"]: p for p in answer["practices"]}
    assert list(practices) == list(PRACTICES)
    assert answer["status"] == "failing"
    assert answer["not_in_configuration"] == []
    uptown, downtown, eastside = (practices[p] for p in ("uptown", "downtown", "eastside"))
    assert uptown["colour"] == "green"
    assert uptown["queues"]["outcome"] == "ok"
    assert uptown["queues"]["open_items"] == len(open_items(engine))
    assert uptown["open_items"] == sum(1 for i in open_items(engine)
                                       if i["source_id"] == "uptown")
    assert downtown["colour"] == "amber"
    assert "last successful sync 45 min ago" in downtown["reasons"]
    assert eastside["colour"] == "red"
    assert "no successful sync for 5 h" in eastside["reasons"]
    assert any(r.startswith("work queues not written: the work queues could not be written "
                            f"to {blocked}") for r in eastside["reasons"])
    assert eastside["queues"]["outcome"] == "failed"
    if postgres:
        assert "run by srv-uptown:4242, heartbeat 5 s ago" in uptown["reasons"]
        assert any("srv-down:77" in r and "stopped or cut off" in r
                   for r in downtown["reasons"])
        assert downtown["agent"]["expired"] is True
        assert any("no agent holds it" in r for r in eastside["reasons"])
    else:
        assert uptown["agent"] is None and not answer["leases"]

    code, content_type, page = group_answer(engine, settings, "/group", now)
    assert content_type.startswith("text/html")
    text = page.decode()
    assert '<tr class="red"><td>eastside</td>' in text
    assert "no successful sync for 5 h" in text
    phi = _patients_data(engine)
    assert len(phi) > 100
    for shown in (text, body.decode()):
        assert not [value for value in phi if value in shown]

    config = tmp_path / "group.yaml"
    config.write_text(yaml.safe_dump(group_config(
        Path(str(settings.queues.folder)).parent, settings.ledger.url)), encoding="utf-8")
    assert main(["--config", str(config), "status", "--group"]) == 1
    printed = capsys.readouterr().out
    assert "eastside             RED" in printed
    assert "no successful sync for" in printed


def test_a_daemon_serves_the_group_page_for_practices_other_agents_run(group):
    settings, engine = group
    mine = select_sources(settings, ["uptown"])      # this agent runs uptown only
    mine = mine.model_copy(update={"http": mine.http.model_copy(update={"port": 0})})
    daemon = Daemon(engine, mine, MappingsKeeper(None), group=settings)
    daemon._start_status_server()
    assert daemon.status_server is not None
    base = f"http://127.0.0.1:{daemon.status_server.port}"
    try:
        with urlopen(f"{base}/group.json", timeout=10) as response:
            answer = json.loads(response.read())
        with urlopen(f"{base}/group", timeout=10) as response:
            page = response.read().decode()
        try:
            own = json.loads(urlopen(f"{base}/healthz", timeout=10).read())
        except HTTPError as error:     # 503: this daemon's scheduler is not running
            own = json.loads(error.read())
    finally:
        daemon.status_server.stop()
    assert [p["id"] for p in answer["practices"]] == list(PRACTICES)
    assert all(f"<td>{practice}</td>" in page for practice in PRACTICES)
    two = settings.model_copy(update={"sources": {
        name: source for name, source in settings.sources.items() if name != "eastside"}})
    with engine.connect() as connection:
        assert group_health(connection, two).elsewhere == ["eastside"]
    assert [s["id"] for s in own["sources"]] == ["uptown"]


def test_the_group_report_puts_each_practice_side_by_side_and_sums_them(group, tmp_path):
    settings, engine = group
    period = month_of(TODAY)
    built_at = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    made = build_group_report(engine, settings, "monthly", period=period, now=built_at,
                              folder=tmp_path / "reports")

    assert made.html.name == "group-2026-11.html" and made.xlsx.is_file()
    assert sorted(made.practices) == sorted(PRACTICES)
    assert all(path.is_file() and path.parent.name == practice
               for practice, path in made.practices.items())
    with engine.connect() as connection:
        whole = gather(connection, site_id="g", source_ids=list(PRACTICES),
                       mappings=load_mappings(), period=period,
                       zone=ZoneInfo(settings.timezone), built_at=built_at,
                       window_days=settings.reports.acceptance_window_days)
    sheet = openpyxl.load_workbook(made.xlsx).active
    rows = list(sheet.iter_rows(values_only=True))
    table = {row[0]: dict(zip(rows[0][1:], row[1:], strict=True)) for row in rows[1:]}
    assert list(table) == [*PRACTICES, "All practices"]
    presented = [table[p]["Treatment presented"] for p in PRACTICES]
    assert len(set(presented)) == 3 and all(value > 0 for value in presented)
    group_row = table["All practices"]
    assert group_row["Treatment presented"] == pytest.approx(sum(presented))
    assert group_row["Treatment presented"] == pytest.approx(float(whole.acceptance.presented))
    assert group_row["Patients presented treatment"] == whole.acceptance.patients_presented
    assert group_row["Treatment accepted"] == pytest.approx(float(whole.acceptance.accepted))
    assert group_row["Case acceptance (dollars)"] == pytest.approx(whole.acceptance.dollar_rate)
    outstanding = next(row for row in whole.aging if row.bucket == "All")
    assert group_row["Claims outstanding at the period's end"] == outstanding.claims > 0
    assert group_row["Follow-ups opened"] == sum(row.opened for row in whole.flow)
    assert made.table.row("uptown")["Treatment presented"] == Decimal(str(presented[1]))
    page = made.html.read_text("utf-8")
    assert all(f'href="{practice}/report-2026-11.html"' in page for practice in PRACTICES)
    assert not [value for value in _patients_data(engine) if value in page]


def test_a_queue_build_leaves_no_transaction_open_between_its_statements(
        postgres_url, tmp_path):
    # On a shared PostgreSQL ledger, a build reading for seconds inside one transaction would
    # hold VACUUM back for every practice (32 agents on 2 cores: 5 s). Before each statement
    # of a build, the build's session has no transaction open. (A SQLite build keeps one read
    # snapshot, by design: there is no VACUUM to hold back.)
    from tc_sync.queues.build import build_queues

    write_sqlite(tmp_path / "downtown.db", PRACTICES["downtown"])
    config = group_config(tmp_path, postgres_url)
    config["sources"] = {"downtown": config["sources"]["downtown"]}
    settings = settings_from_mapping(config, label=str(tmp_path / "g.yaml"))
    engine = open_ledger(postgres_url)
    run = sync_source(engine, "downtown", settings.sources["downtown"], settings.sync)
    reconcile_source(engine, "downtown", load_mappings(), TODAY, complete_run=True,
                     run_id=run.run_id)
    open_between: list[object] = []
    statements = []
    observer = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with observer.connect() as watcher:

        def check(connection: sa.Connection, *_: object) -> None:
            pid = connection.connection.dbapi_connection.info.backend_pid
            statements.append(pid)
            started = watcher.execute(sa.text(
                "SELECT xact_start FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            if (at := started.scalar()) is not None:
                open_between.append(at)

        sa.event.listen(engine, "before_cursor_execute", check)
        try:
            build_queues(engine, settings, folder=tmp_path / "q", today=TODAY)
        finally:
            sa.event.remove(engine, "before_cursor_execute", check)
    observer.dispose()
    engine.dispose()
    assert len(statements) > 10
    assert open_between == []
