"""The demo practice's outstanding treatment: planned procedures and where they stand (planned,
scheduled, broken or on the unscheduled list), their estimates and predeterminations, and the
treatment plans that hold them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tc_sync.demo.appointments import Appointments
from tc_sync.demo.chart import procedure_row, site
from tc_sync.demo.claims import Claims
from tc_sync.demo.codes import CROWN, PROS
from tc_sync.demo.context import NONE_DATE, NONE_DATETIME, Context, Rows
from tc_sync.demo.duties import Appointment as DutyAppointment
from tc_sync.demo.duties import DutyRows, PlannedProcedure
from tc_sync.demo.duties import Plan as DutyPlan
from tc_sync.demo.model import Code, Coverage, Person, Procedure

_TP_KINDS = ("r",) * 5 + ("m",) * 4 + ("s",) * 1


@dataclass
class Outstanding:
    """What the lab cases and plan rows of ``duties`` need from a patient's treatment."""

    seat: DutyAppointment | None = None
    """The scheduled appointment for it."""
    planned: tuple[int, int] | None = None
    """The planned appointment for it, and its day."""
    procedures: list[PlannedProcedure] = field(default_factory=list)
    """Its procedures, unless they were planned inactive (ProcStatus 8)."""


class Treatment:
    """Writes outstanding treatment; appointments, estimates and predeterminations go through
    ``appointments`` and ``claims``. ``duties`` decides whether a seat falls this week."""

    def __init__(
        self, ctx: Context, appointments: Appointments, claims: Claims, duties: DutyRows
    ) -> None:
        self.ctx = ctx
        self.appointments = appointments
        self.claims = claims
        self.duties = duties

    def outstanding(
        self, person: Person, tx: str, tp_day: int, primary: Coverage | None, preauth: str | None,
        planned_order: int, out: Rows,
    ) -> Outstanding:
        """The outstanding treatment planned on ``tp_day`` and where it stands (``tx``, see
        ``scenarios.TX_STATES``): its appointments, planned procedures, insurance estimates
        and any predetermination (``preauth``: pending or returned)."""
        ctx = self.ctx
        rng = ctx.rng
        codes = self._tp_codes(preauth is not None)
        descript = ", ".join(c.abbr for c in codes)
        priority = ctx.defnum(20) if rng.random() < 0.6 else 0
        apt = planned = 0
        apt_day = tp_day
        entered = ctx.at(tp_day, 600 + rng.randrange(300))
        if tx in ("planned", "planned_scheduled"):
            planned = ctx.key("appointment")
            unsched = ctx.defnum(13) if rng.random() < 0.3 else 0
            out.extend(self.appointments.appointment(
                person, planned, 6, NONE_DATETIME, 0, 0, unsched, descript, ctx.stamp(tp_day),
                entered, planned_order + 1, 90,
            ))
        found = Outstanding()
        if planned:
            found.planned = (planned, tp_day)
        if tx in ("scheduled", "planned_scheduled"):
            apt_day = ctx.workday(rng.randint(1, 90))
            lab_work = any(c.covcat in (CROWN, PROS) for c in codes)
            if lab_work and self.duties.seat_this_week():
                # The main stream's draws stay the same whatever day the seat is on.
                apt_day = self.duties.rng.randint(0, 3)
            apt = ctx.key("appointment")
            found.seat = DutyAppointment(apt, apt_day, lab_work)
            out.extend(self.appointments.appointment(
                person, apt, 1, ctx.at(apt_day, 8 * 60 + 10 * rng.randrange(48)), 0, planned,
                0, descript, ctx.stamp(tp_day), entered, 0, 90,
            ))
        elif tx in ("broken", "unsched_list"):
            apt_day = ctx.workday(rng.randint(min(tp_day + 1, -2), -2))
            apt = ctx.key("appointment")
            status = 5 if tx == "broken" else 3
            unsched = ctx.defnum(13) if rng.random() < (0.7 if status == 5 else 0.95) else 0
            out.extend(self.appointments.appointment(
                person, apt, status, ctx.at(apt_day, 8 * 60 + 10 * rng.randrange(48)), 0, 0,
                unsched, descript, ctx.stamp(apt_day), entered, 0, 90,
            ))
            if status == 5 and rng.random() < 0.3:
                # The practice charged the missed appointment (not attached to it).
                out.append(("procedurelog", procedure_row(
                    ctx, ctx.key("procedurelog"), person.pat, 0, apt_day, ctx.codes["D9986"], 2,
                    person.dentist, 0, person.clinic, ctx.day(apt_day), ctx.day(apt_day), 0,
                    ctx.stamp(apt_day), "", "",
                )))
        date_tp = ctx.day(tp_day)
        stamp = ctx.stamp(max(tp_day, apt_day) if apt_day < 0 else tp_day)
        proc_day = apt_day if tx in ("scheduled", "planned_scheduled") else tp_day
        status = 8 if tx == "unscheduled" and rng.random() < 0.03 else 1
        procs: list[Procedure] = []
        for code in codes:
            num = ctx.key("procedurelog")
            tooth, surf = site(rng, code)
            out.append(("procedurelog", procedure_row(
                ctx, num, person.pat, apt, proc_day, code, status, person.dentist, planned,
                person.clinic, date_tp, NONE_DATE, priority, stamp, tooth, surf,
            )))
            procs.append(Procedure(num, code, code.fee, proc_day, person.dentist))
        if status == 1:
            found.procedures = [PlannedProcedure(p.num, p.code.code, p.fee) for p in procs]
        if primary is not None and primary.plan.plan_type != "c":
            for p in procs:
                self.claims.estimate(person, p, primary, out)
            if preauth:
                self.claims.predetermination(person, tp_day, primary, procs, preauth, out)
        return found

    def plans(self, person: Person, tp_day: int | None, out: Rows) -> list[DutyPlan]:
        """The patient's treatment plans: the active one (and at times a saved one) for the
        treatment planned on ``tp_day``, or a past saved plan; now and then an inactive one."""
        ctx = self.ctx
        rng = ctx.rng
        plans: list[DutyPlan] = []

        def plan(status: int, heading: str, day: int | None, when: int, signed: bool) -> None:
            num = ctx.key("treatplan")
            plans.append(DutyPlan(num, status, when))
            presenter = 1 + person.pat % 3 if status == 0 else 0  # users 1-3 present
            out.append(("treatplan", (
                num, person.pat,
                ctx.day(day) if day is not None else NONE_DATE, heading, "", "", 0, 0, 0,
                status, 1, ctx.day(when), ctx.stamp(when), presenter, 0, "",
                ctx.at(when, 600 + rng.randrange(400)) if signed else NONE_DATETIME,
                NONE_DATETIME, "", "",
            )))

        if tp_day is not None:
            when = min(tp_day, -1)
            plan(1, "Active Treatment Plan", None, when, signed=False)
            if rng.random() < 0.4:
                plan(0, "Proposed Treatment Plan", when, when, signed=rng.random() < 0.4)
        elif person.history and rng.random() < 0.35:
            day = rng.randint(person.first_day, person.end_day)
            plan(0, "Proposed Treatment Plan", day, day, signed=True)
        if person.history and rng.random() < 0.2:
            plan(2, "Inactive Treatment Plan", None, person.end_day, signed=False)
        return plans

    def _tp_codes(self, preauth: bool) -> list[Code]:
        ctx = self.ctx
        rng = ctx.rng
        kind = "m" if preauth else rng.choice(_TP_KINDS)
        if kind == "r":
            pool: Sequence[str] = ("D2391", "D2392", "D2393", "D2330", "D2331", "D2150",
                                   "D4342", "D2920", "D2930")
            return [ctx.codes[rng.choice(pool)] for _ in range(rng.randint(1, 4))]
        if kind == "s":
            return [ctx.codes[rng.choice(("D7140", "D7210", "D7240"))], ctx.codes["D9230"]]
        r = rng.random()
        if r < 0.45:
            names = ["D2950", rng.choice(("D2740", "D2750", "D2790"))]
        elif r < 0.65:
            names = [rng.choice(("D3320", "D3330")), "D2950", "D2740"]
        elif r < 0.8:
            names = ["D4341"] * rng.randint(2, 4)
        elif r < 0.92:
            names = ["D7953", "D6010", "D6057", "D6065"]
        else:
            names = [rng.choice(("D5110", "D5213", "D8090", "D2962"))]
        return [ctx.codes[n] for n in names]
