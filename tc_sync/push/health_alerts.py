"""Sync health changes become alerts: the hook the daemon calls when a colour moves."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.observability.healthwatch import HealthChange
from tc_sync.push.plan import enqueue_alert


def health_alerter(engine: sa.Engine, settings: Settings) -> Callable[[HealthChange], None]:
    """A callback that puts one `health` alert per change into the outbox (the push job sends
    it); keyed by source, colour and minute, so a repeated check never alerts twice."""
    def alert(change: HealthChange) -> None:
        with engine.begin() as connection:
            enqueue_alert(
                connection, settings.push, "health", source_id=change.source_id,
                key=f"{change.source_id}:{change.current.value}:{change.at:%Y%m%dT%H%M}",
                payload={"colour": change.current.value,
                         "previous": change.previous.value if change.previous else "none"})
    return alert
