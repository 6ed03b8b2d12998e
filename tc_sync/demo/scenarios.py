"""The cases the demo practice must show: the ones forced onto its first patients (so a small
practice covers every case several times), and where a patient's treatment stands."""

from __future__ import annotations

from dataclasses import dataclass

from tc_sync.demo.context import Context
from tc_sync.demo.model import Coverage, Person

#: Where outstanding treatment stands, weighted (pick with rng.choice).
TX_STATES = ("none",) * 34 + ("unscheduled",) * 22 + ("scheduled",) * 16 + ("planned",) * 9 \
    + ("planned_scheduled",) * 7 + ("broken",) * 7 + ("unsched_list",) * 5

#: Claim cases (ClaimStatus, then the age bucket or the outcome) and how many days ago, fewest
#: and most, the visit of a claim forced into that case was.
CLAIM_AGES = {
    "U": (3, 10),
    "S:0-30": (8, 25),
    "S:31-60": (38, 55),
    "S:61-90": (66, 85),
    "S:90+": (100, 260),
    "S:tracking": (20, 120),
    "R:paid": (60, 200),
    "R:denied": (30, 200),
    "R:under": (30, 200),
}


@dataclass(frozen=True)
class Scenario:
    """A case forced onto one of the first patients, so small practices cover every case."""

    tx: str
    insured: bool = True
    status: int = 0
    preauth: str | None = None
    claim: str | None = None


_FORCED = (
    Scenario("unscheduled", claim="S:0-30"),
    Scenario("unscheduled", preauth="pending", claim="S:31-60"),
    Scenario("unscheduled", preauth="returned", claim="S:61-90"),
    Scenario("scheduled", claim="S:90+"),
    Scenario("scheduled", preauth="returned", claim="U"),
    Scenario("planned", claim="R:denied"),
    Scenario("planned_scheduled", claim="R:under"),
    Scenario("broken", claim="S:tracking"),
    Scenario("unsched_list", claim="R:paid"),
    Scenario("unscheduled", status=2),
    Scenario("unscheduled", status=3),
    Scenario("none", insured=False),
    Scenario("unscheduled", insured=False),
    Scenario("planned", preauth="pending"),
    Scenario("broken", insured=False),
    Scenario("none", claim="S:0-30"),
)
_FORCED_ROUNDS = 4


def forced(idx: int) -> Scenario | None:
    """The case forced onto the patient at ``idx`` (0-based), if any."""
    if idx < len(_FORCED) * _FORCED_ROUNDS:
        return _FORCED[idx % len(_FORCED)]
    return None


def outlook(
    ctx: Context, person: Person, sc: Scenario | None, primary: Coverage | None
) -> tuple[str, str | None]:
    """Where the patient's treatment stands, and any predetermination for it."""
    rng = ctx.rng
    if sc:
        tx = sc.tx
    elif person.status in (2, 3):
        tx = rng.choice(("none", "unscheduled", "unscheduled", "planned"))
    elif person.status == 0:
        tx = rng.choice(TX_STATES)
    else:
        tx = "none"
    preauth = sc.preauth if sc else None
    if sc is None and tx != "none" and rng.random() < 0.3:
        preauth = "pending" if rng.random() < 0.5 else "returned"
    if primary is None or primary.plan.plan_type == "c":
        preauth = None
    return tx, preauth
