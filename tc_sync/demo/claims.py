"""The demo practice's insurance claims: estimates for planned work, claims for visits (primary
and secondary), predeterminations, and each claim's custom tracking status history."""

from __future__ import annotations

import random

from tc_sync.demo.codes import NOT_BILLED
from tc_sync.demo.context import NONE_DATE, ZERO_DATE, Context, Rows
from tc_sync.demo.model import Coverage, Person, Procedure

# Statuses set on sent claims, with how many days ago: (status, fewest, most). The first claims
# more than 30 days at the carrier take them in turn, so every case is there in a small practice:
# suppressed now (Resubmitted, Called carrier lately), suppression over (Called carrier long
# ago), a status that suppresses nothing (Appealed: 0 days; Review: no value).
_STATUS_PLAN: tuple[tuple[str, int, int], ...] = (
    ("Resubmitted", 3, 25),
    ("Called carrier", 2, 12),
    ("Appealed", 5, 60),
    ("Called carrier", 16, 40),
    ("Review", 1, 30),
)
_TRACKING_NOTES = (
    "Called the carrier: claim in process.",
    "Resubmitted with the x-rays attached.",
    "Appeal letter sent.",
    "Carrier asked for the narrative; faxed.",
    "",
)


class Claims:
    """Writes claims and claim procedures. The status history draws from a random stream of
    its own, so the rows it adds leave every row the main stream makes as it was before the
    history existed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # Synthetic data, not security: a seeded PRNG is what makes the output reproducible.
        self.tracking_rng = random.Random(f"{ctx.spec.seed}:claimtracking")  # noqa: S311
        self.claims_tracked = 0

    def estimate(self, person: Person, proc: Procedure, cov: Coverage, out: Rows) -> None:
        """An insurance estimate (claimproc status 6, no claim) for a planned procedure."""
        ctx = self.ctx
        pct = cov.plan.pct[proc.code.covcat]
        wo = round(proc.fee * cov.plan.write_off, 2)
        est = round((proc.fee - wo) * pct / 100.0, 2)
        daystr = ctx.day(proc.day)
        entered = min(proc.day, -1)
        out.append(("claimproc", (
            ctx.key("claimproc"), proc.num, 0, person.pat, proc.prov, 0.0, est, 0.0, 6, 0.0, "",
            0, cov.plan.num, daystr, 0.0, proc.code.code, -1.0, pct, -1, -1.0, 0, -1.0, est,
            -1.0, daystr, daystr, 0, 0.0, est, wo if wo else -1.0, person.clinic, cov.sub, 0, 1,
            ctx.day(entered), ctx.stamp(entered), NONE_DATE, 0,
        )))

    def for_visit(
        self, person: Person, vday: int, coverage: list[Coverage], procs: list[Procedure],
        forced: str | None, out: Rows,
    ) -> None:
        """The primary claim for a visit and, for dual coverage, the secondary one. ``forced``
        is a claim case of ``scenarios.CLAIM_AGES`` the claim must be."""
        ctx = self.ctx
        rng = ctx.rng
        primary = coverage[0]
        plan = primary.plan
        if plan.plan_type == "c" or vday < primary.eff_day or (
            primary.term_day is not None and vday > primary.term_day
        ):
            return
        billable = [p for p in procs if p.code.covcat != NOT_BILLED]
        if not billable:
            return
        age = -vday
        state = forced.split(":", 1)[0] if forced else self._claim_state(age)
        outcome = forced.split(":", 1)[1] if forced and state == "R" else "paid"
        if state == "R" and not forced:
            r = rng.random()
            outcome = "denied" if r < 0.05 else "under" if r < 0.12 else "paid"
        tracked = (
            forced == "S:tracking"
            or (state == "S" and rng.random() < 0.12)
            or (outcome == "denied" and rng.random() < 0.3)
        )
        tracking = ctx.defnum(31) if tracked else 0
        sent = min(vday + (0 if rng.random() < 0.7 else rng.randint(1, 3)), -1)
        received = min(sent + rng.randint(7, 45), -1) if state == "R" else None
        secondary = coverage[1] if len(coverage) > 1 else None
        self._claim(
            person, vday, primary, secondary, "P", (state, outcome), tracking, sent, received,
            billable, 1.0, out,
        )
        # The secondary plan is billed for what the primary left unpaid.
        rest = [p for p in billable if plan.pct[p.code.covcat] < 100]
        if (
            secondary is not None and rest and state == "R"
            and secondary.plan.plan_type != "c" and rng.random() < 0.8
        ):
            s_state = "R" if rng.random() < 0.8 or age > 120 else "S"
            s_sent = min((received or sent) + rng.randint(1, 5), -1)
            s_received = min(s_sent + rng.randint(7, 30), -1) if s_state == "R" else None
            self._claim(
                person, vday, secondary, primary, "S", (s_state, "paid"), 0, s_sent, s_received,
                rest, 0.2, out,
            )

    def predetermination(
        self, person: Person, tp_day: int, cov: Coverage, procs: list[Procedure], state: str,
        out: Rows,
    ) -> None:
        """A predetermination for the planned work: pending (sent, nothing back) or returned."""
        ctx = self.ctx
        rng = ctx.rng
        pat = person.pat
        claim = ctx.key("claim")
        plan = cov.plan
        sent = min(tp_day + rng.randint(0, 5), -1)
        if state == "pending":
            # Various ages: from a few days to months.
            sent = -rng.choice((rng.randint(2, 20), rng.randint(25, 60), rng.randint(75, 200)))
            sent = max(sent, tp_day)
        received = min(sent + rng.randint(10, 40), -1) if state == "returned" else None
        rec = ctx.day(received) if received is not None else NONE_DATE
        stamp_day = received if received is not None else sent
        fee_total = est_total = paid_total = 0.0
        rows: Rows = []
        for line, p in enumerate(procs, start=1):
            pct = plan.pct[p.code.covcat]
            wo = round(p.fee * plan.write_off, 2)
            est = round((p.fee - wo) * pct / 100.0, 2)
            # A returned predetermination holds the carrier's figure in InsPayAmt.
            answer = round(est * rng.choice((1.0, 1.0, 0.9, 0.8)), 2) if received else 0.0
            fee_total += p.fee
            est_total += est
            paid_total += answer
            daystr = ctx.day(p.day)
            rows.append(("claimproc", (
                ctx.key("claimproc"), p.num, claim, pat, p.prov, p.fee, est, 0.0, 2, answer, "",
                0, plan.num, rec, 0.0, p.code.code, -1.0, pct, -1, -1.0, 0, -1.0, est, -1.0,
                daystr, rec, line, 0.0, est, wo, person.clinic, cov.sub, 0, 1, ctx.day(sent),
                ctx.stamp(stamp_day), NONE_DATE, 0,
            )))
        tracking = ctx.defnum(31) if rng.random() < 0.1 else 0
        stamp = ctx.stamp(stamp_day)
        tracking, stamp = self._status_history(claim, tracking, sent, received, stamp, out,
                                               may_set=False)
        out.append(("claim", (
            claim, pat, NONE_DATE, ctx.day(sent), "R" if received else "S", rec, plan.num,
            person.dentist, round(fee_total, 2), round(est_total, 2), round(paid_total, 2), 0.0,
            "", "", None, "PreAuth", person.dentist, 0, cov.relat, 0, 0, 0.0, person.clinic, 0,
            cov.sub, 0, tracking, NONE_DATE, 0, f"{pat}/{claim}", "", 1, ctx.day(sent),
            stamp, ctx.day(sent),
        )))
        out.extend(rows)

    def _claim_state(self, age: int) -> str:
        rng = self.ctx.rng
        if age > 120:
            r = rng.random()
            return "U" if r < 0.01 else "S" if r < 0.04 else "R"
        received = min(0.9, age / 70.0)
        if rng.random() < received:
            return "R"
        return "U" if rng.random() < (0.35 if age <= 10 else 0.08) else "S"

    def _claim(
        self, person: Person, vday: int, cov: Coverage, other: Coverage | None, claim_type: str,
        result: tuple[str, str], tracking: int, sent: int, received: int | None,
        procs: list[Procedure], share: float, out: Rows,
    ) -> None:
        """One claim and its claim procedures. ``result`` is (ClaimStatus, paid/denied/under)."""
        ctx = self.ctx
        rng = ctx.rng
        state, outcome = result
        pat, clinic, dentist = person.pat, person.clinic, person.dentist
        claim = ctx.key("claim")
        plan = cov.plan
        fee_total = est_total = paid_total = wo_total = ded_total = 0.0
        rows: Rows = []
        daystr = ctx.day(vday)
        rec = ctx.day(received) if received is not None else NONE_DATE
        status = 1 if state == "R" else 0
        ded_left = 50.0 if rng.random() < 0.15 else 0.0
        remark = ""
        if outcome == "denied":
            remark = rng.choice(("Frequency limitation", "Not a covered benefit",
                                 "Missing tooth clause"))
        stamp_day = received if received is not None else sent
        for line, p in enumerate(procs, start=1):
            pct = plan.pct[p.code.covcat]
            wo = round(p.fee * plan.write_off, 2) if claim_type == "P" else 0.0
            ded = 0.0
            if ded_left and pct < 100:
                ded, ded_left = min(ded_left, p.fee - wo), 0.0
            est = round(max(0.0, (p.fee - wo - ded) * pct / 100.0) * share, 2)
            paid = 0.0
            if state == "R":
                if outcome == "paid":
                    paid = est
                elif outcome == "under":
                    paid = round(est * rng.uniform(0.25, 0.6), 2)
            writeoff = wo if outcome != "denied" else 0.0
            fee_total += p.fee
            est_total += est
            paid_total += paid
            wo_total += writeoff
            ded_total += ded
            date_cp = rec if state == "R" else daystr
            rows.append(("claimproc", (
                ctx.key("claimproc"), p.num, claim, pat, p.prov, p.fee, est, ded, status, paid,
                remark, 0, plan.num, date_cp, writeoff, p.code.code, -1.0, pct, -1, -1.0, 0,
                -1.0 if claim_type == "P" else 0.0, est, -1.0, daystr, date_cp, line, ded, est,
                wo, clinic, cov.sub, 0, 1, daystr, ctx.stamp(stamp_day), rec, 0,
            )))
        old = rng.random() < 0.03 and vday < -1095 and ctx.zero_date == ZERO_DATE
        unsent = state == "U"
        sent_orig = NONE_DATE if unsent else ZERO_DATE if old else ctx.day(sent)
        reason = "Paid at a reduced fee schedule" if outcome == "under" else ""
        stamp = ctx.stamp(stamp_day)
        tracking, stamp = self._status_history(
            claim, tracking, sent, received, stamp, out,
            may_set=claim_type == "P" and state == "S")
        out.append(("claim", (
            claim, pat, daystr, daystr if unsent else ctx.day(sent), state, rec, plan.num,
            dentist, round(fee_total, 2), round(est_total, 2), round(paid_total, 2),
            round(ded_total, 2), "", reason, None, claim_type, dentist, 0, cov.relat,
            other.plan.num if other else 0, other.relat if other else 0, round(wo_total, 2),
            clinic, 0, cov.sub, other.sub if other else 0, tracking, NONE_DATE, 0,
            f"{pat}/{claim}", "", 1, daystr, stamp, sent_orig,
        )))
        out.extend(rows)

    def _status_history(
        self, claim: int, tracking: int, sent: int, received: int | None, stamp: str,
        out: Rows, *, may_set: bool,
    ) -> tuple[int, str]:
        """The claim's custom tracking history; returns its status and SecDateTEdit.

        Open Dental writes a claimtracking row (TrackingType 'StatusHistory') each time a status
        is set. A claim the main stream gave a status gets that row; a sent claim (``may_set``)
        may get a status now, sometimes after an earlier one. Draws only from
        ``tracking_rng``. A status set here updates the claim row, so its stamp moves to the
        change; an existing status's row is dated no later than the claim's stamp.
        """
        ctx, rng = self.ctx, self.tracking_rng
        last = received if received is not None else -1
        entries: list[tuple[int, int]] = []  # (day, DefNum), oldest first
        if tracking:
            day = rng.randint(min(sent, last), last)
            entered = min(ctx.at(day, rng.randrange(8 * 60, 17 * 60)), stamp)
            self._history_row(claim, entered, tracking, out)
            return tracking, stamp
        if may_set:
            outstanding = -sent > 30
            plan_turn = outstanding and self.claims_tracked < 2 * len(_STATUS_PLAN)
            if not plan_turn and rng.random() >= 0.15:
                return tracking, stamp
            if plan_turn:
                name, fewest, most = _STATUS_PLAN[self.claims_tracked % len(_STATUS_PLAN)]
                self.claims_tracked += 1
            else:
                name, fewest, most = rng.choice(_STATUS_PLAN)
            day = max(-rng.randint(fewest, most), sent)
            if day - sent > 2 and rng.random() < 0.5:
                # An earlier status (the same one again, at times: a status set twice).
                earlier = rng.choice(_STATUS_PLAN)[0]
                entries.append((rng.randint(sent, day - 1), ctx.tracking_statuses[earlier]))
            tracking = ctx.tracking_statuses[name]
            entries.append((day, tracking))
        for day, def_num in entries:
            entered = ctx.at(day, rng.randrange(8 * 60, 17 * 60))
            self._history_row(claim, entered, def_num, out)
            stamp = max(stamp, entered)
        return tracking, stamp

    def _history_row(self, claim: int, entered: str, def_num: int, out: Rows) -> None:
        rng = self.tracking_rng
        out.append(("claimtracking", (
            self.ctx.key("claimtracking"), claim, "StatusHistory", 1 + rng.randrange(3), entered,
            rng.choice(_TRACKING_NOTES), def_num, 0,
        )))
