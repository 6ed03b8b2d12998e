"""Watch each source's health colour and tell someone when it changes.

The daemon calls `HealthWatch.check` every minute. Each change of colour is logged as
`health_changed` (source, from, to) and handed to the `on_change` callback, the hook that e-mail
or chat alerts hang on. The first check after start-up has nothing to compare with: a source
that is already amber or red then counts as a change from none (`from` is null), so a restart
does not swallow an alert; a green one is silent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.observability.health import Colour, SourceHealth, source_health

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HealthChange:
    """A source's colour moved (`previous` is None at the daemon's first look)."""

    source_id: str
    previous: Colour | None
    current: Colour
    health: SourceHealth
    at: datetime


HealthCallback = Callable[[HealthChange], None]


class HealthWatch:
    """Remembers the last colour of each source and reports changes."""

    def __init__(self, engine: sa.Engine, settings: Settings,
                 on_change: HealthCallback | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.on_change = on_change
        self.colours: dict[str, Colour] = {}
        self.problems: Callable[[], Mapping[str, str]] = dict
        """What the daemon knows is wrong outside the ledger, by source (see `source_health`)."""
        self._lock = threading.Lock()

    def check(self, now: datetime | None = None) -> list[HealthChange]:
        """Read every source's health; log and hand on each change. Returns the changes."""
        moment = now or datetime.now(UTC)
        with self.engine.connect() as connection:
            healths = source_health(connection, self.settings, moment, self.problems())
        changes: list[HealthChange] = []
        with self._lock:
            for health in healths:
                if health.first_sync:      # not a change anyone must hear of: wait for its end
                    continue
                previous = self.colours.get(health.source_id)
                self.colours[health.source_id] = health.colour
                if previous is health.colour or (previous is None
                                                 and health.colour is Colour.GREEN):
                    continue
                changes.append(HealthChange(health.source_id, previous, health.colour, health,
                                            moment))
        for change in changes:
            self._report(change)
        return changes

    def _report(self, change: HealthChange) -> None:
        log_at = log.info if change.current is Colour.GREEN else log.warning
        log_at("health_changed", source=change.source_id,
               **{"from": change.previous.value if change.previous else None,
                  "to": change.current.value}, reason=change.health.reason)
        if self.on_change is None:
            return
        try:
            self.on_change(change)
        except Exception as error:  # an alert that fails must not stop the watching
            log.error("health_callback_failed", source=change.source_id,
                      error_class=type(error).__name__)
