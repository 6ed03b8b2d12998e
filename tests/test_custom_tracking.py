"""Open Dental's claim custom tracking "days suppressed" defers an outstanding claim's follow-up.

A status (definition category 31) whose value is N days hides a claim from Open Dental's
Outstanding Claims report for N days from when the status was set (its claimtracking
StatusHistory row). tc-sync keeps the claim's item open meanwhile (no resolve and reopen, so no
task churn) and makes its next follow-up the day the suppression ends.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.config.mappings import Mappings, MappingsError
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_mysql, write_sqlite
from tc_sync.items.claim_rules import claim_outstanding, days_suppressed
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.followup import next_follow_up
from tc_sync.items.model import DesiredItem
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.pull.run import sync_source
from tc_sync.records import (
    Claim,
    ClaimStatus,
    ClaimType,
    Contact,
    ContactDirection,
    ContactMode,
    Definition,
    DefinitionCategory,
)

from .test_conformance import DUMP, need

TODAY = date(2026, 11, 26)
MAPPINGS = load_mappings()
TRACKING = DefinitionCategory.CLAIM_CUSTOM_TRACKING
STATUSES = SourceFacts({d.pms_id: d for d in (
    Definition(41, TRACKING, 0, "Resubmitted", "30", False),
    Definition(42, TRACKING, 1, "Called carrier", "14", False),
    Definition(43, TRACKING, 2, "Appealed", "0", False),
    Definition(44, TRACKING, 3, "Review", "", False),
    Definition(45, TRACKING, 4, "Hold", "two weeks", False),
    Definition(46, TRACKING, 5, "Old status", "30", True),
    Definition(47, DefinitionCategory.RECALL_UNSCHEDULED_STATUS, 0, "Call back", "30", False),
)}, {})
RESUBMITTED, CALLED_CARRIER = 41, 42


def sent_claim(status: int | None = None, set_at: datetime | None = None) -> Claim:
    """A claim sent 60 days ago and not paid: outstanding (after 30 days) by default."""
    sent = TODAY - timedelta(days=60)
    return Claim(50, 7, ClaimType.PRIMARY, ClaimStatus.SENT, sent - timedelta(days=2), sent,
                 sent, None, 100000, 80000, 0, 0, 60, 61, 70, status, 1, None, None, set_at)


def outstanding(claim: Claim, mappings: Mappings = MAPPINGS, today: date = TODAY,
                contacts: tuple[Contact, ...] = ()) -> DesiredItem:
    found = claim_outstanding("main", PatientFacts(claims=[claim], contacts=list(contacts)),
                              STATUSES, mappings, today)
    assert len(found) == 1, "a suppressed claim is still an outstanding claim"
    return found[0]


def days_ago(days: int, hour: int = 15) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days), datetime.min.time()).replace(hour=hour)


# --- the rule, on hand-made records ---------------------------------------------------------


def test_a_claim_resubmitted_ten_days_ago_stays_owed_with_its_follow_up_after_30_days():
    item = outstanding(sent_claim(RESUBMITTED, days_ago(10)))
    assert item.not_before == TODAY + timedelta(days=20)
    assert item.details["suppressed_until"] == "2026-12-16"
    assert item.details["custom_tracking"] == "Resubmitted"
    cadence = MAPPINGS.cadence_of("claim_outstanding")
    assert next_follow_up(item.owed_since, 0, None, cadence, item.not_before) == date(2026, 12, 16)


def test_the_suppression_ends_on_the_day_the_status_was_set_plus_its_days():
    claim = sent_claim(CALLED_CARRIER, days_ago(10, hour=23))
    last_day = outstanding(claim, today=TODAY + timedelta(days=3))
    assert last_day.not_before == TODAY + timedelta(days=4)
    ended = outstanding(claim, today=TODAY + timedelta(days=4))
    assert ended.not_before is None and "suppressed_until" not in ended.details


@pytest.mark.parametrize(("status", "set_at", "why"), [
    (43, days_ago(1), "Appealed: 0 days suppressed"),
    (44, days_ago(1), "Review: no days entered"),
    (45, days_ago(1), "Hold: 'two weeks' is not a number of days"),
    (47, days_ago(1), "a definition of another list, not a claim tracking status"),
    (99, days_ago(1), "a status the definitions do not have"),
    (RESUBMITTED, None, "no status history says when it was set"),
    (None, None, "no status"),
])
def test_statuses_that_suppress_nothing_leave_the_follow_up_as_it_was(status, set_at, why):
    item = outstanding(sent_claim(status, set_at))
    assert item.not_before is None, why
    assert "suppressed_until" not in item.details, why


def test_a_hidden_status_still_suppresses_as_open_dental_reads_it():
    assert outstanding(sent_claim(46, days_ago(5))).not_before == TODAY + timedelta(days=25)


@pytest.mark.parametrize(("value", "days"), [
    ("30", 30), (" 14 ", 14), ("0", 0), ("", 0), ("-5", 0), ("30 days", 0), ("1e3", 0),
    ("3.5", 0), ("9" * 40, 36_500),
])
def test_days_suppressed_is_whole_days_else_none(value, days):
    assert days_suppressed(value) == days


def test_a_call_logged_during_the_suppression_does_not_bring_the_follow_up_forward():
    call = Contact(900, 7, days_ago(3), None, ContactMode.PHONE, ContactDirection.SENT, None)
    item = outstanding(sent_claim(RESUBMITTED, days_ago(10)), contacts=(call,))
    cadence = MAPPINGS.cadence_of("claim_outstanding")
    after_call = next_follow_up(item.owed_since, 1, call.contacted_at, cadence)
    assert after_call == TODAY - timedelta(days=1)           # two days after the call
    assert next_follow_up(item.owed_since, 1, call.contacted_at, cadence,
                          item.not_before) == TODAY + timedelta(days=20)
    # A cadence step beyond the suppression wins.
    assert next_follow_up(item.owed_since, 1, call.contacted_at, cadence,
                          TODAY - timedelta(days=2)) == after_call


def test_a_site_can_ignore_custom_tracking_and_a_wrong_value_names_its_line(tmp_path):
    site = tmp_path / "mappings.yaml"
    site.write_text("kinds:\n  claim_outstanding:\n    respect_custom_tracking: false\n")
    ignoring = load_mappings(site)
    item = outstanding(sent_claim(RESUBMITTED, days_ago(10)), mappings=ignoring)
    assert item.not_before is None and "suppressed_until" not in item.details
    assert MAPPINGS.kinds.claim_outstanding.respect_custom_tracking is True
    site.write_text("kinds:\n  claim_outstanding:\n    respect_custom_tracking: sometimes\n")
    with pytest.raises(MappingsError) as caught:
        load_mappings(site)
    assert (f"{site}:3:30: kinds.claim_outstanding.respect_custom_tracking: Input should be "
            "a valid boolean") in str(caught.value)


# --- the demo practice, read through the adapter SQL on SQLite ------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "practice.db"
    write_sqlite(path, PracticeSpec.demo(today=TODAY))
    return path


def test_the_demo_records_when_each_claim_status_was_set(demo_file):
    connection = sqlite3.connect(demo_file)
    claims = connection.execute("""
        SELECT c.ClaimNum, c.CustomTracking, c.SecDateTEdit,
          (SELECT ct.TrackingDefNum FROM claimtracking ct WHERE ct.ClaimNum = c.ClaimNum
           ORDER BY ct.DateTimeEntry DESC, ct.ClaimTrackingNum DESC LIMIT 1),
          (SELECT MAX(ct.DateTimeEntry) FROM claimtracking ct WHERE ct.ClaimNum = c.ClaimNum)
        FROM claim c WHERE c.CustomTracking != 0""").fetchall()
    untracked = connection.execute("""
        SELECT COUNT(*) FROM claimtracking ct JOIN claim c ON c.ClaimNum = ct.ClaimNum
        WHERE c.CustomTracking = 0""").fetchone()[0]
    types = {row[0] for row in connection.execute(
        "SELECT DISTINCT TrackingType FROM claimtracking")}
    connection.close()
    assert len(claims) >= 20
    for claim, status, stamp, latest_status, latest_entry in claims:
        assert latest_status == status, f"claim {claim}: its last status change is its status"
        assert latest_entry <= stamp, f"claim {claim}: the claim row changed with its status"
        assert latest_entry < TODAY.isoformat()
    assert untracked == 0 and types == {"StatusHistory"}


def test_the_demo_has_claims_suppressed_now_and_claims_whose_suppression_ended(
        demo_file, tmp_path):
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    source = SourceSettings(kind="opendental",
                            connection=ConnectionSettings(driver="sqlite", path=demo_file))
    result = sync_source(ledger, "demo", source, SyncSettings())
    assert result.outcome == "ok" and result.rows_quarantined == 0
    reconcile_source(ledger, "demo", MAPPINGS, TODAY, complete_run=True, run_id=result.run_id)
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(items.c.next_follow_up, items.c.details).where(
            items.c.kind == "claim_outstanding", items.c.status == "open")).all()
        since = connection.scalar(sa.select(sa.func.count()).where(
            replica[Claim].c.custom_tracking_since.is_not(None)))
    ledger.dispose()
    details = [(due, json.loads(text)) for due, text in rows]
    suppressed = [(due, d) for due, d in details if "suppressed_until" in d]
    assert since >= 20
    assert len(suppressed) >= 2
    for due, found in suppressed:
        # Not before the suppression ends; later when the cadence after a contact says so.
        assert due >= date.fromisoformat(found["suppressed_until"]) > TODAY
        assert found["custom_tracking"] in ("Resubmitted", "Called carrier")
    assert any(due == date.fromisoformat(found["suppressed_until"]) for due, found in suppressed)
    tracked_not_suppressed = {d["custom_tracking"] for _, d in details
                              if d.get("custom_tracking") and "suppressed_until" not in d}
    assert {"Appealed", "Called carrier"} <= tracked_not_suppressed


# --- end to end on MariaDB, as Open Dental changes the rows ---------------------------------


@pytest.fixture
def practice(mysql_server, mysql_database):
    connection = mysql_server.connect(mysql_database)
    write_mysql(connection, PracticeSpec(today=TODAY))
    yield connection
    connection.close()


def cycle(ledger, source, *, today=TODAY, full=False):
    result = sync_source(ledger, "main", source, SyncSettings(safety_lag_seconds=0), full=full)
    assert result.outcome == "ok"
    reconcile_source(ledger, "main", MAPPINGS, today, complete_run=True, run_id=result.run_id)
    return result


def execute(connection, sql: str, *params) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        cursor.execute(sql, params)
        return int(cursor.lastrowid or 0)


def query(connection, sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def item(ledger, key: str) -> dict:
    with ledger.connect() as connection:
        row = dict(connection.execute(sa.select(items).where(items.c.item_key == key))
                   .mappings().one())
    row["details"] = json.loads(row["details"])
    return row


def event_names(ledger, key: str) -> list[str]:
    with ledger.connect() as connection:
        return list(connection.execute(sa.select(item_events.c.event).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id)).scalars())


def due_untracked_claim(ledger, practice) -> tuple[str, int]:
    """An open claim_outstanding item due today whose claim has no custom tracking status."""
    untracked = {row[0] for row in query(
        practice, "SELECT ClaimNum FROM claim WHERE CustomTracking = 0 AND ClaimStatus = 'S'")}
    with ledger.connect() as connection:
        keys = connection.execute(sa.select(items.c.item_key).where(
            items.c.kind == "claim_outstanding", items.c.status == "open",
            items.c.next_follow_up <= TODAY).order_by(items.c.item_key)).scalars().all()
    for key in keys:
        claim = int(key.rsplit(":", 1)[1])
        if claim in untracked:
            return key, claim
    raise AssertionError("the demo practice has no due, untracked outstanding claim")


def choose_status(practice, claim: int, name: str, set_at: datetime | None) -> datetime:
    """What Open Dental does when a status is chosen: the claim's status, a history row."""
    status = query(practice, "SELECT DefNum FROM definition WHERE Category = 31 "
                             "AND ItemName = %s", name)[0][0]
    execute(practice, "UPDATE claim SET CustomTracking = %s WHERE ClaimNum = %s", status, claim)
    return add_history(practice, claim, status, set_at)


def add_history(practice, claim: int, status: int, set_at: datetime | None) -> datetime:
    row = execute(practice, "INSERT INTO claimtracking (ClaimNum, TrackingType, UserNum, "
                  "DateTimeEntry, Note, TrackingDefNum, TrackingErrorDefNum) VALUES "
                  "(%s, 'StatusHistory', 1, COALESCE(%s, NOW()), '', %s, 0)",
                  claim, set_at, status)
    return query(practice, "SELECT DateTimeEntry FROM claimtracking "
                           "WHERE ClaimTrackingNum = %s", row)[0][0]


@pytest.mark.mysql
def test_a_claim_resubmitted_stays_open_until_its_30_days_end_then_is_due_again(
        practice, source, ledger):
    cycle(ledger, source)
    key, claim = due_untracked_claim(ledger, practice)
    set_at = choose_status(practice, claim, "Resubmitted", days_ago(5))
    cycle(ledger, source)
    ends = set_at.date() + timedelta(days=30)
    during = item(ledger, key)
    assert during["status"] == "open"
    assert during["next_follow_up"] == ends == TODAY + timedelta(days=25)
    assert during["details"]["suppressed_until"] == ends.isoformat()
    assert during["details"]["custom_tracking"] == "Resubmitted"
    assert event_names(ledger, key) == ["opened", "changed"]

    cycle(ledger, source, today=ends - timedelta(days=1))
    assert item(ledger, key)["next_follow_up"] == ends

    cycle(ledger, source, today=ends)
    after = item(ledger, key)
    assert after["status"] == "open"
    assert after["next_follow_up"] <= ends, "due again once the suppression is over"
    assert "suppressed_until" not in after["details"]
    assert "resolved" not in event_names(ledger, key)
    assert "reopened" not in event_names(ledger, key)


@pytest.mark.mysql
def test_a_status_with_0_days_suppressed_changes_nothing_but_its_name(practice, source, ledger):
    cycle(ledger, source)
    key, claim = due_untracked_claim(ledger, practice)
    before = item(ledger, key)
    choose_status(practice, claim, "Appealed", days_ago(2))
    cycle(ledger, source)
    after = item(ledger, key)
    assert after["details"]["custom_tracking"] == "Appealed"
    assert after["next_follow_up"] == before["next_follow_up"] <= TODAY
    assert "suppressed_until" not in after["details"]
    assert after["status"] == "open"


@pytest.mark.mysql
def test_choosing_the_same_status_again_restarts_the_suppression(practice, source, ledger):
    cycle(ledger, source)
    key, claim = due_untracked_claim(ledger, practice)
    choose_status(practice, claim, "Called carrier", days_ago(20))    # ended 6 days ago
    # ...and the claim row was last written then, so only its status history can say more.
    execute(practice, "UPDATE claim SET SecDateTEdit = %s WHERE ClaimNum = %s",
            days_ago(20), claim)
    cycle(ledger, source, full=True)
    assert "suppressed_until" not in item(ledger, key)["details"]
    status, stamp = query(practice, "SELECT CustomTracking, SecDateTEdit FROM claim "
                                    "WHERE ClaimNum = %s", claim)[0]
    assert stamp == days_ago(20)
    # Called the carrier again: Open Dental writes a history row; the claim row is unchanged.
    again = add_history(practice, claim, status, None)
    assert query(practice, "SELECT SecDateTEdit FROM claim WHERE ClaimNum = %s",
                 claim)[0][0] == stamp
    result = cycle(ledger, source)
    claims_pull = next(s for s in result.streams if s.stream == "claims")
    assert claims_pull.rows_updated == 1
    ends = again.date() + timedelta(days=14)
    assert item(ledger, key)["details"]["suppressed_until"] == ends.isoformat()
    assert item(ledger, key)["next_follow_up"] == ends


# --- Open Dental's real schema ----------------------------------------------------------------


@pytest.fixture
def real_schema(mysql_server, mysql_database) -> str:
    need(DUMP)
    with DUMP.open("rb") as dump:
        subprocess.run(["mysql", "-h", mysql_server.host, "-P", str(mysql_server.port),
                        "-u", mysql_server.user, f"--password={mysql_server.password}",
                        mysql_database], stdin=dump, check=True, capture_output=True)
    return mysql_database


@pytest.mark.mysql
@pytest.mark.conformance
def test_open_dentals_own_21_1_schema_gives_when_the_status_was_set(
        mysql_server, real_schema, source, ledger):
    with mysql_server.connect(real_schema) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        statuses = []
        for name, days in (("Called carrier", "14"), ("Resubmitted", "30")):
            cursor.execute("INSERT INTO definition (Category, ItemOrder, ItemName, ItemValue) "
                           "VALUES (31, 0, %s, %s)", (name, days))
            statuses.append(cursor.lastrowid)
        called, resubmitted = statuses
        cursor.execute("INSERT INTO patient (LName, FName, PatStatus) "
                       "VALUES ('Testpatient', 'Ada', 0)")
        patient = cursor.lastrowid
        claims = []
        for status in (resubmitted, 0):
            cursor.execute("INSERT INTO claim (PatNum, ClaimStatus, ClaimType, DateSent, "
                           "CustomTracking) VALUES (%s, 'S', 'P', '2026-09-01', %s)",
                           (patient, status))
            claims.append(cursor.lastrowid)
        tracked, untracked = claims
        history = [  # (claim, type, status, when)
            (tracked, "StatusHistory", resubmitted, "2026-10-01 09:00:00"),
            (tracked, "StatusHistory", called, "2026-10-20 10:00:00"),
            (tracked, "StatusHistory", resubmitted, "2026-11-02 11:30:00"),
            (tracked, "ClaimUser", 0, "2026-11-10 08:00:00"),
            (untracked, "StatusHistory", 0, "2026-11-03 12:00:00"),
        ]
        for claim, kind, status, when in history:
            cursor.execute("INSERT INTO claimtracking (ClaimNum, TrackingType, UserNum, "
                           "DateTimeEntry, Note, TrackingDefNum, TrackingErrorDefNum) "
                           "VALUES (%s, %s, 1, %s, '', %s, 0)", (claim, kind, when, status))
    result = sync_source(ledger, "od", source, SyncSettings())
    assert result.outcome == "ok", result.error
    with ledger.connect() as connection:
        since = dict(connection.execute(sa.select(
            replica[Claim].c.pms_id, replica[Claim].c.custom_tracking_since)).all())
    assert since == {tracked: datetime(2026, 11, 2, 11, 30), untracked: None}
