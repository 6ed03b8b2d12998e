"""The demo practice's lab cases, referrals, insurance verifications, users and the procedures
on its treatment plans, written as Open Dental writes them.

These rows draw from a random stream of their own, so adding them leaves every row the main
generator makes exactly as it was. Rows are tuples in `odschema`'s column order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tc_sync.demo.context import NONE_DATE, NONE_DATETIME, Row

LABS = (("Summit Dental Lab", "(555)555-0181"), ("Precision Crown & Bridge", "(555)555-0182"),
        ("Cascade Denture Studio", "(555)555-0183"))
USERS = ("ana.coordinator", "dr.hartwell", "dr.okafor", "ben.frontdesk")
"""Users 1-3 present treatment plans."""
SPECIALTIES = ("Endodontics", "Oral Surgery", "Orthodontics", "Periodontics")
SPECIALISTS = (  # (first, last or business, organization, specialty index, phone)
    ("Iris", "Calloway", 0, 0, "5555550191"),
    ("", "Riverbend Oral Surgery", 1, 1, "5555550192"),
    ("Tomas", "Brandt", 0, 2, "5555550193"),
    ("Leila", "Farrow", 0, 3, "5555550194"),
    ("", "Northside Endodontic Group", 1, 0, "5555550195"),
)
INSURANCE_STATUSES = ("Verified", "Unverified", "Pending Call Back")
_REF_STATUS = (0,) * 4 + (1,) * 2 + (2,) * 2 + (3,) * 2 + (4,) * 1 + (5,) * 3


@dataclass(frozen=True)
class Appointment:
    """A scheduled appointment a lab case may be for: its key, day and procedure codes."""

    num: int
    day: int
    lab_work: bool


@dataclass(frozen=True)
class Plan:
    """A treatment plan the generator wrote: key, status (0 saved, 1 active, 2 inactive)."""

    num: int
    status: int
    day: int


@dataclass(frozen=True)
class PlannedProcedure:
    """A planned procedure on the chart: key, code and fee."""

    num: int
    code: str
    fee: float


class DutyRows:
    """Rows for one practice. `key`, `day` and `at` are the generator's: keys per table, and
    the date (time) `d` days from today."""

    def __init__(self, seed: int, key: Callable[[str], int], day: Callable[[int], str],
                 at: Callable[[int, int], str]) -> None:
        # Synthetic data, not security: a seeded PRNG is what makes the output reproducible.
        self.rng = random.Random(f"{seed}:duties")  # noqa: S311
        self.key, self.day, self.at = key, day, at
        self.specialty_defs: list[int] = []
        self.status_defs: list[int] = []

    def _stamp(self, d: int) -> str:
        return self.at(min(d, -1) if d < 0 else -1, 480 + self.rng.randrange(540))

    def seat_this_week(self) -> bool:
        """Whether a seat appointment with lab work falls this week (so the demo shows cases
        due back, received and not)."""
        return self.rng.random() < 0.3

    def definitions(self, first_order: int) -> Iterator[tuple[str, Row]]:
        """Referral specialties (category 35) and insurance verification statuses (38)."""
        for order, name in enumerate(SPECIALTIES, start=first_order):
            num = self.key("definition")
            self.specialty_defs.append(num)
            yield "definition", (num, 35, order, name, "", 0, 0)
        for order, name in enumerate(INSURANCE_STATUSES, start=first_order + len(SPECIALTIES)):
            num = self.key("definition")
            self.status_defs.append(num)
            yield "definition", (num, 38, order, name, "", 0, 0)

    def reference(self) -> Iterator[tuple[str, Row]]:
        """Labs, users and specialists."""
        for name, phone in LABS:
            yield "laboratory", (self.key("laboratory"), name, phone, "", 0, "1 Lab Way",
                                 "Riverton", "OR", "97001", "", "", 0)
        for name in USERS:
            yield "userod", (self.key("userod"), name, "", 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0,
                             NONE_DATETIME, 0, "", 0, "", 0, NONE_DATETIME)
        for first, last, organization, specialty, phone in SPECIALISTS:
            yield "referral", (
                self.key("referral"), last, first, "", "", 0, self.specialty_defs[specialty],
                "OR", phone, "", "", "", "", "", "", 0, organization, "", "", 0, None, 0,
                1 - organization, 0, self._stamp(-400), 0)

    def plan_verification(self, plan_num: int) -> Iterator[tuple[str, Row]]:
        """A plan's benefits verification: recent, stale or never."""
        r = self.rng.random()
        if r < 0.15:
            return
        age = self.rng.randint(0, 85) if r < 0.7 else self.rng.randint(91, 400)
        yield "insverify", self._verification(1, plan_num, age)

    def enrollment_verification(self, patplan_num: int) -> Iterator[tuple[str, Row]]:
        """A patient's enrollment verification: recent, stale or never."""
        r = self.rng.random()
        if r < 0.2:
            return
        age = self.rng.randint(0, 28) if r < 0.5 else self.rng.randint(31, 300)
        yield "insverify", self._verification(2, patplan_num, age)

    def _verification(self, kind: int, target: int, age: int) -> Row:
        status = self.status_defs[0] if age < 30 else self.rng.choice(self.status_defs)
        return (self.key("insverify"), self.day(-age), 0, kind, target, status, "", NONE_DATE,
                self.at(-age, 540), 0.0, self._stamp(-age))

    def plan_procedures(self, pat: int, plans: Sequence[Plan],
                        procedures: Sequence[PlannedProcedure]) -> Iterator[tuple[str, Row]]:
        """A saved plan's copies of the planned procedures (proctp); the active plan's
        attachments of them (treatplanattach)."""
        for plan in plans:
            if plan.status == 2:
                continue
            for order, procedure in enumerate(procedures):
                if plan.status == 0:
                    yield "proctp", (
                        self.key("proctp"), plan.num, pat, procedure.num, order, 0, "", "",
                        procedure.code, "", procedure.fee, round(procedure.fee * 0.5, 2), 0.0,
                        round(procedure.fee * 0.5, 2), 0.0, "", "", "", 1, self.day(plan.day),
                        self._stamp(plan.day), 0.0, 0.0, 0, self.day(plan.day), 0, 0.0)
                else:
                    yield "treatplanattach", (self.key("treatplanattach"), plan.num,
                                              procedure.num, 0)

    def lab_case(self, pat: int, appointment: Appointment, planned: int
                 ) -> Iterator[tuple[str, Row]]:
        """A lab case for a scheduled appointment with lab work: sent two weeks before, due two
        days before, received or not."""
        rng = self.rng
        if not appointment.lab_work and rng.random() < 0.6:
            return
        d = appointment.day
        created = min(d - 16, -1)
        sent = self.at(created + 1, 900) if rng.random() < 0.85 else NONE_DATETIME
        received = sent != NONE_DATETIME and rng.random() < (0.4 if d <= 7 else 0.15)
        recd = self.at(min(d - 2, -1), 700) if received else NONE_DATETIME
        checked = self.at(min(d - 1, -1), 800) if received and rng.random() < 0.5 else (
            NONE_DATETIME)
        yield "labcase", (
            self.key("labcase"), pat, 1 + rng.randrange(len(LABS)), appointment.num, planned,
            self.at(d - 2, 1020), self.at(created, 600), sent, recd, checked, 1, "", 0.0,
            self._stamp(created), "")

    def planned_lab_case(self, pat: int, planned: int, day: int) -> Iterator[tuple[str, Row]]:
        """A lab case attached only to a planned appointment (the seat not booked yet)."""
        if self.rng.random() < 0.25:
            yield "labcase", (
                self.key("labcase"), pat, 1 + self.rng.randrange(len(LABS)), 0, planned,
                NONE_DATETIME, self.at(min(day, -1), 600), NONE_DATETIME, NONE_DATETIME,
                NONE_DATETIME, 1, "", 0.0, self._stamp(day), "")

    def referrals(self, pat: int, first_day: int) -> Iterator[tuple[str, Row]]:
        """Now and then a referral to a specialist (any status) or from a referral source."""
        rng = self.rng
        if rng.random() < 0.12:
            status = rng.choice(_REF_STATUS)
            d = rng.randint(max(first_day, -400), -1)
            complete = self.day(min(d + rng.randint(10, 60), -1)) if status == 5 and (
                rng.random() < 0.7) else NONE_DATE
            yield "refattach", (
                self.key("refattach"), 1 + rng.randrange(len(SPECIALISTS)), pat, 1, self.day(d),
                0, status, "", 0, 0, complete, 1, self._stamp(d))
        if rng.random() < 0.1:
            d = max(first_day, -3000)
            yield "refattach", (
                self.key("refattach"), 1 + rng.randrange(len(SPECIALISTS)), pat, 0, self.day(d),
                1, 0, "", 0, 0, NONE_DATE, 0, self._stamp(d))
