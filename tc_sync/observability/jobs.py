"""One scheduled job, observed: its Sentry check-ins, its metrics and a `job_finished` event.

    with observe_job(metrics, settings, source_id, "cycle") as job:
        if quiet:
            job.skipped("quiet_window")
            return
        result = cycle_source(...)
        job.ran(result.run.outcome, rows_read=..., quarantined=...)

A job left without `ran` or `skipped` by an exception counts as outcome `error`. The check-in
is ok for an `ok` or `stopped` run and for a skipped one (the daemon is alive and did what it
should), error for anything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog

from tc_sync.config import Settings
from tc_sync.observability.metrics import Metrics
from tc_sync.observability.sentry import CheckIn

log = structlog.get_logger(__name__)

_FINE = ("ok", "stopped")


@dataclass
class ObservedJob:
    """What the job reports about itself while it runs."""

    source_id: str
    job: str
    outcome: str | None = None
    skip_reason: str | None = None
    rows_read: int = 0
    quarantined: int = 0

    def ran(self, outcome: str, *, rows_read: int = 0, quarantined: int = 0) -> None:
        self.outcome, self.rows_read, self.quarantined = outcome, rows_read, quarantined

    def skipped(self, reason: str) -> None:
        self.skip_reason = reason


@contextmanager
def observe_job(metrics: Metrics, settings: Settings, source_id: str,
                job: str) -> Iterator[ObservedJob]:
    """Check in, run the body, then count and check out (see the module's docstring)."""
    check_in = CheckIn(settings, source_id, job)
    check_in.started()
    observed = ObservedJob(source_id, job)
    started = time.perf_counter()
    try:
        yield observed
    finally:
        seconds = time.perf_counter() - started
        if observed.skip_reason is not None:
            metrics.skipped(source_id, job, observed.skip_reason)
            check_in.finished(ok=True, seconds=seconds)
        else:
            outcome = observed.outcome or "error"
            metrics.ran(source_id, job, outcome, rows_read=observed.rows_read,
                        quarantined=observed.quarantined, seconds=seconds)
            check_in.finished(ok=outcome in _FINE, seconds=seconds)
            log.info("job_finished", source=source_id, job=job, outcome=outcome,
                     seconds=round(seconds, 3))
