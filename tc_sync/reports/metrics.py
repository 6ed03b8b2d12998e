"""The report's figures: pure functions over the facts `tc_sync.reports.ledger` reads.

Each function's docstring states the definition it computes; `tc_sync.reports.definitions`
writes the same definitions on the report. Money is exact (Decimal dollars, rounded to cents
only where a rate multiplies it); rates are fractions (0.25 is 25%).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from tc_sync.items.claim_rules import aging_bucket
from tc_sync.reports.ledger import ClaimFact, ItemEventFact, OpenItemFact, ProcedureFact

CENT = Decimal("0.01")
AGING_LIMITS = (30, 60, 90)
HORIZONS = (30, 60, 90)
RATE_HISTORY_DAYS = 365
UNASSIGNED = "(unassigned)"
ALL = "All"
_BOOKED = ("scheduled", "complete")
_OUTSTANDING = ("sent", "probably_sent", "received")


def _rate(part: Decimal | int, whole: Decimal | int) -> float | None:
    return float(Decimal(part) / Decimal(whole)) if whole else None


@dataclass(frozen=True)
class Acceptance:
    """Treatment presented and accepted in one group (a provider, a category, or all)."""

    group: str
    patients_presented: int
    patients_accepted: int
    procedures_presented: int
    procedures_accepted: int
    presented: Decimal
    accepted: Decimal

    @property
    def patient_rate(self) -> float | None:
        """Count basis: patients accepting / patients presented."""
        return _rate(self.patients_accepted, self.patients_presented)

    @property
    def dollar_rate(self) -> float | None:
        """Dollar basis: dollars accepted / dollars presented."""
        return _rate(self.accepted, self.presented)


def is_accepted(procedure: ProcedureFact, window_days: int) -> bool:
    """Accepted: completed (procedure date), or on an appointment that is scheduled or complete
    and dated, no later than `window_days` after the day it was treatment-planned.

    The PMS does not say when an appointment was booked, only its date, so "scheduled within
    the window" is read as "booked for a date within the window".
    """
    if procedure.date_planned is None:
        return False
    limit = procedure.date_planned + timedelta(days=window_days)
    if procedure.status == "complete" and procedure.done_on is not None \
            and procedure.done_on <= limit:
        return True
    return (procedure.appointment_status in _BOOKED and procedure.appointment_date is not None
            and procedure.appointment_date <= limit)


def _acceptance(group: str, procedures: Sequence[ProcedureFact],
                window_days: int) -> Acceptance:
    accepted = [p for p in procedures if is_accepted(p, window_days)]
    return Acceptance(
        group=group,
        patients_presented=len({(p.source_id, p.patient_id) for p in procedures}),
        patients_accepted=len({(p.source_id, p.patient_id) for p in accepted}),
        procedures_presented=len(procedures), procedures_accepted=len(accepted),
        presented=sum((p.amount for p in procedures), Decimal(0)),
        accepted=sum((p.amount for p in accepted), Decimal(0)))


def acceptance(presented: Iterable[ProcedureFact], window_days: int,
               group_of: Callable[[ProcedureFact], str] | None = None) -> list[Acceptance]:
    """Case acceptance per group (or one row, `All`, without `group_of`).

    Presented: procedures coordination follows (the mappings' categories and exclusions) that
    were treatment-planned in the period (planned date in it; still planned, set inactive or
    since completed). Accepted: see `is_accepted`. Count basis: a patient is presented when
    any of their procedures in the group is, and accepts when any of those is accepted
    (Dental Intelligence's Patient Acceptance %). Dollar basis: fee x (units + base units) of
    accepted procedures / of presented ones (Treatment $ Acceptance %).
    """
    counted = [p for p in presented if p.coordinated]
    if group_of is None:
        return [_acceptance(ALL, counted, window_days)]
    groups: dict[str, list[ProcedureFact]] = defaultdict(list)
    for procedure in counted:
        groups[group_of(procedure)].append(procedure)
    return [_acceptance(name, groups[name], window_days) for name in sorted(groups)]


def rate_history(as_of: date, window_days: int) -> tuple[date, date]:
    """The planned dates whose acceptance has had the whole window to happen: the year ending
    `window_days` before `as_of` (both ends included)."""
    last = as_of - timedelta(days=window_days + 1)
    return last - timedelta(days=RATE_HISTORY_DAYS - 1), last


@dataclass(frozen=True)
class ForecastRow:
    """Production expected in the next `days` days."""

    days: int
    scheduled: Decimal
    weighted_open: Decimal

    @property
    def total(self) -> Decimal:
        return self.scheduled + self.weighted_open


@dataclass(frozen=True)
class Forecast:
    """The production forecast and what it was weighted with."""

    as_of: date
    rate: float | None
    """The dollar acceptance rate of `rate_history`; None when nothing was presented then."""
    open_treatment: Decimal
    rows: list[ForecastRow]


def _on_future_appointment(procedure: ProcedureFact, as_of: date) -> bool:
    return (procedure.appointment_status == "scheduled"
            and procedure.appointment_date is not None and procedure.appointment_date >= as_of)


def forecast(planned: Iterable[ProcedureFact], rate: float | None, as_of: date,
             window_days: int, horizons: Sequence[int] = HORIZONS) -> Forecast:
    """Production forecast for each horizon h (days from `as_of`, `as_of` included).

    Scheduled: every planned procedure (any code) on a scheduled appointment dated from
    `as_of` to `as_of` + h - 1. Open treatment: planned procedures coordination follows, of
    active patients, not on a scheduled appointment from `as_of` on. Weighted open treatment:
    open treatment x the practice's dollar acceptance rate x min(h, window) / window, i.e. the
    accepted share is expected evenly over the acceptance window. Rounded to cents.
    """
    procedures = list(planned)
    open_total = sum((p.amount for p in procedures if p.coordinated and p.patient_active
                      and not _on_future_appointment(p, as_of)), Decimal(0))
    rows = []
    for days in horizons:
        end = as_of + timedelta(days=days)
        scheduled = sum((p.amount for p in procedures if _on_future_appointment(p, as_of)
                         and p.appointment_date is not None and p.appointment_date < end),
                        Decimal(0))
        share = Decimal(min(days, window_days)) / Decimal(window_days) if window_days else 1
        weighted = (open_total * Decimal(str(rate or 0)) * share).quantize(
            CENT, rounding=ROUND_HALF_UP)
        rows.append(ForecastRow(days, scheduled, weighted))
    return Forecast(as_of, rate, open_total, rows)


@dataclass(frozen=True)
class Turnaround:
    """Predetermination turnaround at one carrier (or `All`)."""

    carrier: str
    count: int
    median_days: float
    p90_days: int


def percentile_nearest_rank(values: Sequence[int], percent: int) -> int:
    """The smallest value with at least `percent`% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def turnaround_days(claim: ClaimFact) -> int | None:
    """Days from sent (the original send date where the PMS keeps one) to received."""
    sent = claim.date_sent_original or claim.date_sent
    if sent is None or claim.date_received is None or claim.date_received < sent:
        return None
    return (claim.date_received - sent).days


def turnaround(predeterminations: Iterable[ClaimFact], first: date,
               last: date) -> list[Turnaround]:
    """Predetermination turnaround by carrier, for those received from `first` to `last`.

    Days from the date sent (the original send date where the PMS keeps one, so a resend does
    not restart the clock) to the date received; a received date before the sent date is a
    data error and left out. Median (the middle value, or the mean of the two middle ones)
    and 90th percentile (nearest rank). The last row, `All`, covers every carrier.
    """
    days: dict[str, list[int]] = defaultdict(list)
    for claim in predeterminations:
        value = turnaround_days(claim)
        if value is not None and claim.date_received is not None \
                and first <= claim.date_received <= last:
            days[claim.carrier].append(value)
    rows = [Turnaround(carrier, len(values), float(statistics.median(values)),
                       percentile_nearest_rank(values, 90))
            for carrier, values in sorted(days.items())]
    everything = [value for values in days.values() for value in values]
    if everything:
        rows.append(Turnaround(ALL, len(everything), float(statistics.median(everything)),
                               percentile_nearest_rank(everything, 90)))
    return rows


@dataclass(frozen=True)
class AgingBucket:
    """Claims outstanding in one age bucket (or `All`)."""

    bucket: str
    claims: int
    fee: Decimal
    estimate: Decimal


def outstanding_age(claim: ClaimFact, on: date) -> int | None:
    """Days since sent, if the claim was outstanding at the end of day `on`."""
    if claim.claim_type == "predetermination" or claim.status not in _OUTSTANDING:
        return None
    if claim.date_sent is None or claim.date_sent > on:
        return None
    if claim.date_received is not None and claim.date_received <= on:
        return None
    if claim.status == "received" and claim.date_received is None:
        return None      # received, but when is unknown: cannot say it was still out
    return (on - claim.date_sent).days


def aging(claims: Iterable[ClaimFact], on: date,
          limits: Sequence[int] = AGING_LIMITS) -> list[AgingBucket]:
    """Claim aging at the end of day `on`: every bucket (0-30, 31-60, 61-90, 90+), then `All`.

    Outstanding: an insurance claim (not a predetermination) sent on or before `on` and not
    received by then (status sent or received; a claim now received counts when its received
    date is after `on`). Age: days from the date sent (Open Dental's default) to `on`. Totals
    are the claim fee billed and the insurance estimate.
    """
    buckets = [aging_bucket(limit, list(limits)) for limit in limits]
    buckets.append(aging_bucket(limits[-1] + 1, list(limits)))
    found: dict[str, list[ClaimFact]] = {bucket: [] for bucket in buckets}
    for claim in claims:
        age = outstanding_age(claim, on)
        if age is not None:
            found[aging_bucket(age, list(limits))].append(claim)
    rows = [AgingBucket(bucket, len(found[bucket]),
                        sum((c.fee for c in found[bucket]), Decimal(0)),
                        sum((c.estimate for c in found[bucket]), Decimal(0)))
            for bucket in buckets]
    rows.append(AgingBucket(ALL, sum(r.claims for r in rows),
                            sum((r.fee for r in rows), Decimal(0)),
                            sum((r.estimate for r in rows), Decimal(0))))
    return rows


@dataclass(frozen=True)
class Flow:
    """Items opened, resolved and overdue in one queue for one owner."""

    queue: str
    owner: str
    opened: int
    resolved: int
    overdue: int


def item_flow(events: Iterable[ItemEventFact], open_now: Iterable[OpenItemFact],
              overdue_before: date) -> list[Flow]:
    """Items opened, resolved and overdue per queue and owner.

    Opened: items that opened or reopened in the period (a reopened item is a new follow-up);
    resolved: items that resolved in the period; both from the items' history, counted under
    the item's queue and owner now. Overdue: items open now whose next follow-up is before
    `overdue_before` (the period's last day).
    """
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for event in events:
        column = 1 if event.event == "resolved" else 0
        counts[(event.queue, event.owner or UNASSIGNED)][column] += 1
    for item in open_now:
        if item.next_follow_up < overdue_before:
            counts[(item.queue, item.owner or UNASSIGNED)][2] += 1
    return [Flow(queue, owner, *counts[(queue, owner)]) for queue, owner in sorted(counts)]
