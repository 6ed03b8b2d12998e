"""The daemon's report jobs: the daily digest (`digest`), the weekly and monthly reports
(`report:weekly`, `report:monthly`), on cron triggers in the practice's time zone.

A failure is logged (error class only, no PHI) and never raised: reports must not stop syncs.
A report or digest missed while the daemon was down is not made up later; run
`tc-sync report` or `tc-sync digest --send` by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
import structlog
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from tc_sync.config import Settings
from tc_sync.reports.period import PeriodKind

log = structlog.get_logger(__name__)


def _hour_minute(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)


def run_digest(engine: sa.Engine, settings: Settings) -> None:
    """The digest job: send today's digests; log a failure, never raise."""
    from tc_sync.digest.send import send_digests

    try:
        send_digests(engine, settings)
    except Exception as error:  # the digest must never take the daemon down
        log.error("digest_job_failed", job="digest", error_class=type(error).__name__)


def run_report(engine: sa.Engine, settings: Settings, kind: PeriodKind) -> None:
    """A report job: write the last complete week's or month's report; never raise."""
    from tc_sync.reports.build import build_report

    try:
        build_report(engine, settings, kind)
    except Exception as error:  # a report must never take the daemon down
        detail = error.strerror if isinstance(error, OSError) else None
        log.error("report_job_failed", job=f"report:{kind}", error_class=type(error).__name__,
                  reason=detail)


def add_report_jobs(scheduler: BaseScheduler, engine: sa.Engine, settings: Settings) -> None:
    """Add the configured jobs, with cron triggers in the practice's time zone."""
    reports, zone = settings.reports, settings.timezone
    if reports.digest.enabled:
        hour, minute = _hour_minute(reports.digest.send_at)
        scheduler.add_job(run_digest, CronTrigger(hour=hour, minute=minute, timezone=zone),
                          args=[engine, settings], id="digest", replace_existing=True)
    if reports.weekly.enabled:
        hour, minute = _hour_minute(reports.weekly.at)
        scheduler.add_job(run_report, CronTrigger(
            day_of_week=reports.weekly.day, hour=hour, minute=minute,
            timezone=zone), args=[engine, settings, "weekly"], id="report:weekly",
            replace_existing=True)
    if reports.monthly.enabled:
        hour, minute = _hour_minute(reports.monthly.at)
        scheduler.add_job(run_report, CronTrigger(
            day=reports.monthly.day, hour=hour, minute=minute, timezone=zone),
            args=[engine, settings, "monthly"], id="report:monthly", replace_existing=True)
