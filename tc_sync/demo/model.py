"""What the demo generator's parts hand each other: codes, patients, coverage, procedures.

Days are counted from the practice's today (negative in the past).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """A procedure code as the generator uses it (see ``codes.CODES``)."""

    num: int
    code: str
    abbr: str
    fee: float
    area: int
    covcat: int
    kind: str
    hygiene: bool
    anterior_only: bool


@dataclass
class InsurancePlan:
    """An insurance plan: its type ('' percentage, p PPO, f flat copay, c capitation), its
    percentage per coverage category and the PPO write-off share."""

    num: int
    plan_type: str
    pct: dict[int, int]
    write_off: float


@dataclass
class Coverage:
    """A patient's coverage: the subscription (inssub) and its plan, the patient's relationship
    to the subscriber, the days it is in effect, and the patient's patplan row."""

    sub: int
    plan: InsurancePlan
    relat: int
    eff_day: int
    term_day: int | None
    patplan: int


@dataclass
class Person:
    """Who a patient is: status, family head, tenure (first and last day), age, clinic,
    dentist, and the claim case forced on them (if any)."""

    pat: int
    head: int
    status: int
    history: bool
    first_day: int
    end_day: int
    age: int
    clinic: int
    dentist: int
    claim_case: str | None

    @property
    def child(self) -> bool:
        """Under 18."""
        return self.age < 18


@dataclass
class Procedure:
    """A procedure written to the chart, as claims and estimates need it."""

    num: int
    code: Code
    fee: float
    day: int
    prov: int
