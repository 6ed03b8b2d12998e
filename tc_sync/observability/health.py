"""Each source's sync health: green, amber or red, from its runs in the ledger.

Green: the last successful sync is recent and the last run succeeded. Amber: the last run
failed, or the last success is older than `health.amber_after_minutes`. Red: no success for
`health.red_after_minutes`, or never; but a source whose first sync is running is amber,
"first sync in progress" (a large practice's first sync takes a while; it is not a failure).
Time inside a quiet window (the practice's backup) does not count against a source: its age is
measured to the moment the window began. A problem the daemon knows of outside the ledger (the
work queues could not be written) turns a green source amber, with that problem as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.config.quiet import quiet_since
from tc_sync.ledger.schema import sync_runs
from tc_sync.ledger.state import HINTED


class Colour(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class SourceHealth:
    """One source's freshness, in words a coordinator and an IT person both read."""

    source_id: str
    colour: Colour
    last_success_at: datetime | None
    """UTC, naive (as the ledger stores it)."""
    last_outcome: str | None
    last_error_class: str | None
    reason: str
    first_sync: bool = False
    """Never synced yet, and the first sync is running now."""
    aged: bool = False
    """The reason only says how long ago the last success was (a page read later says it
    from `last_success_at` as it is read)."""


def source_health(connection: sa.Connection, settings: Settings,
                  now: datetime | None = None,
                  problems: Mapping[str, str] | None = None) -> list[SourceHealth]:
    """The health of every enabled source, in configuration order; `problems` (by source id)
    are what the daemon found wrong outside the ledger."""
    moment = now or datetime.now(UTC)
    healths = [_one(connection, settings, source_id, moment)
               for source_id, source in settings.sources.items() if source.enabled]
    return [_with_problem(health, (problems or {}).get(health.source_id)) for health in healths]


def _with_problem(health: SourceHealth, problem: str | None) -> SourceHealth:
    if problem is None:
        return health
    colour = Colour.AMBER if health.colour is Colour.GREEN else health.colour
    return replace(health, colour=colour, reason=f"{health.reason}; {problem}", aged=False)


def _one(connection: sa.Connection, settings: Settings, source_id: str,
         now: datetime) -> SourceHealth:
    last_ok = connection.execute(sa.select(sa.func.max(sync_runs.c.finished_at)).where(
        sync_runs.c.source_id == source_id, sync_runs.c.outcome == "ok")).scalar()
    last = connection.execute(
        sa.select(sync_runs.c.outcome, sync_runs.c.error_class)
        .where(sync_runs.c.source_id == source_id, sync_runs.c.outcome != "running",
               sync_runs.c.mode != HINTED)   # a look at the hints hides no failed scan
        .order_by(sync_runs.c.run_id.desc()).limit(1)).first()
    outcome, error_class = (last[0], last[1]) if last is not None else (None, None)
    if last_ok is None:
        running_since = connection.execute(sa.select(sa.func.max(sync_runs.c.started_at)).where(
            sync_runs.c.source_id == source_id, sync_runs.c.outcome == "running")).scalar()
        if running_since is not None:
            minutes = max(0, int((now - running_since.replace(tzinfo=UTC)).total_seconds() // 60))
            return SourceHealth(source_id, Colour.AMBER, None, outcome, error_class,
                                f"first sync in progress (started {_span(minutes)} ago)",
                                first_sync=True)
        return SourceHealth(source_id, Colour.RED, None, outcome, error_class,
                            "never synced successfully")
    zone = ZoneInfo(settings.timezone)
    quiet = quiet_since(now.astimezone(zone),
                        settings.sources[source_id].schedule.quiet_windows)
    measured_to = min(now, quiet.astimezone(UTC)) if quiet is not None else now
    age = measured_to - last_ok.replace(tzinfo=UTC)
    minutes = max(0, int(age.total_seconds() // 60))
    health = settings.health
    aged = True
    if age > timedelta(minutes=health.red_after_minutes):
        colour, reason = Colour.RED, f"no successful sync for {_span(minutes)}"
    elif age > timedelta(minutes=health.amber_after_minutes):
        colour, reason = Colour.AMBER, f"last successful sync {_span(minutes)} ago"
    elif outcome not in (None, "ok", "stopped"):
        colour, reason = Colour.AMBER, f"last run {outcome} ({error_class or 'no detail'})"
        aged = False
    else:
        colour, reason = Colour.GREEN, f"synced {_span(minutes)} ago"
    return SourceHealth(source_id, colour, last_ok, outcome, error_class, reason, aged=aged)


def _span(minutes: int) -> str:
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"
