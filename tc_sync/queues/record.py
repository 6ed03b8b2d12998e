"""Keep each source's last work-queue build in the ledger (`queue_builds`), so that a group's
health page shows whether the queues of practices other agents run are being written.

One short transaction per build; a ledger that cannot take it is logged, never raised (the
queues must not stop a cycle). The problem kept is the build's own sentence (a folder and an
error name, never a patient's data).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from tc_sync.ledger.schema import queue_builds
from tc_sync.queues.build import QueueBuild

log = structlog.get_logger(__name__)


def record_queue_build(engine: sa.Engine, source_ids: Sequence[str], build: QueueBuild | None,
                       problem: str | None, now: datetime | None = None) -> None:
    """Record a build (or why it failed) as the last one of each of `source_ids`."""
    if build is None and problem is None:
        return      # the queues are off: nothing was built
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    values = {"built_at": moment, "outcome": "failed" if problem else "ok", "problem": problem,
              "open_items": sum(build.queues.values()) if build is not None else None}
    try:
        with engine.begin() as connection:
            for source_id in source_ids:
                updated = connection.execute(queue_builds.update().where(
                    queue_builds.c.source_id == source_id).values(**values)).rowcount
                if not updated:
                    connection.execute(queue_builds.insert().values(source_id=source_id,
                                                                    **values))
    except sa.exc.SQLAlchemyError as error:
        log.warning("queue_build_not_recorded", error_class=type(error).__name__)
