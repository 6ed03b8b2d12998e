"""The demo practice's insurance: carriers, plans and their benefits, coverage categories, and
each patient's coverage (subscriptions and patplans)."""

from __future__ import annotations

from collections.abc import Iterator

from tc_sync.demo.codes import (
    CROWN,
    DIAG,
    ENDO,
    NOT_BILLED,
    ORTHO,
    PERIO,
    PREV,
    PROS,
    RESTO,
    SURG,
    XRAY,
)
from tc_sync.demo.context import CITIES, NONE_DATE, Context, Row, Rows
from tc_sync.demo.model import Coverage, InsurancePlan, Person

_CARRIER_WORDS = (
    "Acme", "Bluebird", "Cascade", "Delta Point", "Evergreen", "Frontier", "Granite", "Harbor",
    "Keystone", "Lighthouse", "Meridian", "Northstar", "Pinnacle", "Redwood", "Summit", "Trillium",
    "Union Peak", "Vista", "Westward", "Zenith",
)
_CARRIER_KINDS = ("Dental Mutual", "Benefit Services", "Dental Plans")
_EMPLOYERS = (
    "Northwind Logistics", "Contoso School District", "Fabrikam Foods", "Tailspin Aviation",
    "Litware Labs", "Adventure Works", "Proseware Inc", "Wingtip Retail", "Coho Vineyard",
    "Margie Travel", "Lucerne Publishing", "Woodgrove Credit Union",
)


def coverage_categories() -> Iterator[tuple[str, Row]]:
    """The covcat rows and their code ranges (covspan)."""
    # CovCatNum = the codes module's category constants; EbenefitCat as Open Dental seeds them.
    for order, (num, name, percent, ebenefit) in enumerate((
            (DIAG, "Diagnostic", 100, 2), (XRAY, "X-Ray", 100, 13),
            (PREV, "Preventive", 100, 12), (RESTO, "Restorative", 80, 4),
            (ENDO, "Endo", 80, 5), (PERIO, "Perio", 80, 3),
            (SURG, "Oral Surgery", 80, 11), (CROWN, "Crowns", 50, 7),
            (PROS, "Prosthodontics", 50, 10), (ORTHO, "Orthodontics", 50, 9),
            (NOT_BILLED, "General", -1, 1))):
        yield "covcat", (num, name, percent, order, 0, ebenefit)
    # The code ranges of each category, as Open Dental's setup lists them.
    for span, (num, low, high) in enumerate((
            (DIAG, "D0100", "D0999"), (XRAY, "D0200", "D0399"),
            (PREV, "D1000", "D1999"), (RESTO, "D2000", "D2699"),
            (ENDO, "D3000", "D3999"), (PERIO, "D4000", "D4999"),
            (SURG, "D7000", "D7999"), (CROWN, "D2700", "D2999"),
            (PROS, "D5000", "D6999"), (ORTHO, "D8000", "D8999")), start=1):
        yield "covspan", (span, num, low, high)


class Insurance:
    """Carriers and plans (written once, with the reference rows), then each patient's
    coverage on those plans."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.carriers = min(40, max(8, ctx.spec.patients // 25))
        self.n_plans = min(300, max(20, ctx.spec.patients // 10))
        self.plans: list[InsurancePlan] = []

    def carriers_and_plans(self) -> Iterator[tuple[str, Row]]:
        """The carrier rows, then each plan's insplan row and benefits."""
        ctx = self.ctx
        rng = ctx.rng
        for i in range(self.carriers):
            num = ctx.key("carrier")
            word = _CARRIER_WORDS[i % len(_CARRIER_WORDS)]
            kind = _CARRIER_KINDS[(i // len(_CARRIER_WORDS)) % len(_CARRIER_KINDS)]
            yield "carrier", (
                num, f"{word} {kind}", f"PO Box {1000 + i}", "", rng.choice(CITIES), "OR",
                f"9{rng.randint(1000, 9999)}", f"(555)555-01{i % 100:02d}", f"{60000 + i}",
                0, 0, 0, 1 if i == self.carriers - 1 else 0, 1, ctx.day(-1400),
                ctx.stamp(rng.randint(-1400, -300)), "", 0, 0, 0,
            )
        for i in range(self.n_plans):
            num = ctx.key("insplan")
            plan_type = "c" if i % 20 == 19 else "f" if i % 20 == 9 else "p" if i % 2 else ""
            month = 0 if i % 4 != 3 else (2, 4, 7, 9, 10, 6)[(i // 4) % 6]
            prev = rng.choice((100, 100, 80))
            basic = rng.choice((80, 80, 70))
            major = rng.choice((50, 50, 60))
            pct = {
                DIAG: prev, XRAY: prev, PREV: prev, RESTO: basic, ENDO: basic,
                PERIO: basic, SURG: basic, CROWN: major, PROS: major, ORTHO: 50, NOT_BILLED: 0,
            }
            plan = InsurancePlan(
                num, plan_type, pct, rng.uniform(0.15, 0.35) if plan_type == "p" else 0.0
            )
            self.plans.append(plan)
            employer = _EMPLOYERS[i % len(_EMPLOYERS)]
            yield "insplan", (
                num, employer, f"G{10000 + i}", "", 0, plan_type, 1, 0, 0, 0, 0,
                1 + rng.randrange(self.carriers), 0, "", "", 0, 0, 0, month, 0, 1,
                ctx.day(-1400), ctx.stamp(rng.randint(-1400, -30)), 0, 0,
            )
            yield from self._benefits(plan, month)

    def _benefits(self, plan: InsurancePlan, month: int) -> Iterator[tuple[str, Row]]:
        ctx = self.ctx
        rng = ctx.rng
        period = 2 if month == 0 else 1
        entered = ctx.at(-1400, 9 * 60)

        def benefit(
            covcat: int, btype: int, percent: int, amount: float, tperiod: int, qual: int = 0,
            qty: int = 0, code: int = 0, level: int = 0,
        ) -> tuple[str, Row]:
            return "benefit", (
                ctx.key("benefit"), plan.num, 0, covcat, btype, percent, amount, tperiod, qual,
                qty, code, level, entered, ctx.stamp(rng.randint(-1400, -20)),
            )

        for covcat in (DIAG, XRAY, PREV, RESTO, ENDO, PERIO, SURG, CROWN, PROS):
            yield benefit(covcat, 1, plan.pct[covcat], -1.0, 0)
        # Annual maximum: a limitation with no category, individual, per benefit year.
        yield benefit(0, 5, -1, float(rng.choice((1000, 1250, 1500, 2000, 2500))), period, level=1)
        yield benefit(0, 2, -1, 50.0, period, level=1)
        yield benefit(0, 2, -1, 150.0, period, level=2)
        if rng.random() < 0.5:
            yield benefit(PREV, 2, -1, 0.0, period, level=1)
        if rng.random() < 0.3:
            yield benefit(ORTHO, 5, -1, 1500.0, 3, level=1)
            yield benefit(ORTHO, 1, 50, -1.0, 0)
        yield benefit(0, 5, -1, -1.0, period, qual=1, qty=2, code=ctx.codes["D1110"].num)
        yield benefit(0, 5, -1, -1.0, 4, qual=4, qty=1, code=ctx.codes["D0274"].num)
        if rng.random() < 0.5:
            yield benefit(0, 5, -1, -1.0, 0, qual=2, qty=14, code=ctx.codes["D1208"].num)

    def coverage(
        self, person: Person, head_coverage: list[Coverage], billable: bool, out: Rows
    ) -> list[Coverage]:
        """The patient's coverage, primary first: on the family head's subscriptions, mostly,
        or subscriptions of their own. ``billable``: the patient needs a plan that gets claims."""
        ctx = self.ctx
        rng = ctx.rng
        pat, first_day = person.pat, person.first_day
        coverage: list[Coverage] = []
        shared = head_coverage and not (billable and head_coverage[0].plan.plan_type == "c")
        if pat != person.head and shared and rng.random() < 0.85:
            # A dependent on the family head's subscription.
            relat = 2 if person.child else 1
            for ordinal, hc in enumerate(head_coverage, start=1):
                patplan = self._patplan(pat, ordinal, relat, hc.sub, first_day, out)
                coverage.append(Coverage(hc.sub, hc.plan, relat, hc.eff_day, hc.term_day, patplan))
            return coverage
        n = 2 if rng.random() < 0.18 else 1
        for ordinal in range(1, n + 1):
            plan = self.plans[rng.randrange(len(self.plans))]
            while billable and ordinal == 1 and plan.plan_type == "c":
                plan = self.plans[rng.randrange(len(self.plans))]
            num = ctx.key("inssub")
            term_day = -rng.randint(30, 400) if rng.random() < 0.03 and not billable else None
            if not billable and first_day < -60 and rng.random() < 0.2:
                # Coverage that began while the patient was already coming in.
                eff_day = rng.randint(first_day, -30)
                eff = ctx.day(eff_day)
            else:
                eff_day = -ctx.past
                eff = NONE_DATE if rng.random() < 0.2 else ctx.day(first_day - rng.randint(0, 400))
            out.append(("inssub", (
                num, plan.num, pat, eff, ctx.day(term_day) if term_day else NONE_DATE, 1, 1,
                f"ID{pat:07d}{ordinal}", "", "", 1, ctx.day(first_day), ctx.stamp(first_day),
            )))
            patplan = self._patplan(pat, ordinal, 0, num, first_day, out)
            coverage.append(Coverage(num, plan, 0, eff_day, term_day, patplan))
        return coverage

    def _patplan(
        self, pat: int, ordinal: int, relat: int, sub: int, first_day: int, out: Rows
    ) -> int:
        ctx = self.ctx
        num = ctx.key("patplan")
        out.append(("patplan", (
            num, pat, ordinal, 0, relat, "", sub, -1.0, NONE_DATE,
            ctx.at(first_day, 9 * 60 + ctx.rng.randrange(480)), ctx.stamp(first_day),
        )))
        if ctx.rng.random() < 0.01:
            # A rare patient-level override: benefits attached to the patplan, PlanNum 0.
            out.append(("benefit", (
                ctx.key("benefit"), 0, num, RESTO, 1, 90, -1.0, 0, 0, 0, 0, 0,
                ctx.at(first_day, 600), ctx.stamp(first_day),
            )))
        return num
