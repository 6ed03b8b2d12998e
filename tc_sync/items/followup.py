"""Follow-up arithmetic: attempts the PMS records, the next date, priority and its reasons,
routing.

Pure functions over plain values, so each rule a coordinator relies on is tested in isolation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tc_sync.config.mappings import Attempts, Cadence, Mappings, Route
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.model import BEFORE_VISIT, DesiredItem, ItemKind
from tc_sync.records import ClaimTrackingType, ContactDirection

INSURANCE_KINDS = frozenset({
    ItemKind.CLAIM_OUTSTANDING, ItemKind.CLAIM_DENIED, ItemKind.CLAIM_UNDERPAID,
    ItemKind.CLAIM_UNSENT, ItemKind.PREDETERMINATION_PENDING})
"""Follow-ups worked with the carrier, not the patient."""


@dataclass(frozen=True)
class Attempt:
    """One follow-up attempt the PMS records: when, what (the contact type or the claim
    status set), how, and by which PMS user. Never the note's text."""

    at: datetime
    what: str
    mode: str | None
    by: int | None

    def as_detail(self) -> dict[str, object]:
        return {"at": self.at.isoformat(sep=" ", timespec="minutes"), "what": self.what,
                "mode": self.mode, "by": self.by}


def _named(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in names)


def _contact_attempts(facts: PatientFacts, source: SourceFacts, settings: Attempts,
                      insurance: bool) -> list[Attempt]:
    """Contact-log entries that are the practice's outreach: sent, by a counted mode, of a
    counted type (insurance types only for insurance follow-ups), not logged by a program."""
    skip, carrier = _named(settings.skip_types), _named(settings.insurance_types)
    modes = set(settings.modes)
    found = []
    for contact in facts.contacts:
        if (contact.contacted_at is None or contact.direction != ContactDirection.SENT
                or contact.mode.value not in modes
                or (contact.automated and not settings.count_automated)):
            continue
        kind = source.definitions.get(contact.contact_type_id or 0)
        name = kind.name if kind is not None else ""
        if name.casefold() in skip or (name.casefold() in carrier) != insurance:
            continue
        found.append(Attempt(contact.contacted_at, name or "contact", contact.mode.value,
                             contact.user_id))
    return found


def _claim_attempts(facts: PatientFacts, source: SourceFacts, claim_id: int | None
                    ) -> list[Attempt]:
    """Custom tracking statuses staff set on the claim (each is a call, a resubmission...)."""
    found = []
    for entry in facts.claim_tracking:
        if (entry.claim_id != claim_id or entry.entered_at is None or not entry.status_id
                or entry.entry_type != ClaimTrackingType.STATUS_HISTORY):
            continue
        status = source.definitions.get(entry.status_id)
        found.append(Attempt(entry.entered_at, status.name if status else "claim status",
                             None, entry.user_id))
    return found


def attempts_for(item: DesiredItem, facts: PatientFacts, source: SourceFacts,
                 settings: Attempts, since: date, tasks_done: Iterable[Attempt] = ()
                 ) -> list[Attempt]:
    """The attempts on this follow-up since the day it became owed, oldest first; tc-sync's
    own tasks staff marked done in the PMS (`tasks_done`) are attempts too."""
    if item.kind in INSURANCE_KINDS:
        found = _claim_attempts(facts, source, item.claim_id) if settings.claim_statuses else []
        if settings.insurance_contacts:
            found += _contact_attempts(facts, source, settings, insurance=True)
    else:
        found = _contact_attempts(facts, source, settings, insurance=False)
    found += tasks_done
    return sorted((a for a in found if a.at.date() >= since), key=lambda a: a.at)


def next_follow_up(owed_since: date, made: int, last_contact: datetime | None,
                   cadence: Cadence, not_before: date | None = None) -> date:
    """Owed at once; after the nth attempt, the cadence's nth step later (then every N);
    never before `not_before` (the day the item opened, or a suppression in the PMS ends)."""
    if made == 0 or last_contact is None:
        due = owed_since
    else:
        steps = cadence.after_days
        step = steps[made - 1] if made <= len(steps) else cadence.then_every_days
        due = last_contact.date() + timedelta(days=step)
    return due if not_before is None else max(due, not_before)


def escalated(made: int, cadence: Cadence) -> bool:
    return made >= cadence.escalate_after_attempts


def _money(cents: int) -> str:
    return f"${cents / 100:,.0f}"


def _age_words(kind: ItemKind, days: int) -> str:
    verb = {ItemKind.UNSCHEDULED_TREATMENT: "planned",
            ItemKind.PREDETERMINATION_RETURNED: "answered",
            ItemKind.CLAIM_OUTSTANDING: "owed", ItemKind.CLAIM_UNSENT: "owed",
            ItemKind.BROKEN_APPOINTMENT: "broken",
            ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: "planned",
            ItemKind.REFERRAL_NO_OUTCOME: "owed"}.get(kind, "owed")
    return f"{verb} today" if days == 0 else f"{verb} {days:,} day{'s' * (days != 1)} ago"


def priority(item: DesiredItem, mappings: Mappings, today: date, *, signed: bool = False,
             ) -> tuple[float, list[str]]:
    """Points ordering a queue, and the two or three reasons for them, in words.

    The value at stake (the amount; remaining benefits for expiring benefits) weighed by how
    likely it still is to be won, which halves every `half_life_days` owed, so a years-old
    item ranks below a recent one and age never grows a score; plus points for benefits about
    to renew with money left and for treatment the patient signed (`signed`, or the item's
    details say so); a follow-up owed before an appointment gains points as the day nears.
    """
    weights = mappings.priority
    amount = item.amount or 0
    age = item.age_days or 0
    chance = 0.5 ** (age / weights.half_life_days)
    points = max(amount, 0) / 10_000 * weights.per_100_dollars * chance
    reasons = [f"{_money(amount)} at stake" if amount > 0 else "no amount recorded"]
    if item.kind in BEFORE_VISIT:
        reasons[0] = f"{_money(amount)} of treatment booked" if amount > 0 else "a visit booked"
    elif item.kind == ItemKind.REFERRAL_NO_OUTCOME:
        reasons[0] = f"referred {item.details.get('days_open')} days ago, no outcome recorded"
    elif item.age_days is not None:     # no date known: no age to tell
        reasons[0] += f", {_age_words(item.kind, item.age_days)}"
    renews = item.details.get("benefits_renew_on")
    remaining = item.details.get("remaining_benefits")
    if item.kind == ItemKind.BENEFITS_EXPIRING and isinstance(renews, str):
        points += weights.benefits_expiring
        reasons.append(f"benefits renew {renews}, {_money(amount)} left")
    elif isinstance(renews, str) and isinstance(remaining, int) and remaining > 0 and (
            date.fromisoformat(renews) - timedelta(days=60) <= today):
        points += weights.benefits_expiring
        reasons.append(f"benefits renew {renews}, {_money(remaining)} left")
    if (signed or item.details.get("signed") is True) and item.kind in (
            ItemKind.UNSCHEDULED_TREATMENT, ItemKind.PREDETERMINATION_RETURNED):
        points += weights.signed_treatment
        reasons.append("the patient signed the treatment plan")
    visit = item.details.get("appointment_on")
    if item.kind in BEFORE_VISIT and isinstance(visit, str):
        days, window = (date.fromisoformat(visit) - today).days, item.details.get("window_days")
        span = (window if isinstance(window, int) else 7) + 1
        points += weights.visit_soon * max(0, span - max(days, 0)) / span
        reasons.insert(1, "appointment today" if days <= 0 else "appointment tomorrow"
                       if days == 1 else f"appointment in {days} days ({visit})")
    if chance < 0.25:
        reasons.append("long owed: little chance left")
    return round(points, 2), reasons[:3]


def is_aged(item: DesiredItem, mappings: Mappings) -> bool:
    """Owed longer than its kind's horizon: reported in the aged queue, not the day's work."""
    horizon = getattr(mappings.kinds, item.kind.value).horizon_days
    return horizon is not None and item.age_days is not None and item.age_days > horizon


def _matches(route: Route, item: DesiredItem) -> bool:
    return ((not route.kinds or item.kind.value in route.kinds)
            and (not route.clinics or item.clinic_id in route.clinics)
            and (not route.providers or item.provider_id in route.providers))


class OpenPerOwner(Mapping[str, int]):
    """Open items per owner, for round robin: read (`load`) only when a route first asks, so
    a practice whose routes and queues name no owners never reads them."""

    def __init__(self, load: Callable[[], dict[str, int]]) -> None:
        self._load = load
        self._counts: dict[str, int] | None = None

    @property
    def read(self) -> bool:
        """Whether the counts have been read."""
        return self._counts is not None

    def _all(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = self._load()
        return self._counts

    def __getitem__(self, owner: str) -> int:
        return self._all()[owner]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def given(self, owner: str) -> None:
        """`owner` has one more open item. Unread, nothing to count: a read after this
        finds the item in the ledger."""
        if self._counts is not None:
            self._counts[owner] = self._counts.get(owner, 0) + 1


def _least_loaded(names: list[str], open_per_owner: Mapping[str, int]) -> str:
    return min(names, key=lambda name: (open_per_owner.get(name, 0), names.index(name)))


def route(item: DesiredItem, mappings: Mappings, open_per_owner: Mapping[str, int]
          ) -> tuple[str, str | None]:
    """The queue and owner of a new item: the first matching route, else the kind's queue.

    Round robin gives the item to the route's owner with the fewest open items. With no owner
    from a route, the coordinators who work the queue (`owners`) share it the same way.
    """
    queue = getattr(mappings.kinds, item.kind.value).queue
    owner = None
    for candidate in mappings.routing:
        if _matches(candidate, item):
            queue = candidate.queue
            if candidate.owners:
                owner = candidate.owners[0]
                if candidate.assign == "round_robin":
                    owner = _least_loaded(candidate.owners, open_per_owner)
            break
    if owner is None:
        working = [name for name, who in mappings.owners.items() if queue in who.queues]
        if working:
            owner = _least_loaded(working, open_per_owner)
    return queue, owner
