"""A small synthetic practice in MariaDB, its configuration and ledger, and the invariants the
reliability suite checks on that ledger (after each kill, and after a soak).

`check_ledger` compares the ledger with one built from scratch over the same PMS state; each
check returns the problems it found (an empty list: sound), so a scenario can count and record
them before it asserts.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pymysql
import sqlalchemy as sa
import yaml

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import Adapter
from tc_sync.config import Settings, load_settings
from tc_sync.config.clock import practice_today
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.demo.practice import PracticeSpec, write_mysql
from tc_sync.items.reconcile import plan_follow_ups, reconcile_source
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import cursors, item_events, items, outbox, replica
from tc_sync.pull.run import sync_source
from tc_sync.push.outbox import ActionKind, marker_of
from tc_sync.push.plan import task_key, task_step
from tests.od_api_standin import StandIn
from tests.reliability.practice_changes import PracticeChanges

TASK_LIST = 21
TASK_KINDS = ["unscheduled_treatment", "claim_outstanding", "broken_appointment",
              "planned_appointment_unscheduled"]
TARGET = "od-api"
UNREACHABLE_API = "http://127.0.0.1:9/api/v1"      # no push in the sync and reconcile phases
STREAMS = {          # PMS table, its key, the replica table (hard deletes reach these tables)
    "patients": ("patient", "PatNum"), "procedures": ("procedurelog", "ProcNum"),
    "appointments": ("appointment", "AptNum"), "claims": ("claim", "ClaimNum"),
    "claim_procedures": ("claimproc", "ClaimProcNum"), "contacts": ("commlog", "CommlogNum"),
    "treatment_plans": ("treatplan", "TreatPlanNum"),
}
BOOKKEEPING = ("first_seen", "last_changed", "deleted_at", "changed_at")
"""Not compared with a clean ledger: the ledger's own times, and the PMS timestamp, which the
replica writer keeps from the last real change (a touch that changes no value is not written)."""
ITEM_FIELDS = ("kind", "patient_id", "claim_id", "appointment_id", "clinic_id", "provider_id",
               "amount", "codes", "details", "owed_since", "attempts", "last_contact_at",
               "next_follow_up", "escalated", "priority", "queue")
"""What an item says, all of it derived from the PMS (owner and episode are its history)."""


# --- the site: a practice, a configuration, a ledger ------------------------------------------


@dataclass
class Site:
    folder: Path
    config: Path
    settings: Settings
    mappings: Mappings
    url: str
    ledger: sa.Engine
    """The test's own connection to the ledger (it only reads)."""
    pms: pymysql.connections.Connection
    changes: PracticeChanges
    today: date
    adapter: Adapter = field(init=False)
    """Loaded once for the clean ledgers built after each kill (the restarts load their own)."""
    first_items: set[str] | None = None
    """Items the first reconcile opened (the outbox check notes them at its first look): they
    were owed before tc-sync arrived, and with `tasks.backfill` off they make no task."""

    def __post_init__(self) -> None:
        source = self.settings.sources["main"]
        self.adapter = load_adapter(source.kind, self.settings.adapters_dir, source.overrides)

    @property
    def sqlite_file(self) -> Path | None:
        database = self.ledger.url.database
        return Path(database) if self.ledger.dialect.name == "sqlite" and database else None


def make_site(folder: Path, mysql_server: Any, database: str, ledger_url: str, *, seed: int,
              patients: int, base_url: str = UNREACHABLE_API, push: bool = True,
              sync: dict[str, Any] | None = None) -> Site:
    """The synthetic practice (made-up data) loaded into `database`, a configuration for it in
    `folder` (items of TASK_KINDS make Open Dental tasks at `base_url` when `push`) and its
    ledger at `ledger_url`, created and migrated."""
    today = datetime.now(UTC).date()            # the practice's today (its time zone is UTC)
    connection = mysql_server.connect(database)
    write_mysql(connection, PracticeSpec(patients=patients, seed=seed, today=today))
    mappings_file = folder / "mappings.yaml"
    mappings_file.write_text(yaml.safe_dump({"tasks": {
        "kinds": TASK_KINDS, "creator_user": 1,                  # backfill off, the default
        "lists": [{"task_list": TASK_LIST}]}}))
    config = folder / "tc-sync.yaml"
    config.write_text(yaml.safe_dump({
        "ledger": {"url": ledger_url},
        "timezone": "UTC",
        "mappings_file": str(mappings_file),
        "sync": {"batch_size": 50, "window_keys": 1000, **(sync or {})},
        "queues": {"enabled": False},
        "sources": {"main": {"kind": "opendental", "connection": {
            "host": mysql_server.host, "port": mysql_server.port, "user": mysql_server.user,
            "password": mysql_server.password or None, "database": database}}},
        "push": {"batch_size": 4, "interval_seconds": 5, "first_retry_seconds": 1,
                 "targets": {TARGET: {
                     "kind": "opendental_api", "source": "main", "base_url": base_url,
                     "developer_key": "dev-key", "customer_key": "cust-key",
                     "timeout_seconds": 5, "mark_done": "always"}} if push else {}},
    }))
    settings = load_settings(config)
    open_ledger(ledger_url).dispose()                    # migrated before anyone polls it
    connect_args = {"timeout": 30} if ledger_url.startswith("sqlite") else {}
    return Site(folder, config, settings, load_mappings(mappings_file), ledger_url,
                sa.create_engine(ledger_url.replace("postgresql://", "postgresql+psycopg://"),
                                 connect_args=connect_args),
                connection, PracticeChanges(connection, today, random.Random(seed)), today)


# --- a ledger built from scratch, and the checks -------------------------------------------


def scratch_ledger(site: Site) -> sa.Engine:
    """A new ledger holding one clean, full sync and reconcile of the PMS as it is now."""
    path = site.folder / "scratch.db"
    for leftover in (path, path.with_name("scratch.db-wal"), path.with_name("scratch.db-shm")):
        leftover.unlink(missing_ok=True)
    engine = open_ledger(f"sqlite:///{path}")
    source = site.settings.sources["main"]
    whole = site.settings.sync.model_copy(update={"batch_size": 10_000})   # one batch a stream
    run = sync_source(engine, "main", source, whole, full=True, adapter=site.adapter)
    assert run.outcome == "ok", run.error
    reconcile_source(engine, "main", site.mappings, practice_today(site.settings),
                     complete_run=True, run_id=run.run_id, full=True)
    return engine


def _live_rows(engine: sa.Engine, table: sa.Table) -> dict[int, dict[str, Any]]:
    columns = [c for c in table.columns if c.name not in BOOKKEEPING]
    with engine.connect() as connection:
        return {row["pms_id"]: dict(row) for row in connection.execute(
            sa.select(*columns).where(table.c.deleted_at.is_(None))).mappings()}


def _open_items(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(items).where(items.c.status == "open")).mappings()
        return {row["item_key"]: {f: round(row[f], 6) if f == "priority" else row[f]
                                  for f in ITEM_FIELDS} for row in rows}


def _differences(what: str, ours: dict[Any, dict[str, Any]],
                 clean: dict[Any, dict[str, Any]]) -> list[str]:
    """Rows missing, extra or different (naming the first one's differing fields)."""
    lost = sorted(set(clean) - set(ours))
    extra = sorted(set(ours) - set(clean))
    changed = sorted(key for key in set(ours) & set(clean) if ours[key] != clean[key])
    problems = []
    for label, keys in (("missing", lost), ("not in a clean ledger", extra),
                        ("different from a clean ledger", changed)):
        if keys:
            problems.append(f"{what}: {len(keys)} {label}, e.g. {keys[:3]}")
    if changed:
        first = changed[0]
        fields = {name: (ours[first][name], clean[first][name]) for name in ours[first]
                  if ours[first][name] != clean[first][name]}
        problems[-1] += f"; {first}: (ours, clean) {fields}"
    return problems


def check_sqlite(path: Path) -> list[str]:
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    problems = [] if integrity == [("ok",)] else [f"integrity_check: {integrity[:3]}"]
    if foreign:
        problems.append(f"foreign_key_check: {len(foreign)} rows, e.g. {foreign[:3]}")
    return problems


def check_replica(site: Site, clean: sa.Engine) -> list[str]:
    problems = []
    with site.ledger.connect() as connection:
        unfinished = connection.execute(sa.select(cursors.c.stream).where(
            cursors.c.pull_mode.is_not(None))).scalars().all()
    if unfinished:
        problems.append(f"pulls left unfinished after a clean run: {unfinished}")
    by_name = {table.name: table for table in replica.values()}
    for table in by_name.values():
        problems += _differences(f"replica {table.name}", _live_rows(site.ledger, table),
                                 _live_rows(clean, table))
    with site.pms.cursor() as cursor:
        for name, (pms_table, key) in STREAMS.items():
            cursor.execute(f"SELECT {key} FROM {pms_table}")
            in_pms = {int(row[0]) for row in cursor.fetchall()}
            table = by_name[name]
            with site.ledger.connect() as connection:
                rows = connection.execute(sa.select(table.c.pms_id, table.c.deleted_at))
                live = {pms_id for pms_id, deleted in rows if deleted is None}
            if live != in_pms:
                problems.append(f"replica {name} keys differ from the PMS: "
                                f"{len(in_pms - live)} missing, {len(live - in_pms)} extra")
    return problems


def check_items(site: Site, clean: sa.Engine) -> list[str]:
    # Follow-ups are planned at most hourly: a ledger that reconciled again within the hour
    # (after a crash) shows a new item on its cadence's day until the next plan, which must
    # then give the days a clean ledger's plan gives.
    plan_follow_ups(site.ledger, "main", site.mappings, practice_today(site.settings))
    problems = _differences("open items", _open_items(site.ledger), _open_items(clean))
    with site.ledger.connect() as connection:
        stored = connection.execute(sa.select(
            items.c.item_key, items.c.kind, items.c.source_id, items.c.status, items.c.episode,
            items.c.patient_id, items.c.claim_id, items.c.appointment_id, items.c.details)).all()
        history = connection.execute(sa.select(item_events.c.item_key, item_events.c.event)
                                     .order_by(item_events.c.event_id)).all()
    events: dict[str, list[str]] = defaultdict(list)
    for key, event in history:
        events[key].append(event)
    for key, kind, source_id, status, episode, patient, claim, appointment, details in stored:
        named_kind, named_source, subject = key.split(":")
        # A lab case's or referral's own id has no column: its details name it.
        own = json.loads(details or "{}").get("subject_id")
        if (named_kind, named_source) != (kind, source_id) or int(subject) not in (
                patient, claim, appointment, own):
            problems.append(f"item {key}: its key is not its natural key")
        seen = Counter(events[key])
        transitions = [e for e in events[key] if e in ("opened", "reopened", "resolved")]
        if seen["opened"] != 1 or seen["reopened"] != episode - 1:
            problems.append(f"item {key}: opened {seen['opened']}x, reopened "
                            f"{seen['reopened']}x for episode {episode}")
        elif (transitions[-1] == "resolved") != (status == "resolved"):
            problems.append(f"item {key}: status {status} after '{transitions[-1]}'")
    return problems


def check_outbox(site: Site) -> list[str]:
    """Each idempotency key once; each item's task made in the transaction that opened it
    (backfill is off, so a task lost with a crash would stay lost), and closed or cancelled in
    the one that resolved it."""
    problems = []
    with site.ledger.connect() as connection:
        keys = connection.execute(sa.select(outbox.c.idempotency_key, outbox.c.status,
                                            outbox.c.item_key)).all()
        stored = connection.execute(sa.select(items.c.item_key, items.c.status,
                                              items.c.episode).where(
            items.c.kind.in_(TASK_KINDS))).all()
        known = set(connection.execute(sa.select(items.c.item_key)).scalars())
    if site.first_items is None:         # the first look follows the first complete cycle
        site.first_items = known
    twice = [key for key, count in Counter(key for key, _, _ in keys).items() if count > 1]
    if twice:
        problems.append(f"outbox: {len(twice)} idempotency keys more than once: {twice[:3]}")
    status = {key: state for key, state, _ in keys}
    orphans = [key for key, _, item_key in keys if item_key is not None and item_key not in known]
    if orphans:
        problems.append(f"outbox: {len(orphans)} actions for no item, e.g. {orphans[:3]}")
    latest: dict[tuple[str, int], int] = {}      # (item, episode) -> its latest task's step
    for key, _, item_key in keys:
        found = task_step(key, TARGET, ActionKind.CREATE_TASK, item_key or "")
        if found is not None:
            mine = (str(item_key), found[0])
            latest[mine] = max(latest.get(mine, 1), found[1])
    for item_key, item_status, episode in stored:
        for number in range(1, episode + 1):
            step = latest.get((item_key, number), 1)
            create = task_key(TARGET, ActionKind.CREATE_TASK, item_key, number, step)
            close = task_key(TARGET, ActionKind.CLOSE_TASK, item_key, number, step)
            if number == 1 and item_key in site.first_items:
                if create in status:
                    problems.append(f"item {item_key}, owed before the first reconcile, has a "
                                    "task (tasks.backfill is off)")
            elif create not in status:
                problems.append(f"item {item_key} episode {number}: no task action")
            elif item_status == "open" and number == episode:
                if status[create] in ("cancelled", "dead"):
                    problems.append(f"open item {item_key}: its task is {status[create]}")
            elif status[create] != "cancelled" and close not in status:
                problems.append(f"resolved item {item_key} episode {number}: task "
                                f"{status[create]} but never closed")
    return problems


def check_ledger(site: Site) -> list[str]:
    """Every invariant of the ledger after a clean run; the problems found (none: sound)."""
    problems = check_sqlite(site.sqlite_file) if site.sqlite_file else []
    clean = scratch_ledger(site)
    try:
        problems += check_replica(site, clean)
        problems += check_items(site, clean)
    finally:
        clean.dispose()
    return problems + check_outbox(site)


def check_tasks(site: Site, state: StandIn) -> list[str]:
    """After a clean push: Open Dental holds each task once, and exactly the right ones."""
    problems = []
    with site.ledger.connect() as connection:
        actions = connection.execute(sa.select(outbox)).mappings().all()
        made = Counter(connection.execute(sa.select(item_events.c.item_key).where(
            item_events.c.event == "task_made")).scalars())
        closed = Counter(connection.execute(sa.select(item_events.c.item_key).where(
            item_events.c.event == "task_closed")).scalars())
    left = Counter(a["status"] for a in actions if a["status"] not in ("sent", "cancelled"))
    if left:
        problems.append(f"outbox after a clean push: {dict(left)}")
    tasks = state.tasks()
    markers = Counter(task["Descript"].rsplit("[", 1)[1].rstrip("]") for task in tasks)
    twice = [marker for marker, count in markers.items() if count > 1]
    if twice:
        problems.append(f"Open Dental: {len(twice)} tasks made twice, e.g. {twice[:3]}")
    creates = [a for a in actions if a["action"] == "create_task" and a["status"] == "sent"]
    expected = {marker_of(a["idempotency_key"]): a for a in creates}
    if set(markers) != set(expected):
        problems.append(f"Open Dental: {len(set(expected) - set(markers))} tasks lost, "
                        f"{len(set(markers) - set(expected))} not the ledger's")
    task_of = {task["Descript"].rsplit("[", 1)[1].rstrip("]"): task for task in tasks}
    wrong = [key for key, a in expected.items()
             if key in task_of and a["external_id"] != str(task_of[key]["TaskNum"])]
    if wrong:
        problems.append(f"ledger: {len(wrong)} tasks under another number, e.g. {wrong[:3]}")
    closes = [a for a in actions if a["action"] == "close_task" and a["status"] == "sent"]
    should_be_done = {marker_of(json.loads(a["payload"])["create_key"]) for a in closes}
    done = {marker for marker, task in task_of.items() if task["TaskStatus"] == 2}
    if done != should_be_done:
        problems.append(f"Open Dental: {len(should_be_done - done)} tasks left open, "
                        f"{len(done - should_be_done)} done too soon")
    per_item_made = Counter(a["item_key"] for a in creates)
    per_item_closed = Counter(a["item_key"] for a in closes)
    if made != per_item_made or closed != per_item_closed:
        problems.append("item history: task_made/task_closed events do not match the tasks "
                        f"({sum(made.values())}/{len(creates)} made, "
                        f"{sum(closed.values())}/{len(closes)} closed)")
    return problems


