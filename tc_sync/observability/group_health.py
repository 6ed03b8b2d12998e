"""Every practice of a group on one page: its health read from the shared ledger.

Any agent of the group shows every practice of the configuration, including those other agents
run: the last run and the last successful sync (`observability.health`: green, amber, red), the
agent holding the practice's lease and its heartbeat (a PostgreSQL ledger), the last work-queue
build (`queue_builds`), rows held in quarantine and open follow-ups. Each practice gets a
colour and its reasons in words. Only ids, counts, codes and times: no patient's data (a
run's error detail may quote a row, so only its error class is shown).

Colours: the sync's health first (`source_health`); then amber, if it was green, when no agent
holds the practice's lease (none, or it expired: its agent is stopped or cut off), or when its
last queue build failed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.ledger.schema import (
    items,
    quarantine,
    queue_builds,
    source_leases,
    sources,
    sync_runs,
)
from tc_sync.ledger.state import HINTED
from tc_sync.observability.health import Colour, SourceHealth, source_health

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PracticeHealth:
    """One practice's line on the group's page."""

    source_id: str
    colour: Colour
    reasons: list[str]
    last_run: dict[str, Any] | None
    """run_id, outcome, started_at, finished_at, error_class (UTC ISO times)."""
    last_success_at: str | None
    agent: dict[str, Any] | None
    """holder, heartbeat_at, expires_at, heartbeat_seconds_ago, expired; None: no lease."""
    queues: dict[str, Any] | None
    """built_at, outcome, problem, open_items; None: not built since tracking began."""
    quarantined: int = 0
    open_items: int = 0


@dataclass(frozen=True)
class GroupHealth:
    """Every practice's line, and the group's status."""

    checked_at: str
    leases: bool
    """The ledger is PostgreSQL: agents hold leases (SQLite: one agent, a file lock)."""
    practices: list[PracticeHealth] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    """Sources the ledger holds that this configuration does not enable (shown by id only)."""

    @property
    def status(self) -> str:
        """ok, degraded (some amber) or failing (some red)."""
        colours = {practice.colour for practice in self.practices}
        return ("failing" if Colour.RED in colours else
                "degraded" if Colour.AMBER in colours else "ok")

    def as_json(self) -> dict[str, Any]:
        """The /group.json body."""
        return {"status": self.status, "checked_at": self.checked_at, "leases": self.leases,
                "practices": [{
                    "id": p.source_id, "colour": p.colour.value, "reasons": p.reasons,
                    "last_run": p.last_run, "last_success_at": p.last_success_at,
                    "agent": p.agent, "queues": p.queues, "quarantined": p.quarantined,
                    "open_items": p.open_items} for p in self.practices],
                "not_in_configuration": self.elsewhere}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z")


def ago(seconds: float) -> str:
    """A span in the words the status pages use: `45 s`, `12 min`, `3 h`."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def group_health(connection: sa.Connection, settings: Settings,
                 now: datetime | None = None) -> GroupHealth:
    """The health of every enabled source of `settings` (the whole group's configuration)."""
    moment = now or datetime.now(UTC)
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    healths = source_health(connection, settings, moment)
    ids = [health.source_id for health in healths]
    leases = connection.dialect.name == "postgresql"
    agents = _by_source(connection, source_leases, ids) if leases else {}
    builds = _by_source(connection, queue_builds, ids)
    runs = _last_runs(connection, ids)
    held = _counts(connection, quarantine, ids, quarantine.c.released_at.is_(None))
    open_ = _counts(connection, items, ids, items.c.status == "open")
    practices = [_practice(health, runs.get(health.source_id), agents.get(health.source_id),
                           builds.get(health.source_id), leases, naive,
                           held.get(health.source_id, 0), open_.get(health.source_id, 0))
                 for health in healths]
    known = connection.execute(sa.select(sources.c.source_id)).scalars()
    return GroupHealth(_iso(naive) or "", leases, practices,
                       sorted(set(known) - set(ids)))


def _by_source(connection: sa.Connection, table: sa.Table,
               ids: Sequence[str]) -> dict[str, Any]:
    return {row.source_id: row for row in connection.execute(
        sa.select(table).where(table.c.source_id.in_(list(ids))))}


def _last_runs(connection: sa.Connection, ids: Sequence[str]) -> dict[str, Any]:
    newest = sa.select(sa.func.max(sync_runs.c.run_id)).where(
        sync_runs.c.source_id.in_(list(ids)), sync_runs.c.mode != HINTED,
    ).group_by(sync_runs.c.source_id)
    return {row.source_id: row for row in connection.execute(sa.select(
        sync_runs.c.source_id, sync_runs.c.run_id, sync_runs.c.outcome, sync_runs.c.started_at,
        sync_runs.c.finished_at, sync_runs.c.error_class).where(
        sync_runs.c.run_id.in_(newest)))}


def _counts(connection: sa.Connection, table: sa.Table, ids: Sequence[str],
            condition: sa.ColumnElement[bool]) -> dict[str, int]:
    return {source_id: int(count) for source_id, count in connection.execute(
        sa.select(table.c.source_id, sa.func.count()).where(
            table.c.source_id.in_(list(ids)), condition).group_by(table.c.source_id))}


def _practice(health: SourceHealth, run: Any, lease: Any, build: Any, leases: bool,
              now: datetime, quarantined: int, open_items: int) -> PracticeHealth:
    colour, reasons = health.colour, [health.reason]
    agent = None
    if leases and lease is None:
        reasons.append("no agent holds it (its agent is not running)")
    elif lease is not None:
        expired = lease.expires_at < now
        agent = {"holder": lease.holder, "heartbeat_at": _iso(lease.renewed_at),
                 "expires_at": _iso(lease.expires_at), "expired": expired,
                 "heartbeat_seconds_ago": int((now - lease.renewed_at).total_seconds())}
        host_pid = ":".join(lease.holder.split(":")[:2])
        if expired:
            reasons.append(f"its agent ({host_pid}) last answered "
                           f"{ago((now - lease.renewed_at).total_seconds())} ago: stopped "
                           "or cut off from the ledger")
        else:
            reasons.append(f"run by {host_pid}, heartbeat "
                           f"{ago((now - lease.renewed_at).total_seconds())} ago")
    queues = None
    if build is not None:
        queues = {"built_at": _iso(build.built_at), "outcome": build.outcome,
                  "problem": build.problem, "open_items": build.open_items}
        if build.outcome != "ok":
            reasons.append(f"work queues not written: {build.problem}")
    troubled = (leases and (agent is None or agent["expired"])) or (
        queues is not None and queues["outcome"] != "ok")
    if troubled and colour is Colour.GREEN:
        colour = Colour.AMBER
    if quarantined:
        reasons.append(f"{quarantined:,} PMS row(s) held in quarantine")
    last_run = None if run is None else {
        "run_id": run.run_id, "outcome": run.outcome, "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at), "error_class": run.error_class}
    return PracticeHealth(health.source_id, colour, reasons, last_run,
                          _iso(health.last_success_at), agent, queues, quarantined, open_items)


_STYLE = ("body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:1.5em;color:#222}"
          "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
          "vertical-align:top}th{background:#305496;color:#fff;text-align:left}"
          ".green{background:#C6EFCE}.amber{background:#FFEB9C}.red{background:#FFC7CE}"
          "td.n{text-align:right}")
_COLUMNS = ("Practice", "Colour", "Why", "Last run", "Last successful sync", "Agent",
            "Work queues", "Quarantined", "Open follow-ups")


def _when(iso: str | None) -> str:
    """'2026-12-03T12:33:59Z' as '2026-12-03 12:33' (the page says its times are UTC)."""
    return "never" if iso is None else iso[:16].replace("T", "\u00a0")


def group_page(health: GroupHealth, site_id: str) -> bytes:
    """The /group page: one row per practice, its colour and why (refreshes every minute)."""
    rows = []
    for p in health.practices:
        run = p.last_run
        ran = "never" if run is None else (
            f"#{run['run_id']} {run['outcome']}"
            f"{' (' + run['error_class'] + ')' if run['error_class'] else ''}"
            f" at {_when(run['finished_at'] or run['started_at'])}")
        agent = "-" if p.agent is None else (
            f"{p.agent['holder']}, heartbeat {_when(p.agent['heartbeat_at'])}"
            f"{' (expired)' if p.agent['expired'] else ''}")
        queues = "not built yet" if p.queues is None else (
            f"{p.queues['outcome']} at {_when(p.queues['built_at'])}")
        cells = [p.source_id, p.colour.value, "; ".join(p.reasons), ran,
                 _when(p.last_success_at), agent, queues]
        row = "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
        row += f'<td class="n">{p.quarantined:,}</td><td class="n">{p.open_items:,}</td>'
        rows.append(f'<tr class="{p.colour.value}">{row}</tr>')
    head = "".join(f"<th>{name}</th>" for name in _COLUMNS)
    lease_note = ("" if health.leases else
                  "<p>A SQLite ledger: one agent syncs every practice (no leases).</p>")
    if health.elsewhere:
        lease_note += (f"<p>Also in the ledger, not enabled in this configuration: "
                       f"{escape(', '.join(health.elsewhere))}.</p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="60"><title>{escape(site_id)}: group health'
            f"</title><style>{_STYLE}</style></head><body><h1>{escape(site_id)}: "
            f"{escape(health.status)}</h1><p>Checked {escape(_when(health.checked_at))}; times are "
            f"UTC; this page refreshes every minute.</p>{lease_note}<table><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></body></html>").encode()


Answer = tuple[int, str, bytes]
"""HTTP status, content type, body."""


def group_answer(engine: sa.Engine, settings: Settings, route: str,
                 now: datetime | None = None) -> Answer:
    """The answer to GET /group (HTML) or /group.json; 503 when the ledger cannot be read."""
    try:
        with engine.connect() as connection:
            health = group_health(connection, settings, now)
    except sa.exc.SQLAlchemyError as error:
        log.warning("group_health_ledger_unreadable", error_class=type(error).__name__)
        return 503, "application/json", json.dumps({"status": "ledger_unavailable"}).encode()
    if route.endswith(".json"):
        return 200, "application/json", json.dumps(health.as_json()).encode()
    return 200, "text/html; charset=utf-8", group_page(health, settings.site_id)
