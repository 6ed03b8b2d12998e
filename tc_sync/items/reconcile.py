"""Reconcile: bring the ledger's items in line with what the replica says is owed.

After a source's sync, the patients whose records changed since the last reconcile are
re-evaluated; once a day (and after a full sweep) every patient is, so that time alone
(a claim ageing, a plan nearing renewal) opens and moves items too. Each chunk of patients is
one transaction: item changes and their events commit together. A run that was not complete
resolves nothing, and its changes are evaluated again after the next complete run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.config.mappings import Mappings
from tc_sync.config.push import PushSettings
from tc_sync.items.changed import patients_changed
from tc_sync.items.facts import (
    PatientFacts,
    PlanBenefits,
    SourceFacts,
    load_patient_facts,
    load_source_facts,
)
from tc_sync.items.followup import (
    Attempt,
    OpenPerOwner,
    attempts_for,
    escalated,
    is_aged,
    next_follow_up,
    priority,
    route,
)
from tc_sync.items.history import history_from
from tc_sync.items.model import BEFORE_VISIT, DesiredItem, ItemKind, Resolution
from tc_sync.items.outcomes import OUTCOME_RESOLUTIONS, Outcome, recorded_outcome, stays_ended
from tc_sync.items.rules import evaluate, why_resolved
from tc_sync.items.workload import Planned, bucket_of, last_useful_day, plan
from tc_sync.ledger.db import reading
from tc_sync.ledger.items import (
    STAFF_EVENT,
    TRACKED,
    ItemWrites,
    ReconcileState,
    encode,
    load_items,
    load_state,
    open_per_owner,
    save_state,
)
from tc_sync.ledger.schema import item_events, items, replica
from tc_sync.ledger.state import now_utc
from tc_sync.push.plan import OutboxPlanner
from tc_sync.records import (
    Patient,
)

log = structlog.get_logger(__name__)
PLAN_EVERY = timedelta(hours=1)
"""Follow-ups are planned again at most this often while items change (and on each day's
first full evaluation): each plan moves thousands of later follow-ups by a day."""
_CHUNK = 500
"""Patients whose facts are read together, in a few indexed queries."""
_WRITE_SECONDS = 0.5
"""A write transaction is committed once our own work in it has taken this long: on a
starved machine (32 agents on 2 cores) no transaction stays open for long, so VACUUM can
clean behind it and a pooler's connection is soon free."""


@dataclass
class ReconcileTotals:
    """What one reconcile did."""

    patients: int = 0
    opened: int = 0
    changed: int = 0
    contacted: int = 0
    escalated: int = 0
    resolved: int = 0
    reopened: int = 0
    full: bool = False
    seconds: float = 0.0
    by_event: dict[str, int] = field(default_factory=dict)


def _all_patients(connection: sa.Connection, source_id: str) -> set[int]:
    table = replica[Patient]
    everyone = set(connection.execute(sa.select(table.c.pms_id).where(
        table.c.source_id == source_id)).scalars())
    everyone.update(connection.execute(sa.select(items.c.patient_id).distinct().where(
        items.c.source_id == source_id, items.c.status == "open")).scalars())
    return everyone


class Reconciler:
    """Evaluates patients of one source and writes the item changes."""

    def __init__(self, engine: sa.Engine, source_id: str, mappings: Mappings, today: date,
                 *, may_resolve: bool, run_id: int | None,
                 planner: OutboxPlanner | None = None) -> None:
        self.engine = engine
        self.planner = planner if planner is not None and planner.active else None
        self.source_id = source_id
        self.mappings = mappings
        self.today = today
        self.may_resolve = may_resolve
        self.run_id = run_id
        self.totals = ReconcileTotals()
        self._staff_done: dict[str, list[Attempt]] = {}
        # Open items per owner, for round robin: read in the chunk's transaction when a route
        # first asks (most runs route nothing to an owner), then counted up as items are given.
        self._owners: OpenPerOwner | None = None
        self._writes = ItemWrites()
        """The current transaction's item writes, written just before it commits."""
        self._plan_benefits = PlanBenefits(source_id)

    def run(self, patient_ids: Iterable[int]) -> ReconcileTotals:
        started = time.perf_counter()
        ids = sorted(patient_ids)
        with reading(self.engine) as connection:
            source = load_source_facts(connection, self.source_id)
        for start in range(0, len(ids), _CHUNK):
            self._chunk(source, ids[start:start + _CHUNK])
        self.totals.patients = len(ids)
        self.totals.seconds = time.perf_counter() - started
        return self.totals

    def _chunk(self, source: SourceFacts, ids: list[int]) -> None:
        """Read a chunk's facts and items (`reading`: on PostgreSQL no transaction stays open
        between the reads), then evaluate and write them patient by patient, committing every
        `_WRITE_SECONDS` (a crash between commits leaves the watermark unmoved: the patients
        are evaluated again next time). No one else writes this source's rows meanwhile: the
        pull before it has finished, and the source's lease keeps other agents out."""
        with reading(self.engine) as connection:
            facts = load_patient_facts(connection, self.source_id, ids,
                                       history_from(self.mappings, self.today),
                                       self._plan_benefits)
            existing = load_items(connection, self.source_id, ids)
            self._staff_done = tasks_done_by_staff(connection, list(existing))
        self._owners = None
        by_patient: dict[int, list[dict[str, Any]]] = {}
        for stored in existing.values():
            by_patient.setdefault(stored["patient_id"], []).append(stored)
        done = 0
        while done < len(ids):
            with self.engine.begin() as connection:
                until = time.monotonic() + _WRITE_SECONDS
                for patient_id in ids[done:]:
                    self._patient(connection, facts[patient_id], source, existing,
                                  by_patient.get(patient_id, ()))
                    done += 1
                    if time.monotonic() >= until:
                        break
                self._writes.flush(connection)

    def _patient(self, connection: sa.Connection, patient: PatientFacts, source: SourceFacts,
                 existing: dict[str, dict[str, Any]], stored_items: Iterable[dict[str, Any]]
                 ) -> None:
        """Open, change and end one patient's items as their PMS facts say."""
        desired = evaluate(self.source_id, patient, source, self.mappings, self.today)
        for key, item in desired.items():
            if not self._ended(connection, item, existing.get(key), patient, source):
                self._keep(connection, item, existing.get(key), patient, source)
        for stored in stored_items:
            if stored["status"] == "open" and stored["item_key"] not in desired:
                self._resolve(connection, stored, patient, source)

    def _fields(self, item: DesiredItem, patient: PatientFacts, source: SourceFacts,
                stored: dict[str, Any] | None) -> tuple[dict[str, Any], list[Attempt]]:
        """The item's stored fields, and its attempts since it became owed."""
        cadence = self.mappings.cadence_of(item.kind.value)
        # The practice's day it opened (its UTC stamp can read as tomorrow late at night).
        opened = min(stored["opened_at"].date(), self.today) if stored else self.today
        # A blank PMS date: attempts and the cadence count from the day the item opened.
        clock = item.owed_since or opened
        found = attempts_for(item, patient, source, self.mappings.attempts, clock,
                             self._staff_done.get(item.key, ()))
        last = found[-1].at if found else None
        not_before = max(opened, item.not_before or opened)  # never due before it opened
        points, reasons = priority(item, self.mappings, self.today)
        due = next_follow_up(clock, len(found), last, cadence, not_before)
        return {
            "source_id": item.source_id, "kind": item.kind.value, "patient_id": item.patient_id,
            "claim_id": item.claim_id, "appointment_id": item.appointment_id,
            "clinic_id": item.clinic_id, "provider_id": item.provider_id,
            "amount": item.amount, "codes": item.codes,
            "details": {**item.details, "reasons": reasons},
            "owed_since": item.owed_since, "attempts": len(found), "last_contact_at": last,
            "due_on": due, "next_follow_up": due,
            "escalated": item.escalate or escalated(len(found), cadence), "priority": points,
        }, found

    def _queue(self, connection: sa.Connection, item: DesiredItem) -> tuple[str, str | None]:
        if is_aged(item, self.mappings):
            return self.mappings.aged_queue, None
        if self._owners is None or not self._owners.read:
            self._owners = OpenPerOwner(partial(self._open_per_owner, connection))
        queue, owner = route(item, self.mappings, self._owners)
        if owner:
            self._owners.given(owner)
        return queue, owner

    def _open_per_owner(self, connection: sa.Connection) -> dict[str, int]:
        """Open items per owner as the ledger has them with this transaction's writes in
        (items given out before the first read are counted by it, not in memory)."""
        self._writes.flush(connection)
        return open_per_owner(connection, self.source_id)

    def _keep(self, connection: sa.Connection, item: DesiredItem,
              stored: dict[str, Any] | None, patient: PatientFacts, source: SourceFacts
              ) -> None:
        raw, found = self._fields(item, patient, source, stored)
        fields = encode(raw)
        if stored is None:
            self._open(connection, item, fields)
        elif stored["status"] != "open":
            self._reopen(connection, item.key, stored, fields)
        else:
            self._update(connection, item, stored, fields, found)

    def _open(self, connection: sa.Connection, item: DesiredItem, fields: dict[str, Any]
              ) -> None:
        queue, owner = self._queue(connection, item)
        opened = {**fields, "status": "open", "queue": queue, "owner": owner,
                  "opened_at": now_utc(), "episode": 1}
        self._writes.insert(item.key, opened)
        self._event(item.key, "opened", {"queue": queue, "owner": owner})
        if self.planner:
            self.planner.opened(connection, item.key, opened, 1)

    def _reopen(self, connection: sa.Connection, key: str, stored: dict[str, Any],
                fields: dict[str, Any]) -> None:
        episode = stored["episode"] + 1
        self._writes.update(key, {**fields, "status": "open", "resolved_at": None,
                                  "resolution": None, "episode": episode})
        self._event(key, "reopened", {"episode": episode})
        if self.planner:
            self.planner.opened(connection, key, {**stored, **fields}, episode)

    def _update(self, connection: sa.Connection, item: DesiredItem, stored: dict[str, Any],
                fields: dict[str, Any], found: list[Attempt]) -> None:
        if stored["due_on"] == fields["due_on"] and stored["next_follow_up"] >= fields["due_on"]:
            fields["next_follow_up"] = stored["next_follow_up"]    # as the day's plan put it
        snoozed = stored["snoozed_until"]
        if snoozed is not None and snoozed > fields["next_follow_up"]:
            fields["next_follow_up"] = snoozed
        aged = self.mappings.aged_queue
        if is_aged(item, self.mappings) != (stored["queue"] == aged):
            fields["queue"], fields["owner"] = (aged, None) if stored["queue"] != aged else (
                self._queue(connection, item))
        changes = {name: [stored[name], fields[name]] for name in TRACKED
                   if _differs(_without_reasons(name, stored[name]),
                               _without_reasons(name, fields[name]))}
        silent = any(_differs(stored[name], fields[name]) for name in (
            "priority", "next_follow_up", "due_on", "last_contact_at", "details", "attempts",
            "escalated"))
        if changes or silent or "queue" in fields:
            self._writes.update(item.key, fields)
        if changes:
            self._event(item.key, "changed", changes)
        if "queue" in fields:
            self._event(item.key, "aged" if fields["queue"] == aged else "routed",
                        {"queue": fields["queue"]})
        if fields["attempts"] > stored["attempts"]:
            since = stored["last_contact_at"]
            self._event(item.key, "contacted", {
                "attempts": fields["attempts"], "next_follow_up": fields["next_follow_up"],
                "new": [a.as_detail() for a in found if since is None or a.at > since]})
        if self.planner and item.key in self._staff_done and fields["due_on"] <= self.today and (
                snoozed is None or snoozed <= self.today):   # a staff-done task's next step
            self.planner.next_step(connection, item.key, {**stored, **fields}, stored["episode"])
        if fields["escalated"] and not stored["escalated"]:
            self._event(item.key, "escalated", {"attempts": fields["attempts"]})
            if self.planner:
                self.planner.escalated(connection, item.key, {**stored, **fields},
                                       stored["episode"])

    def _ended(self, connection: sa.Connection, item: DesiredItem,
               stored: dict[str, Any] | None, patient: PatientFacts, source: SourceFacts
               ) -> bool:
        """Whether an outcome the practice recorded (declined, done elsewhere) ends this owed
        follow-up: an open item resolves with it; a resolved one stays resolved until the PMS
        shows something newer; one never opened is not opened."""
        outcome = recorded_outcome(item, patient, source, self.mappings)
        if stored is None:
            return outcome is not None
        if stored["status"] == "open":
            if outcome is None or not self.may_resolve:
                return False
            self._close_with(connection, stored, outcome)
            return True
        if outcome is not None:
            return True
        recorded = _details(stored).get("outcome")
        return (stored["resolution"] in OUTCOME_RESOLUTIONS and isinstance(recorded, dict)
                and stays_ended(item, recorded, patient, self.mappings))

    def _resolve(self, connection: sa.Connection, stored: dict[str, Any],
                 patient: PatientFacts, source: SourceFacts) -> None:
        """No longer owed: resolve with the reason the PMS shows, or, when it shows none
        (treatment made inactive), the outcome staff recorded if there is one."""
        if not self.may_resolve:
            return
        kind = ItemKind(stored["kind"])
        subject = int(stored["item_key"].rsplit(":", 1)[1])
        reason = why_resolved(kind, subject, patient, self.today, self.mappings)
        outcome = recorded_outcome(DesiredItem(
            stored["item_key"], kind, stored["source_id"], stored["patient_id"],
            owed_since=stored["owed_since"], claim_id=stored["claim_id"]),
            patient, source, self.mappings) if reason == Resolution.NO_LONGER_ELIGIBLE else None
        if outcome is not None:
            self._close_with(connection, stored, outcome)
        else:
            self._close(connection, stored, reason.value)

    def _close_with(self, connection: sa.Connection, stored: dict[str, Any],
                    outcome: Outcome) -> None:
        """Resolve with an outcome staff recorded, kept with the item (`details.outcome`)."""
        details = {**_details(stored), "outcome": outcome.as_detail()}
        self._close(connection, stored, outcome.resolution.value,
                    {"details": encode({"details": details})["details"]}, outcome.as_detail())

    def _close(self, connection: sa.Connection, stored: dict[str, Any], reason: str,
               fields: dict[str, Any] | None = None,
               detail: dict[str, Any] | None = None) -> None:
        self._writes.update(stored["item_key"], {
            "status": "resolved", "resolved_at": now_utc(), "resolution": reason,
            **(fields or {})})
        self._event(stored["item_key"], "resolved", {"reason": reason, **(detail or {})})
        if self.planner:
            self.planner.resolved(connection, stored["item_key"], stored["episode"], reason)

    def _event(self, key: str, event: str, detail: dict[str, Any]) -> None:
        self._writes.event(key, event, detail, self.run_id)
        self.totals.by_event[event] = self.totals.by_event.get(event, 0) + 1
        if hasattr(self.totals, event):
            setattr(self.totals, event, getattr(self.totals, event) + 1)


def tasks_done_by_staff(connection: sa.Connection, keys: list[str]
                        ) -> dict[str, list[Attempt]]:
    """Tasks tc-sync made that staff marked done in the PMS, as attempts, by item key."""
    done: dict[str, list[Attempt]] = {}
    for start in range(0, len(keys), 500):
        rows = connection.execute(sa.select(
            item_events.c.item_key, item_events.c.at, item_events.c.detail).where(
            item_events.c.item_key.in_(keys[start:start + 500]),
            item_events.c.event == STAFF_EVENT))
        for key, at, text in rows:
            detail = json.loads(text)
            if detail.get("state") != "done":
                continue
            finished = _when(detail.get("finished")) or at
            done.setdefault(key, []).append(Attempt(finished, "task done", "task", None))
    return done


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _details(stored: dict[str, Any]) -> dict[str, Any]:
    value = stored.get("details")
    return dict(json.loads(value) if isinstance(value, str) else value or {})


def _without_reasons(name: str, value: Any) -> Any:
    """Details without the priority's reasons (their words change with the days): a change of
    reasons alone is not an event."""
    if name != "details" or value is None:
        return value
    details = json.loads(value) if isinstance(value, str) else dict(value)
    details.pop("reasons", None)
    return details


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.replace(microsecond=0) != new.replace(microsecond=0)
    if isinstance(new, float) and old is not None:
        return abs(float(old) - new) > 1e-9
    return bool(old != new)


def _earliest(row: Any) -> date:
    """An item's first possible day: its cadence's day (before due_on was kept: its next
    follow-up), or the end of its snooze."""
    earliest: date = row.due_on or row.next_follow_up
    return max(earliest, row.snoozed_until) if row.snoozed_until else earliest


def _planned(row: Any) -> Planned:
    """What the plan needs of an open item's row (`visit`: a before-visit item's details)."""
    earliest = _earliest(row)
    visit = json.loads(row.visit).get("appointment_on") if row.visit else None
    return Planned(row.item_key, bucket_of(row.owner, row.queue), float(row.priority), earliest,
                   last_useful_day(date.fromisoformat(visit), earliest) if visit else None)


def plan_follow_ups(engine: sa.Engine, source_id: str, mappings: Mappings, today: date) -> int:
    """Spread a source's open items' follow-ups over working days within each owner's (or
    unowned queue's) capacity (`mappings.workload`); returns how many moved. Aged items are not
    planned: they wait in their queue. Each practice (source) plans its own day: a group's
    daemons never write each other's items."""
    visit_details = sa.case((items.c.kind.in_(sorted(BEFORE_VISIT)), items.c.details))
    columns = (items.c.item_key, items.c.queue, items.c.owner, items.c.priority, items.c.due_on,
               items.c.next_follow_up, items.c.snoozed_until, visit_details.label("visit"))
    with engine.begin() as connection:
        rows = connection.execute(sa.select(*columns).where(
            items.c.source_id == source_id, items.c.status == "open",
            items.c.queue != mappings.aged_queue)).all()
        current = {row.item_key: row.next_follow_up for row in rows}
        days = plan((_planned(row) for row in rows), today, mappings.workload,
                    mappings.capacity_of)
        moved = [{"key": key, "day": day} for key, day in days.items() if current[key] != day]
        if moved:
            connection.execute(items.update().where(
                items.c.item_key == sa.bindparam("key")).values(
                next_follow_up=sa.bindparam("day"), planned_at=now_utc()), moved)
    return len(moved)


def reconcile_source(engine: sa.Engine, source_id: str, mappings: Mappings, today: date, *,
                     complete_run: bool, run_id: int | None = None,
                     full: bool = False, push: PushSettings | None = None,
                     plan: bool = True) -> ReconcileTotals:
    """Re-evaluate what changed since the last reconcile (everyone once a day, or if `full`).

    `complete_run` says the sync before it read every stream: only then may items resolve and
    the watermark move; otherwise the same changes are evaluated again next time. With `push`,
    item changes enqueue their tasks and alerts in the same transactions (`push.plan`).
    `plan` spreads the follow-ups over the owners' days afterwards (`plan_follow_ups`) if
    items changed, on each day's first (full) evaluation and at most every `PLAN_EVERY`
    otherwise; a change-hint look leaves it to a scan. A plan costs a second at 60,000
    patients and moves thousands of items by a day (an urgent one takes a place and every
    later day shifts); a new item keeps its cadence's day until the next.
    """
    started_at, cpu_started = now_utc(), time.thread_time()
    with engine.connect() as connection:
        state = load_state(connection, source_id)
        everyone = full or state.changes_through is None or (
            state.last_full_evaluation != today) or state.mappings_digest != mappings.digest
        if not everyone:
            assert state.changes_through is not None
            patients, everyone = patients_changed(connection, source_id, state.changes_through)
        if everyone:
            patients = _all_patients(connection, source_id)
    planner = None if push is None else OutboxPlanner(
        push, mappings, source_id, initial=state.changes_through is None)
    reconciler = Reconciler(engine, source_id, mappings, today, may_resolve=complete_run,
                            run_id=run_id, planner=planner)
    totals = reconciler.run(patients)
    totals.full = everyone
    if planner is not None and complete_run:
        with engine.begin() as connection:
            planner.backfill(connection)
    owed = state.plan_owed or bool(totals.patients)
    planning = plan and owed and (everyone or state.planned_at is None
                                  or started_at - state.planned_at >= PLAN_EVERY)
    moved = plan_follow_ups(engine, source_id, mappings, today) if planning else 0
    if moved:               # (planned after any evaluation: also one a crash cut short)
        totals.by_event["planned"] = moved
    if complete_run:
        with engine.begin() as connection:
            save_state(connection, source_id, ReconcileState(
                started_at, today if everyone else state.last_full_evaluation,
                mappings.digest, plan_owed=owed and not planning,
                planned_at=started_at if planning else state.planned_at))
    log.info("reconciled", source=source_id, patients=totals.patients, full=everyone,
             seconds=round(totals.seconds, 3),
             cpu_seconds=round(time.thread_time() - cpu_started, 3), **totals.by_event)
    return totals
