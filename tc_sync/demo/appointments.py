"""The demo practice's appointments: the row, each patient's completed visits (with their
procedures and claims), booked recalls and new patients' first visits."""

from __future__ import annotations

from tc_sync.demo.chart import procedure_row, site
from tc_sync.demo.claims import Claims
from tc_sync.demo.context import NONE_DATE, NONE_DATETIME, ZERO_DATE, Context, Row, Rows
from tc_sync.demo.model import Coverage, Person, Procedure
from tc_sync.demo.scenarios import CLAIM_AGES


class Appointments:
    """Writes appointments and what a visit leaves behind; a visit's claims go to ``claims``."""

    def __init__(self, ctx: Context, claims: Claims) -> None:
        self.ctx = ctx
        self.claims = claims

    def appointment(
        self, person: Person, apt: int, status: int, when: str, hyg: int, next_apt: int,
        unsched: int, descript: str, stamp: str, entered: str, planned_order: int,
        minutes: int, *, arrived: bool = False, new_patient: bool = False,
    ) -> Rows:
        """An appointment row (AptStatus ``status``; 6 is planned) of ``minutes`` at ``when``,
        and before 24.2.1 a planned appointment's plannedappt row."""
        ctx = self.ctx
        rng = ctx.rng
        pattern = "//" + "X" * max(1, minutes // 5 - 4) + "//"
        op = 0
        if status not in (3, 6):
            op = 1 + rng.randrange(4) if person.clinic == 1 else 5 + rng.randrange(2)
        times = (NONE_DATETIME, NONE_DATETIME, NONE_DATETIME)
        if arrived:
            t0 = int(when[11:13]) * 60 + int(when[14:16])
            base = when[:10] + " "
            times = (base + ctx.clock(t0 - 5),
                     base + ctx.clock(t0 + 3),
                     base + ctx.clock(t0 + minutes))
        row: Row = (
            apt, person.pat, status, pattern, ctx.defnum(2) if status in (1, 2) else 0, 0, op,
            "", person.dentist, hyg, when, next_apt, unsched, 1 if new_patient else 0, descript,
            0, person.clinic, 1 if hyg else 0, stamp, times[0], times[1], times[2], 0, 0, "", 0,
            entered, 1 if status == 1 and rng.random() < 0.05 else 0, "", "",
        )
        if ctx.new_schema:
            return [("appointment", (*row, planned_order if status == 6 else 0))]
        rows: Rows = [("appointment", row)]
        if status == 6:
            rows.append(("plannedappt", (ctx.key("plannedappt"), person.pat, apt, planned_order)))
        return rows

    def visits(self, person: Person, coverage: list[Coverage], out: Rows) -> tuple[int, int]:
        """The completed visits of a patient with history, oldest first (the last one makes the
        claim case forced on the patient); returns the last visit's day and how many planned
        appointments the visits came from."""
        planned_order = 0
        visits = self._visit_days(person.first_day, person.end_day, person.claim_case)
        for n, vday in enumerate(visits):
            kind = "new" if n == 0 else self._visit_kind()
            forced = person.claim_case if n == len(visits) - 1 else None
            planned_order = self._visit(person, vday, kind, coverage, forced, planned_order, out)
        return visits[-1], planned_order

    def recall(self, person: Person, primary: Coverage | None, out: Rows) -> None:
        """A future recall visit, booked at the last one, with its procedures attached as TP."""
        ctx = self.ctx
        rng = ctx.rng
        day = ctx.workday(rng.randint(1, 180))
        booked = -rng.randint(1, 170)
        codes = [ctx.codes["D0120"], ctx.codes["D1120" if person.child else "D1110"]]
        if rng.random() < 0.4:
            codes.append(ctx.codes["D0274"])
        apt = ctx.key("appointment")
        stamp = ctx.stamp(booked)
        out.extend(self.appointment(
            person, apt, 1, ctx.at(day, 8 * 60 + 10 * rng.randrange(48)), 3, 0, 0,
            ", ".join(c.abbr for c in codes), stamp, ctx.at(booked, 600), 0, 60,
        ))
        for code in codes:
            num = ctx.key("procedurelog")
            prov = 3 if code.hygiene else person.dentist
            out.append(("procedurelog", procedure_row(
                ctx, num, person.pat, apt, day, code, 1, prov, 0, person.clinic, ctx.day(booked),
                NONE_DATE, 0, stamp, "", "",
            )))
            if primary is not None and primary.plan.plan_type != "c":
                procedure = Procedure(num, code, code.fee, day, prov)
                self.claims.estimate(person, procedure, primary, out)

    def new_patient_booking(self, person: Person, out: Rows) -> None:
        """A prospective patient: a first visit booked, nothing done yet."""
        ctx = self.ctx
        rng = ctx.rng
        day = ctx.workday(rng.randint(2, 40))
        apt = ctx.key("appointment")
        code = ctx.codes["D0150"]
        stamp = ctx.stamp(-rng.randint(1, 20))
        out.extend(self.appointment(
            person, apt, 1, ctx.at(day, 8 * 60 + 10 * rng.randrange(48)), 0, 0, 0, code.abbr,
            stamp, ctx.at(-2, 600), 0, 60, new_patient=True,
        ))
        out.append(("procedurelog", procedure_row(
            ctx, ctx.key("procedurelog"), person.pat, apt, day, code, 1, person.dentist, 0,
            person.clinic, ctx.day(-2), NONE_DATE, 0, stamp, "", "",
        )))

    def _visit(
        self, person: Person, vday: int, kind: str, coverage: list[Coverage], forced: str | None,
        planned_order: int, out: Rows,
    ) -> int:
        """A completed visit: appointment, completed procedures, and the claim for them."""
        ctx = self.ctx
        rng = ctx.rng
        pat = person.pat
        codes = [ctx.codes[c] for c in self._visit_codes(kind, person.child)]
        hygiene = kind in ("new", "recall")
        descript = ", ".join(c.abbr for c in codes)
        planned = 0
        if kind == "major" and rng.random() < 0.3:
            # It was a planned appointment first; the completed one points back at it.
            planned = ctx.key("appointment")
            planned_order += 1
            pday = max(vday - rng.randint(7, 60), 1 - ctx.past)
            out.extend(self.appointment(
                person, planned, 6, NONE_DATETIME, 0, 0, 0, descript, ctx.stamp(vday),
                ctx.at(pday, 600), planned_order, 60,
            ))
        apt = ctx.key("appointment")
        daystr = ctx.day(vday)
        stamp = ctx.stamp(vday)
        procs: list[Procedure] = []
        # The same draw with or without zero dates keeps SQLite and MySQL practices identical.
        old = rng.random() < 0.03 and vday < -1825 and ctx.zero_date == ZERO_DATE
        tp_lag = 0 if hygiene or kind == "emergency" else rng.randint(7, 90)
        date_tp = ZERO_DATE if old else ctx.day(max(vday - tp_lag, 1 - ctx.past))
        for code in codes:
            num = ctx.key("procedurelog")
            prov = 3 if code.hygiene and not person.child and kind != "new" else person.dentist
            tooth, surf = site(rng, code)
            out.append(("procedurelog", procedure_row(
                ctx, num, pat, apt, vday, code, 2, prov, planned, person.clinic, date_tp, daystr, 0,
                stamp, tooth, surf,
            )))
            procs.append(Procedure(num, code, code.fee, vday, prov))
        booked = max(vday - rng.randint(1, 180), 1 - ctx.past)
        out.extend(self.appointment(
            person, apt, 2, ctx.at(vday, 8 * 60 + 10 * rng.randrange(48)), 3 if hygiene else 0,
            planned, 0, descript, stamp, ctx.at(booked, 8 * 60 + rng.randrange(540)), 0,
            60 if hygiene else 90, arrived=rng.random() < 0.6, new_patient=kind == "new",
        ))
        if coverage:
            self.claims.for_visit(person, vday, coverage, procs, forced, out)
        return planned_order

    def _visit_days(self, first_day: int, end_day: int, claim_case: str | None) -> list[int]:
        ctx = self.ctx
        rng = ctx.rng
        years = (end_day - first_day) / 365.0
        n = max(1, min(40, round(years * rng.uniform(0.65, 1.95))))
        days = {first_day}
        for _ in range(n - 1):
            days.add(ctx.workday(rng.randint(first_day, end_day)))
        if claim_case:
            lo, hi = CLAIM_AGES[claim_case]
            forced = -rng.randint(lo, hi)
            days = {d for d in days if d < forced - 3} or {first_day}
            days.add(forced)
        return sorted(d for d in days if d <= -1)

    def _visit_kind(self) -> str:
        r = self.ctx.rng.random()
        if r < 0.60:
            return "recall"
        if r < 0.85:
            return "resto"
        if r < 0.97:
            return "major"
        return "emergency"

    def _visit_codes(self, kind: str, child: bool) -> list[str]:
        rng = self.ctx.rng
        if kind in ("new", "recall"):
            return self._hygiene_codes(kind == "new", child)
        if kind == "resto":
            pool = ("D2391", "D2392", "D2393", "D2394", "D2330", "D2331", "D2140", "D2150",
                    "D2160", "D2332", "D4342", "D4381", "D2920")
            codes = [rng.choice(pool) for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.3:
                codes.append("D9230")
            return codes
        if kind == "major":
            return self._major_codes()
        return ["D0140", "D0220", rng.choice(("D9110", "D7140", "D2391"))]

    def _hygiene_codes(self, new: bool, child: bool) -> list[str]:
        rng = self.ctx.rng
        codes = ["D0150" if new else "D0120"]
        perio = not child and rng.random() < 0.2
        codes.append("D1120" if child else "D4910" if perio else "D1110")
        if new:
            codes.append("D0210" if rng.random() < 0.7 else "D0330")
            codes.append("D0350")
        elif rng.random() < 0.45:
            codes.append("D0274" if not child else "D0272")
        if child or rng.random() < 0.35:
            codes.append("D1208" if child else "D1206")
        r = rng.random()
        if r < 0.3:
            codes.append("D0220")
            if r < 0.1:
                codes.append("D0230")
        if child and rng.random() < 0.3:
            codes.extend(("D1351", "D1351"))
        return codes

    def _major_codes(self) -> list[str]:
        rng = self.ctx.rng
        r = rng.random()
        if r < 0.4:
            codes = ["D2950", rng.choice(("D2740", "D2750", "D2790")), "D9230"]
        elif r < 0.6:
            codes = [rng.choice(("D3310", "D3320", "D3330")), "D0220", "D9230"]
        elif r < 0.75:
            codes = ["D4341", "D4341", "D4341", "D4341"]
        elif r < 0.88:
            codes = ["D7953", "D6010", "D9230"]
        else:
            codes = [rng.choice(("D7210", "D7240", "D9944", "D9972")), "D0220"]
        return codes
