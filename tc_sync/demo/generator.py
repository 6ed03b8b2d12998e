"""The demo practice's rows, in order: the reference rows, then patient after patient with all
that hangs off them. Each part (patients, insurance, claims, appointments, treatment, duties)
writes its own tables from the shared :class:`~tc_sync.demo.context.Context`."""

from __future__ import annotations

from collections.abc import Iterator

from tc_sync.demo import chart, patients, reference, scenarios
from tc_sync.demo.appointments import Appointments
from tc_sync.demo.claims import Claims
from tc_sync.demo.codes import procedure_codes
from tc_sync.demo.context import Context, Row, Rows
from tc_sync.demo.duties import DutyRows
from tc_sync.demo.duties import Plan as DutyPlan
from tc_sync.demo.insurance import Insurance, coverage_categories
from tc_sync.demo.model import Coverage, Person
from tc_sync.demo.spec import PracticeSpec
from tc_sync.demo.treatment import Outstanding, Treatment


def iter_rows(
    spec: PracticeSpec, version: str = "24.3.10.0", *, zero_dates: bool = False
) -> Iterator[tuple[str, Row]]:
    """Generate the practice as ``(table name, row)`` pairs, streaming.

    Rows are tuples in the column order of ``odschema.table(name).column_names(version)``; dates
    are 'YYYY-MM-DD' strings and datetimes 'YYYY-MM-DD HH:MM:SS'. ``version`` decides whether
    planned-appointment order goes to ``appointment.ItemOrderPlanned`` or table ``plannedappt``.
    ``zero_dates`` puts a few MySQL zero dates ('0000-00-00') where old Open Dental data has
    them; leave it off for SQLite. The same arguments always give the same rows.
    """
    return Generator(spec, version, zero_dates).rows()


class Generator:
    """Builds the rows. One instance per run; the random streams depend only on the spec."""

    def __init__(self, spec: PracticeSpec, version: str, zero_dates: bool) -> None:
        self.ctx = ctx = Context(spec, version, zero_dates)
        # Lab cases, referrals, verifications, plans' procedures: their own random stream.
        self.duties = DutyRows(spec.seed, ctx.key, ctx.day, ctx.at)
        self.insurance = Insurance(ctx)
        self.claims = Claims(ctx)
        self.appointments = Appointments(ctx, self.claims)
        self.treatment = Treatment(ctx, self.appointments, self.claims, self.duties)

    def rows(self) -> Iterator[tuple[str, Row]]:
        """Every row of the practice."""
        yield from self.reference_rows()
        yield from self.patient_rows()

    def reference_rows(self) -> Iterator[tuple[str, Row]]:
        """Definitions, providers, clinics, codes, insurance carriers and plans, labs, users,
        specialists and the plans' benefit verifications."""
        ctx = self.ctx
        yield from reference.definitions(ctx, self.duties)
        yield from reference.providers(ctx)
        yield from reference.clinics(ctx)
        yield from procedure_codes(ctx)
        yield from coverage_categories()
        yield from self.insurance.carriers_and_plans()
        yield from self.duties.reference()
        for plan in self.insurance.plans:
            yield from self.duties.plan_verification(plan.num)

    def patient_rows(self) -> Iterator[tuple[str, Row]]:
        """Patient after patient, in families of up to four who share the head's coverage."""
        out: Rows = []
        head = 0
        head_coverage: list[Coverage] = []
        family = 0
        for idx in range(self.ctx.spec.patients):
            scenario = scenarios.forced(idx)
            new_family = head == 0 or family >= 4 or self.ctx.rng.random() < 0.62
            if new_family:
                head, family, head_coverage = idx + 1, 0, []
            family += 1
            coverage = self._patient(idx + 1, head, head_coverage, scenario, out)
            if idx + 1 == head:
                head_coverage = coverage
            yield from out
            out.clear()

    def _patient(
        self, pat: int, head: int, head_coverage: list[Coverage], sc: scenarios.Scenario | None,
        out: Rows,
    ) -> list[Coverage]:
        ctx = self.ctx
        rng = ctx.rng
        person = patients.person(ctx, pat, head, sc)
        # Insurance. Forced claim and predetermination cases need a plan that gets claims.
        insured = sc.insured if sc else rng.random() < 0.85
        billable = sc is not None and (sc.claim is not None or sc.preauth is not None)
        coverage: list[Coverage] = []
        if insured and person.status not in (1, 4, 6):
            coverage = self.insurance.coverage(person, head_coverage, billable, out)
        primary = coverage[0] if coverage else None
        if primary is None:
            person.claim_case = None
        tx, preauth = scenarios.outlook(ctx, person, sc, primary)

        planned_order = 0
        last_day = person.first_day
        if person.history:
            last_day, planned_order = self.appointments.visits(person, coverage, out)
            chart.existing(ctx, person, out)
        tp_day: int | None = None
        outstanding = Outstanding()
        if tx != "none":
            if person.status == 0:
                lo = max(person.first_day, -360)
                tp_day = rng.randint(lo, max(lo, -5))
            else:
                tp_day = person.end_day
            last_day = max(last_day, tp_day)
            outstanding = self.treatment.outstanding(
                person, tx, tp_day, primary, preauth, planned_order, out
            )
        if person.status == 0 and tx in ("none", "scheduled", "planned_scheduled"):
            if rng.random() < 0.45:
                self.appointments.recall(person, primary, out)
        elif person.status == 6:
            self.appointments.new_patient_booking(person, out)
        if person.history and rng.random() < 0.55:
            chart.deleted(ctx, person, out)
        plans = self.treatment.plans(person, tp_day, out)
        patients.commlogs(ctx, person, tx, out)
        self._duty_rows(person, coverage, plans, outstanding, out)
        out.append(("patient", patients.patient_row(ctx, person, last_day)))
        return coverage

    def _duty_rows(
        self, person: Person, coverage: list[Coverage], plans: list[DutyPlan],
        outstanding: Outstanding, out: Rows,
    ) -> None:
        """The patient's plans' procedures, lab cases, referrals and enrollment checks."""
        duties, pat = self.duties, person.pat
        out.extend(duties.plan_procedures(pat, plans, outstanding.procedures))
        planned = outstanding.planned[0] if outstanding.planned else 0
        if outstanding.seat is not None:
            out.extend(duties.lab_case(pat, outstanding.seat, planned))
        elif outstanding.planned is not None:
            out.extend(duties.planned_lab_case(pat, *outstanding.planned))
        if person.status == 0 and person.history:
            out.extend(duties.referrals(pat, person.first_day))
        for cov in coverage:
            out.extend(duties.enrollment_verification(cov.patplan))
