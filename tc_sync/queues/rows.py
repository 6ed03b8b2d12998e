"""Queue rows: each open item joined with what a coordinator needs to act on it.

The item carries its kind-specific facts in `details` (bucket, carrier, remaining benefits);
the replica adds the patient's name and contact, plain procedure descriptions, the procedures
behind a claim or appointment, and the clinic. Loading is a few queries per source; the rest
(contact choice, ages, sorting) is pure.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

import sqlalchemy as sa

from tc_sync.config.mappings import AGED_QUEUE
from tc_sync.items.model import ItemKind
from tc_sync.ledger.schema import items, replica
from tc_sync.queues.details import party_of, signed_of, status_of
from tc_sync.queues.labels import Labels, source_labels
from tc_sync.queues.pricing import PlannedProcedure, patient_portion, planned_procedures, priced
from tc_sync.queues.shared import SharedValues
from tc_sync.records import ClaimProcedure, Patient, Procedure

KIND_LABELS: dict[ItemKind, str] = {
    ItemKind.UNSCHEDULED_TREATMENT: "Unscheduled treatment",
    ItemKind.PREDETERMINATION_PENDING: "Predetermination pending",
    ItemKind.PREDETERMINATION_RETURNED: "Predetermination back: present to patient",
    ItemKind.CLAIM_UNSENT: "Claim not sent",
    ItemKind.CLAIM_OUTSTANDING: "Claim outstanding",
    ItemKind.CLAIM_DENIED: "Claim denied",
    ItemKind.CLAIM_UNDERPAID: "Claim underpaid",
    ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED: "Planned appointment not scheduled",
    ItemKind.BROKEN_APPOINTMENT: "Broken appointment",
    ItemKind.BENEFITS_EXPIRING: "Benefits expiring",
    ItemKind.LAB_CASE_NOT_READY: "Lab case not back",
    ItemKind.REFERRAL_NO_OUTCOME: "Referral: no outcome",
    ItemKind.INSURANCE_NOT_VERIFIED: "Insurance not verified",
}
"""What each kind is called on a coordinator's screen."""

CONTACT_LABELS: dict[str, str] = {
    "home_phone": "Home phone", "work_phone": "Work phone", "mobile_phone": "Mobile phone",
    "text": "Text", "email": "Email", "mail": "Mail", "do_not_call": "Do not call",
    "see_notes": "See notes", "none": "",
}

_AGED_FROM_SENT = {ItemKind.CLAIM_OUTSTANDING, ItemKind.PREDETERMINATION_PENDING}
_BORROWS_BENEFITS = {ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED,
                     ItemKind.PREDETERMINATION_RETURNED}
TREATMENT_KINDS = frozenset({
    ItemKind.UNSCHEDULED_TREATMENT, ItemKind.PREDETERMINATION_RETURNED,
    ItemKind.BENEFITS_EXPIRING, ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED,
    ItemKind.BROKEN_APPOINTMENT})
"""Follow-ups about a patient's planned procedures: their dollars are the procedures'."""
_BOOKED_KINDS = frozenset({
    ItemKind.BROKEN_APPOINTMENT, ItemKind.LAB_CASE_NOT_READY, ItemKind.INSURANCE_NOT_VERIFIED})
"""Follow-ups about an appointment: their dollars are the treatment booked on it."""
_PRICED_KINDS = TREATMENT_KINDS | _BOOKED_KINDS | {ItemKind.PREDETERMINATION_PENDING}
"""Follow-ups whose dollars may be planned procedures' (a claim's are done procedures')."""
_CHUNK = 500
_BATCH = 5000
"""Items turned into rows at a time."""
_Id = TypeVar("_Id", int, None)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One open item as a coordinator sees it. Money in dollars, times as the PMS wrote them."""

    item_key: str
    source_id: str
    kind: ItemKind
    queue: str
    priority: float
    next_follow_up: date
    what: str
    patient: str
    preferred_name: str
    contact_by: str
    contact: str
    patient_id: int
    claim_id: int | None
    appointment_id: int | None
    procedure_ids: tuple[int, ...]
    codes: tuple[str, ...]
    treatment: str
    amount: Decimal | None
    age_days: int | None
    """None: the PMS date it counts from is blank."""
    remaining_benefits: Decimal | None
    benefits_renew_on: date | None
    carrier: str
    carrier_phone: str
    date_sent: date | None
    bucket: str
    estimate: Decimal | None
    paid: Decimal | None
    status: str
    last_contact_at: datetime | None
    attempts: int
    escalated: bool
    owner: str
    clinic_id: int | None
    clinic: str
    days_at_carrier: int | None = None
    """A claim or predetermination awaiting the carrier: days since it was sent."""
    reasons: tuple[str, ...] = ()
    """Why now, as the item's rules put it (`details["reasons"]`); empty: derive one."""
    parts: tuple[QueueRow, ...] = ()
    """A patient's row made of several follow-ups: each of them (empty: the row is one)."""
    priced: tuple[tuple[int, Decimal], ...] | None = None
    """The planned procedures the amount is made of, each with its dollars (None: the amount
    is not a sum of planned procedures, e.g. a claim's fee)."""
    provider: str = ""
    date_planned: date | None = None
    """The earliest date its planned procedures were planned."""
    patient_portion: Decimal | None = None
    """Fee less insurance estimate, where the estimates allow."""
    appointment_on: date | None = None
    """The appointment a lab case or a verification is owed before."""
    party: str = ""
    """Who to call besides the patient: the lab or the specialist, with their phone."""
    signed: str = ""
    """Treatment the patient signed for: when, and who presented the plan."""
    _digest: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """`digest`, once made (a row made from this one by `replace` makes its own)."""

    @property
    def digest(self) -> bytes:
        """What the row shows, as a digest: made once, and kept with the row (the rows kept
        between builds are not digested again at every build)."""
        found = self._digest
        if found is None:       # 16 bytes: ample to tell a row's versions apart, half of sha256's
            found = hashlib.blake2b(repr(self).encode("utf-8"), digest_size=16).digest()
            object.__setattr__(self, "_digest", found)
        return found

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the items this row stands for."""
        return tuple(part.item_key for part in self.parts) or (self.item_key,)


def contact_for(method: str, *, home: str, work: str, mobile: str,
                email: str) -> tuple[str, str]:
    """The preferred contact method's label and the phone or email that goes with it.

    When the preferred one is blank (the label then says "none on file") or there is no
    preference, the first phone on file is given, then the email; "do not call" gives the
    email only.
    """
    label = CONTACT_LABELS.get(method, method.replace("_", " ").capitalize())
    if method == "do_not_call":
        return label, email
    matching = {"home_phone": home, "work_phone": work, "mobile_phone": mobile,
                "text": mobile, "email": email}
    if matching.get(method):
        return label, matching[method]
    if method in matching:
        label = f"{label} (none on file)"
    return label, next((value for value in (mobile, home, work, email) if value), "")


_KEY, _FOLLOW_UP, _PRIORITY = (attrgetter(name) for name in (
    "item_key", "next_follow_up", "priority"))


def sort_rows(rows: Iterable[QueueRow]) -> list[QueueRow]:
    """What to do first: highest priority, then the earliest follow-up (then the key).

    Three stable sorts, the last key first, each by one attribute: a third faster than one
    sort by a tuple of the three (every build sorts every row)."""
    ordered = sorted(rows, key=_KEY)
    ordered.sort(key=_FOLLOW_UP)
    ordered.sort(key=_PRIORITY, reverse=True)       # stays stable reversed
    return ordered


def queue_order(name: str) -> tuple[bool, str]:
    """Queues alphabetically, the aged queue (reported, not the day's work) last."""
    return name == AGED_QUEUE, name


def by_queue(rows: Iterable[QueueRow], queues: Iterable[str]) -> dict[str, list[QueueRow]]:
    """Rows per queue, sorted; every named queue is present, even when it has no rows."""
    grouped: dict[str, list[QueueRow]] = {name: [] for name in queues}
    for row in rows:
        grouped.setdefault(row.queue, []).append(row)
    return {name: sort_rows(grouped[name]) for name in sorted(grouped, key=queue_order)}


def dollars(cents: Any) -> Decimal | None:
    """Whole cents (as the ledger and item details keep money) in dollars."""
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


class _SourceFacts:
    """What the replica adds to one source's open items, read in a few queries."""

    def __init__(self, connection: sa.Connection, source_id: str,
                 open_items: Sequence[Mapping[str, Any]], labels: Labels,
                 shared: SharedValues | None = None) -> None:
        self.source_id = source_id
        self.shared = shared or SharedValues()
        self.details = {item["item_key"]: json.loads(item["details"]) for item in open_items}
        self.patients = self._patients(connection, {i["patient_id"] for i in open_items})
        self.shown_patients: dict[int, tuple[str, str, str, str]] = {}
        self.descriptions, self.clinics, self.providers = labels
        self.claim_procedures = self._claim_procedures(
            connection, {i["claim_id"] for i in open_items if i["claim_id"] is not None})
        self.planned, self.booked, self.codes = self._appointment_procedures(
            connection, {i["appointment_id"]: i["patient_id"] for i in open_items
                         if i["appointment_id"] is not None})
        self.benefits: dict[int, dict[str, Any]] = {}
        self.treatment: dict[int, tuple[int, ...]] = {}
        for item in open_items:
            details = self.details[item["item_key"]]
            if "insured" in details:
                self.benefits[item["patient_id"]] = details
            if item["kind"] == ItemKind.UNSCHEDULED_TREATMENT:
                self.treatment[item["patient_id"]] = tuple(details.get("procedures", ()))
        self.priced_memo: dict[tuple[tuple[int, ...], Decimal | None],
                               tuple[tuple[int, Decimal], ...] | None] = {}
        self.priced_pairs: dict[int, tuple[int, Decimal]] = {}
        self.procedure_ids: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.ids: dict[int, int] = {}
        """One int object per id the rows hold (each item's row read its own copy)."""
        self.prices = planned_procedures(connection, source_id, {
            procedure: item["patient_id"] for item in open_items
            if item["kind"] in _PRICED_KINDS
            for procedure in self.procedures(ItemKind(item["kind"]), item,
                                             self.details[item["item_key"]])})

    def _patients(self, connection: sa.Connection, ids: set[int]) -> dict[int, Any]:
        table = replica[Patient]
        found: dict[int, Any] = {}
        for chunk in _chunks(ids):
            found.update((row.pms_id, row) for row in connection.execute(sa.select(
                table.c.pms_id, table.c.last_name, table.c.first_name, table.c.preferred_name,
                table.c.preferred_contact, table.c.home_phone, table.c.work_phone,
                table.c.mobile_phone, table.c.email).where(
                table.c.source_id == self.source_id, table.c.pms_id.in_(chunk))))
        return found

    def _claim_procedures(self, connection: sa.Connection,
                          claim_ids: set[int]) -> dict[int, tuple[int, ...]]:
        table = replica[ClaimProcedure]
        found: dict[int, set[int]] = defaultdict(set)
        for chunk in _chunks(claim_ids):
            for claim_id, procedure_id in connection.execute(sa.select(
                    table.c.claim_id, table.c.procedure_id).where(
                    table.c.source_id == self.source_id, table.c.claim_id.in_(chunk),
                    table.c.procedure_id.is_not(None), table.c.deleted_at.is_(None))):
                found[claim_id].add(procedure_id)
        return {claim: tuple(sorted(ids)) for claim, ids in found.items()}

    def _appointment_procedures(self, connection: sa.Connection, patients: Mapping[int, int]
                                ) -> tuple[dict[int, list[int]], dict[int, list[int]],
                                           dict[int, str]]:
        """Planned procedures of a planned appointment, procedures booked on one, codes.

        `patients` gives each appointment's patient: the procedures are found among that
        patient's (the replica's index; the rules that opened the item looked there too), so
        each read costs what it returns, not a pass over every procedure of the practice.
        """
        table = replica[Procedure]
        planned: dict[int, list[int]] = defaultdict(list)
        booked: dict[int, list[int]] = defaultdict(list)
        codes: dict[int, str] = {}
        for chunk in _chunks(patients):
            wanted = set(chunk)
            found = connection.execute(sa.select(
                table.c.pms_id, table.c.code, table.c.status, table.c.appointment_id,
                table.c.planned_appointment_id).where(
                table.c.source_id == self.source_id,
                table.c.patient_id.in_(sorted({patients[a] for a in chunk})),
                table.c.deleted_at.is_(None),
                sa.or_(table.c.appointment_id.in_(chunk),
                       table.c.planned_appointment_id.in_(chunk))))
            # Sorted here: ORDER BY in the query would lead SQLite to walk the primary key.
            for row in sorted(found, key=lambda row: row.pms_id):
                codes[row.pms_id] = row.code or ""
                if row.planned_appointment_id in wanted and row.status == "planned":
                    planned[row.planned_appointment_id].append(row.pms_id)
                if row.appointment_id in wanted:
                    booked[row.appointment_id].append(row.pms_id)
        return planned, booked, codes

    def procedures(self, kind: ItemKind, item: Mapping[str, Any],
                   details: Mapping[str, Any]) -> tuple[int, ...]:
        """The PMS procedure ids an item is about."""
        if "procedures" in details:
            return tuple(details["procedures"])
        if kind == ItemKind.BENEFITS_EXPIRING:
            return self.treatment.get(item["patient_id"], ())
        if kind == ItemKind.PLANNED_APPOINTMENT_UNSCHEDULED:
            return tuple(self.planned.get(item["appointment_id"], ()))
        if kind in _BOOKED_KINDS:
            return tuple(self.booked.get(item["appointment_id"], ()))
        if item["claim_id"] is not None:
            return self.claim_procedures.get(item["claim_id"], ())
        return ()

    def row(self, item: Mapping[str, Any], today: date) -> QueueRow:
        kind = ItemKind(item["kind"])
        details = self.details[item["item_key"]]
        procedures = self.procedures(kind, item, details)
        procedures = self.procedure_ids.get(procedures) or self.procedure_ids.setdefault(
            procedures, tuple(map(self.shared_id, procedures)))     # one tuple per patient
        shared = self.shared
        text, day = shared.text.setdefault, shared.days.setdefault

        def money(cents: Any) -> Decimal | None:
            value = dollars(cents)     # always two decimal places: equal amounts print alike
            return shared.money.setdefault(value, value)
        codes = tuple(item["codes"].split()) or tuple(
            code for code in (self.codes.get(p, "") for p in procedures) if code)
        codes = shared.codes.setdefault(codes, codes)
        treatment = shared.treatment.get((self.source_id, codes))
        if treatment is None:
            treatment = shared.treatment[self.source_id, codes] = "; ".join(
                self.descriptions.get(code, code) for code in dict.fromkeys(codes))
        benefits = details if "insured" in details else (
            self.benefits.get(item["patient_id"], {}) if kind in _BORROWS_BENEFITS else {})
        carrier = details.get("carrier") or benefits.get("carrier") or (
            "No insurance" if benefits.get("insured") is False else "")
        sent = _day(details.get("date_sent"))
        aged_from = sent if kind in _AGED_FROM_SENT and sent else item["owed_since"]
        name, preferred, contact_by, contact = self.patient(item["patient_id"])
        clinic_id = item["clinic_id"]
        return QueueRow(
            item_key=item["item_key"], source_id=self.source_id, kind=kind,
            queue=text(item["queue"], item["queue"]), priority=float(item["priority"]),
            next_follow_up=day(item["next_follow_up"], item["next_follow_up"]),
            what=KIND_LABELS[kind], patient=name, preferred_name=preferred, contact_by=contact_by,
            contact=contact,
            patient_id=self.shared_id(item["patient_id"]),
            claim_id=self.shared_id(item["claim_id"]),
            appointment_id=self.shared_id(item["appointment_id"]), procedure_ids=procedures,
            codes=codes,
            treatment=treatment, amount=money(item["amount"]),
            age_days=None if aged_from is None else max(0, (today - aged_from).days),
            remaining_benefits=money(benefits.get("remaining_benefits")),
            benefits_renew_on=day(renew := _day(benefits.get("benefits_renew_on")), renew),
            carrier=text(carrier, carrier),
            carrier_phone=text(phone := details.get("carrier_phone")
                               or benefits.get("carrier_phone") or "", phone),
            date_sent=day(sent, sent), bucket=text(bucket := details.get("bucket") or "", bucket),
            estimate=money(details.get("estimate")), paid=money(details.get("paid")),
            status=text(status := status_of(details), status),
            last_contact_at=day(item["last_contact_at"], item["last_contact_at"]),
            attempts=item["attempts"], escalated=bool(item["escalated"]),
            owner=text(owner := item["owner"] or "", owner), clinic_id=clinic_id,
            clinic=self.clinics.get((self.source_id, clinic_id), "") if clinic_id else "",
            days_at_carrier=max(0, (today - sent).days) if sent and kind in _AGED_FROM_SENT
            else None,
            reasons=self._reasons(details.get("reasons")),
            appointment_on=day(visit := _day(details.get("appointment_on")), visit),
            party=party_of(details), signed=signed_of(details),
            **self._planned(kind, item, details, procedures))

    def shared_id(self, value: _Id) -> _Id:
        """`value`, as the one object the rows share for it."""
        return value if value is None else self.ids.setdefault(value, value)

    def _planned(self, kind: ItemKind, item: Mapping[str, Any], details: Mapping[str, Any],
                 procedures: tuple[int, ...]) -> dict[str, Any]:
        """Provider, date planned, patient portion and the priced procedures of a row (for
        any follow-up about planned procedures, so that totals count their dollars once)."""
        provider = self.providers.get(item["provider_id"] or 0, "")
        if kind not in TREATMENT_KINDS:
            return {"provider": provider,
                    "priced": self._priced(procedures, dollars(item["amount"]))
                    if kind in _PRICED_KINDS else None}
        mine = [self.prices[p] for p in procedures if p in self.prices]
        planned = [p.date_planned for p in mine if p.date_planned is not None]
        expected = dollars(details.get("treatment_amount") if kind == ItemKind.BENEFITS_EXPIRING
                           else item["amount"])
        return {"provider": provider or _first_provider(mine, self.providers),
                "date_planned": min(planned) if planned else None,
                "patient_portion": self.shared.money.setdefault(
                    portion := patient_portion(procedures, self.prices), portion),
                "priced": self._priced(procedures, expected)}

    def _priced(self, procedures: tuple[int, ...],
                expected: Decimal | None) -> tuple[tuple[int, Decimal], ...] | None:
        """`priced`, one tuple for the rows naming the same procedures at the same dollars (a
        patient's unscheduled treatment, benefits and planned appointment mostly do), made of
        one pair per procedure: a large practice's rows would otherwise hold ~20 MB of them."""
        key = (procedures, expected)
        if key in self.priced_memo:
            return self.priced_memo[key]
        found = priced(procedures, self.prices, expected)
        if found is not None:
            pairs, money = self.priced_pairs, self.shared.money
            found = tuple(pairs.get(procedure) or pairs.setdefault(
                procedure, (procedure, money.setdefault(amount, amount) or amount))
                for procedure, amount in found)
        self.priced_memo[key] = found
        return found

    def _reasons(self, reasons: Any) -> tuple[str, ...]:
        """The item's reasons, one tuple for the rows that give the same ones."""
        text = self.shared.text.setdefault
        found = tuple(text(why, why) for why in map(str, reasons or ()))
        return self.shared.reasons.setdefault(found, found)

    def patient(self, patient_id: int) -> tuple[str, str, str, str]:
        """The patient's name, preferred name, contact method and contact (once per patient)."""
        shown = self.shown_patients.get(patient_id)
        if shown is None:
            shown = self.shown_patients[patient_id] = self._patient(patient_id)
        return shown

    def _patient(self, patient_id: int) -> tuple[str, str, str, str]:
        patient = self.patients.get(patient_id)
        if patient is None:
            return f"(patient {patient_id} not in the ledger)", "", "", ""
        name = ", ".join(part for part in (patient.last_name, patient.first_name) if part)
        label, contact = contact_for(
            patient.preferred_contact or "none", home=patient.home_phone or "",
            work=patient.work_phone or "", mobile=patient.mobile_phone or "",
            email=patient.email or "")
        return name, patient.preferred_name or "", label, contact


def _first_provider(procedures: Sequence[PlannedProcedure], labels: Mapping[int, str]) -> str:
    return next((labels[p.provider_id] for p in procedures
                 if p.provider_id is not None and p.provider_id in labels), "")


_SHOWN = ("item_key", "source_id", "kind", "patient_id", "claim_id", "appointment_id",
          "clinic_id", "provider_id", "amount", "codes", "details", "owed_since",
          "next_follow_up", "attempts", "last_contact_at", "escalated", "priority", "queue",
          "owner")
"""The item columns a queue row is made from."""


def load_rows(connection: sa.Connection, source_ids: Sequence[str],
              today: date) -> list[QueueRow]:
    """Every open item of these sources as a queue row, highest priority first."""
    rows: list[QueueRow] = []
    shared = SharedValues()
    for source_id in source_ids:
        rows += source_rows(connection, source_id, today, shared)
    return sort_rows(rows)


def source_rows(connection: sa.Connection, source_id: str, today: date, shared: SharedValues,
                patients: Collection[int] | None = None) -> list[QueueRow]:
    """The open items of one source (of `patients` only, if given) as queue rows, unsorted.

    Items are read a few thousand patients at a time (a patient's items together: one
    item's row may borrow another's facts), so what the replica adds is held for those only.
    """
    labels = source_labels(connection, source_id)
    query = sa.select(*(items.c[name] for name in _SHOWN)).where(
        items.c.source_id == source_id, items.c.status == "open")
    if patients is None:
        found: Iterable[sa.RowMapping] = connection.execute(
            query.order_by(items.c.patient_id)).mappings()
    else:
        found = (item for chunk in _chunks(patients) for item in connection.execute(
            query.where(items.c.patient_id.in_(chunk)).order_by(items.c.patient_id)).mappings())
    rows: list[QueueRow] = []
    batch: list[Mapping[str, Any]] = []
    for item in found:
        if len(batch) >= _BATCH and item["patient_id"] != batch[-1]["patient_id"]:
            rows += _rows(connection, source_id, batch, labels, today, shared)
            batch = []
        batch.append(dict(item))
    rows += _rows(connection, source_id, batch, labels, today, shared)
    return rows


def _rows(connection: sa.Connection, source_id: str, batch: Sequence[Mapping[str, Any]],
          labels: Labels, today: date, shared: SharedValues) -> list[QueueRow]:
    if not batch:
        return []
    facts = _SourceFacts(connection, source_id, batch, labels, shared)
    return [facts.row(item, today) for item in batch]
