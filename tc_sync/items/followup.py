"""Follow-up arithmetic: attempts from the contact log, the next date, priority and routing.

Pure functions over plain values, so each rule a coordinator relies on is tested in isolation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from tc_sync.items.model import DesiredItem, ItemKind
from tc_sync.mappings import Cadence, Mappings, Route
from tc_sync.records import Contact

_CLAIM_KINDS = {ItemKind.CLAIM_OUTSTANDING, ItemKind.CLAIM_DENIED, ItemKind.CLAIM_UNDERPAID,
                ItemKind.CLAIM_UNSENT, ItemKind.PREDETERMINATION_PENDING}


def attempts(contacts: Iterable[Contact], since: date) -> tuple[int, datetime | None]:
    """Contact-log entries on or after the day the follow-up became owed, and the latest."""
    times = sorted(c.contacted_at for c in contacts
                   if c.contacted_at is not None and c.contacted_at.date() >= since)
    return len(times), (times[-1] if times else None)


def next_follow_up(owed_since: date, made: int, last_contact: datetime | None,
                   cadence: Cadence, not_before: date | None = None) -> date:
    """Owed at once; after the nth attempt, the cadence's nth step later (then every N);
    never before `not_before` (the day a suppression in the PMS ends)."""
    if made == 0 or last_contact is None:
        due = owed_since
    else:
        steps = cadence.after_days
        step = steps[made - 1] if made <= len(steps) else cadence.then_every_days
        due = last_contact.date() + timedelta(days=step)
    return due if not_before is None else max(due, not_before)


def escalated(made: int, cadence: Cadence) -> bool:
    return made >= cadence.escalate_after_attempts


def priority(item: DesiredItem, mappings: Mappings) -> float:
    """Points ordering a queue: amount, age, benefits about to renew, time at the carrier."""
    weights = mappings.priority
    age = item.age_days or 0        # an unknown age earns no points for age
    points = (item.amount or 0) / 10_000 * weights.per_100_dollars
    points += age / 30 * weights.per_30_days_old
    if item.kind == ItemKind.BENEFITS_EXPIRING:
        points += weights.benefits_expiring
    if item.kind in _CLAIM_KINDS:
        points += age / 30 * weights.per_30_days_at_carrier
    return round(points, 2)


def _matches(route: Route, item: DesiredItem) -> bool:
    return ((not route.kinds or item.kind.value in route.kinds)
            and (not route.clinics or item.clinic_id in route.clinics)
            and (not route.providers or item.provider_id in route.providers))


def route(item: DesiredItem, mappings: Mappings, open_per_owner: Mapping[str, int]
          ) -> tuple[str, str | None]:
    """The queue and owner of a new item: the first matching route, else the kind's queue.

    Round robin gives the item to the route's owner with the fewest open items.
    """
    for candidate in mappings.routing:
        if _matches(candidate, item):
            owner = None
            if candidate.owners:
                owner = candidate.owners[0]
                if candidate.assign == "round_robin":
                    owner = min(candidate.owners, key=lambda o: (open_per_owner.get(o, 0),
                                                                  candidate.owners.index(o)))
            return candidate.queue, owner
    return getattr(mappings.kinds, item.kind.value).queue, None
