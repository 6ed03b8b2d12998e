"""One report's figures: gathered from the ledger for a period, ready to draw and write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.ledger.schema import item_events, items
from tc_sync.reports import ledger, metrics
from tc_sync.reports.definitions import definitions
from tc_sync.reports.period import Period


@dataclass(frozen=True)
class Report:
    """Everything one weekly or monthly report shows."""

    site_id: str
    period: Period
    built_at: datetime
    """Aware, in the practice's time zone."""
    as_of: date
    """The practice's day the report was made: the forecast starts here."""
    window_days: int
    acceptance: metrics.Acceptance
    by_provider: list[metrics.Acceptance]
    by_category: list[metrics.Acceptance]
    forecast: metrics.Forecast
    turnaround: list[metrics.Turnaround]
    aging: list[metrics.AgingBucket]
    flow: list[metrics.Flow]
    definitions: list[tuple[str, str]]
    tracking_since: date | None = None
    """The practice's day of the first item event tc-sync recorded (None: none yet)."""
    by_presenter: list[metrics.Acceptance] = field(default_factory=list)
    """Case acceptance per user who presented the treatment plan."""

    @property
    def tracking_note(self) -> str | None:
        """A sentence when tracking began after the period did (or has not begun)."""
        if self.tracking_since is None:
            return ("tc-sync has not recorded any item yet: items opened and resolved start "
                    "counting at its first sync.")
        if self.tracking_since > self.period.start:
            return (f"Tracking began on {self.tracking_since}: items opened and resolved "
                    "before that day are not counted.")
        return None

    @property
    def maturing(self) -> bool:
        """Some presented treatment has not had the whole acceptance window yet."""
        return (self.as_of - self.period.end).days < self.window_days


CATEGORY_WORDS = {
    "prosthodontics_fixed": "Fixed prosthodontics",
    "prosthodontics_removable": "Removable prosthodontics",
    "maxillofacial_prosthetics": "Maxillofacial prosthetics",
}


def category_words(name: str) -> str:
    """A mappings category as a coordinator says it: 'oral_surgery' is 'Oral surgery'."""
    return CATEGORY_WORDS.get(name) or name.replace("_", " ").strip().capitalize() or name


def tracking_began(connection: sa.Connection, source_ids: Sequence[str],
                   zone: ZoneInfo) -> date | None:
    """The practice's day of the first item event of these sources."""
    query = sa.select(sa.func.min(item_events.c.at)).select_from(
        item_events.join(items, items.c.item_key == item_events.c.item_key)).where(
        items.c.source_id.in_(list(source_ids)))
    first: datetime | None = connection.execute(query).scalar()
    if first is None:
        return None
    return first.replace(tzinfo=UTC).astimezone(zone).date()


def _utc(day: date, zone: ZoneInfo) -> datetime:
    """Midnight starting `day` in the practice's zone, as the naive UTC the ledger keeps."""
    return datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)


def _history_acceptance(connection: sa.Connection, source_ids: Sequence[str],
                        mappings: Mappings, as_of: date, window_days: int
                        ) -> metrics.Acceptance:
    """The acceptance over the rate history (the forecast's rate): only its total is kept,
    not the history's procedures (at 60,000 patients, ~150 MB held through the report)."""
    history_from, history_to = metrics.rate_history(as_of, window_days)
    history = ledger.planned_between(connection, source_ids, history_from, history_to,
                                     mappings.category_of, mappings.coordinates)
    [total] = metrics.acceptance(history, window_days)
    return total


def gather(connection: sa.Connection, *, site_id: str, source_ids: Sequence[str],
           mappings: Mappings, period: Period, zone: ZoneInfo, built_at: datetime,
           window_days: int) -> Report:
    """Read the ledger and compute every section of the report for `period`."""
    as_of = built_at.astimezone(zone).date()
    categorize, coordinates = mappings.category_of, mappings.coordinates
    presented = ledger.planned_between(connection, source_ids, period.start, period.end,
                                       categorize, coordinates)
    total_history = _history_acceptance(connection, source_ids, mappings, as_of, window_days)
    [total] = metrics.acceptance(presented, window_days)
    events = ledger.item_events_between(connection, source_ids, _utc(period.start, zone),
                                        _utc(period.after, zone))
    return Report(
        site_id=site_id, period=period, built_at=built_at.astimezone(zone), as_of=as_of,
        window_days=window_days, acceptance=total,
        by_provider=metrics.acceptance(presented, window_days, lambda p: p.provider),
        by_category=metrics.acceptance(presented, window_days,
                                       lambda p: category_words(p.category)),
        by_presenter=metrics.acceptance(presented, window_days, lambda p: p.presenter)
        if any(p.presenter != ledger.NO_PRESENTER for p in presented) else [],
        forecast=metrics.forecast(
            ledger.still_planned(connection, source_ids, categorize, coordinates),
            total_history.dollar_rate, as_of, window_days),
        turnaround=metrics.turnaround(
            ledger.claims(connection, source_ids, predeterminations=True),
            period.start, period.end),
        aging=metrics.aging(ledger.claims(connection, source_ids, predeterminations=False),
                            period.end),
        flow=metrics.item_flow(events, ledger.open_items(connection, source_ids), period.end),
        definitions=definitions(period, as_of, window_days),
        tracking_since=tracking_began(connection, source_ids, zone))
