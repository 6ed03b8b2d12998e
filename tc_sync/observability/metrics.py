"""Prometheus metrics: what this daemon did since it started, and what the ledger says now.

Counters and the duration histogram are kept in memory by the daemon's jobs. Freshness, health
colours, open items and quarantined rows are read from the ledger at each scrape, so they are
right from the first scrape after a restart. Labels are source ids, jobs, outcomes, colours
and queue names from the configuration: never anything about a patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import sqlalchemy as sa
import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tc_sync.config import Settings
from tc_sync.ledger.schema import items, quarantine
from tc_sync.observability.health import Colour, source_health

log = structlog.get_logger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

# `_created` series would double the output and tell nobody anything here.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The daemon's metrics registry (one per daemon, so tests can run several)."""

    def __init__(self, engine: sa.Engine | None = None, settings: Settings | None = None) -> None:
        self.registry = CollectorRegistry()
        self.sync_runs = Counter(
            "tc_sync_sync_runs", "Sync runs by source, job (cycle, sweep) and outcome.",
            ["source", "job", "outcome"], registry=self.registry)
        self.jobs_skipped = Counter(
            "tc_sync_jobs_skipped", "Scheduled jobs that did not run, and why "
            "(quiet_window, still_running).", ["source", "job", "reason"],
            registry=self.registry)
        self.rows_read = Counter(
            "tc_sync_rows_read", "Rows read from the PMS.", ["source"], registry=self.registry)
        self.rows_quarantined = Counter(
            "tc_sync_rows_quarantined", "Rows read that failed validation and were held.",
            ["source"], registry=self.registry)
        self.cycle_seconds = Histogram(
            "tc_sync_cycle_duration_seconds", "Time of one cycle or sweep (sync and reconcile).",
            ["source", "job"], buckets=_DURATION_BUCKETS, registry=self.registry)
        if engine is not None and settings is not None:
            self.registry.register(LedgerCollector(engine, settings))

    def ran(self, source_id: str, job: str, outcome: str, *, rows_read: int = 0,
            quarantined: int = 0, seconds: float | None = None) -> None:
        """Count one job that ran to an outcome."""
        self.sync_runs.labels(source_id, job, outcome).inc()
        self.rows_read.labels(source_id).inc(rows_read)
        self.rows_quarantined.labels(source_id).inc(quarantined)
        if seconds is not None:
            self.cycle_seconds.labels(source_id, job).observe(seconds)

    def skipped(self, source_id: str, job: str, reason: str) -> None:
        self.jobs_skipped.labels(source_id, job, reason).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of everything in the registry."""
        return generate_latest(self.registry)


class LedgerCollector(Collector):
    """Reads freshness, health, open items and quarantine from the ledger at scrape time."""

    def __init__(self, engine: sa.Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tc_sync_ledger_up", "1 when the ledger could be read.")
        try:
            families = self._read()
        except sa.exc.SQLAlchemyError as error:
            log.warning("metrics_ledger_unreadable", error_class=type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        last = GaugeMetricFamily(
            "tc_sync_last_success_timestamp_seconds",
            "Unix time of each source's last successful sync (absent: never).", labels=["source"])
        colour = GaugeMetricFamily(
            "tc_sync_source_health", "1 for the source's current health colour, else 0.",
            labels=["source", "colour"])
        open_items = GaugeMetricFamily(
            "tc_sync_open_items", "Open coordination items per source and queue.",
            labels=["source", "queue"])
        held = GaugeMetricFamily(
            "tc_sync_quarantine_rows", "PMS rows held in quarantine now.", labels=["source"])
        with self.engine.connect() as connection:
            for health in source_health(connection, self.settings):
                if health.last_success_at is not None:
                    last.add_metric([health.source_id],
                                    health.last_success_at.replace(tzinfo=UTC).timestamp())
                for each in Colour:
                    colour.add_metric([health.source_id, each.value],
                                      1 if health.colour is each else 0)
            for source_id, queue, count in connection.execute(
                    sa.select(items.c.source_id, items.c.queue, sa.func.count())
                    .where(items.c.status == "open")
                    .group_by(items.c.source_id, items.c.queue)):
                open_items.add_metric([source_id, queue], count)
            for source_id, count in connection.execute(
                    sa.select(quarantine.c.source_id, sa.func.count())
                    .where(quarantine.c.released_at.is_(None))
                    .group_by(quarantine.c.source_id)):
                held.add_metric([source_id], count)
        return [last, colour, open_items, held]
