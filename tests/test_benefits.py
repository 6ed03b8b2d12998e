"""Benefit position: maximum, deductible, used, pending and remaining as Open Dental shows them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tc_sync.items.benefits import (
    annual_maximum,
    benefit_position,
    benefit_year,
    general_deductible,
    insurance_pending,
    insurance_used,
)
from tc_sync.records import (
    Benefit,
    BenefitPeriod,
    BenefitQuantity,
    BenefitType,
    Cents,
    ClaimProcedure,
    ClaimProcedureStatus,
    Coverage,
    CoverageLevel,
    PlanType,
)

PATIENT = 7
SIBLING = 8
PLAN = 30
SUBSCRIPTION = 40
PATPLAN = 50
GENERAL_COVCAT = 1
PREVENTIVE_COVCAT = 3
TODAY = date(2026, 3, 10)

Status = ClaimProcedureStatus


def coverage(*, renewal_month: int | None = None, plan_id: int | None = PLAN,
             date_term: date | None = None) -> Coverage:
    return Coverage(
        pms_id=PATPLAN, patient_id=PATIENT, ordinal=1, subscription_id=SUBSCRIPTION,
        plan_id=plan_id, subscriber_id=PATIENT, date_effective=date(2020, 1, 1),
        date_term=date_term, group_name="Acme Dental PPO", renewal_month=renewal_month,
        plan_type=PlanType.PPO, carrier_id=9, carrier_name="Delta", carrier_phone="",
        changed_at=None)


_next_id = iter(range(1000, 100000))


def benefit(amount: int, *, kind: BenefitType = BenefitType.LIMITATION,
            plan_id: int | None = PLAN, coverage_id: int | None = None,
            category_id: int | None = None, code_id: int | None = None,
            level: CoverageLevel = CoverageLevel.INDIVIDUAL,
            period: BenefitPeriod = BenefitPeriod.CALENDAR_YEAR,
            qualifier: BenefitQuantity = BenefitQuantity.NONE) -> Benefit:
    """A benefit line; amounts in dollars, as an office manager types them."""
    return Benefit(
        pms_id=next(_next_id), plan_id=None if coverage_id is not None else plan_id,
        coverage_id=coverage_id, category_id=category_id, benefit_type=kind, percent=None,
        amount=Cents(amount * 100), time_period=period, quantity_qualifier=qualifier,
        quantity=0, code_id=code_id, coverage_level=level, changed_at=None)


def maximum(amount: int, **fields) -> Benefit:
    return benefit(amount, kind=BenefitType.LIMITATION, **fields)


def deductible(amount: int, **fields) -> Benefit:
    return benefit(amount, kind=BenefitType.DEDUCTIBLE, **fields)


def line(status: ClaimProcedureStatus, on: date | None, *, paid: int = 0, estimate: int = 0,
         patient_id: int = PATIENT, plan_id: int = PLAN, subscription_id: int = SUBSCRIPTION,
         procedure_id: int | None = None) -> ClaimProcedure:
    """A claim procedure; amounts in dollars."""
    key = next(_next_id)
    return ClaimProcedure(
        pms_id=key, claim_id=1, procedure_id=key if procedure_id is None else procedure_id,
        patient_id=patient_id, plan_id=plan_id, subscription_id=subscription_id, status=status,
        fee_billed=Cents(0), estimate=Cents(estimate * 100), paid=Cents(paid * 100),
        deductible_applied=Cents(0), write_off=Cents(0), procedure_date=on, date_paid=None,
        changed_at=None)


def dollars(cents: int | None) -> float | None:
    return None if cents is None else cents / 100


# The benefit year


def test_a_plan_renewing_in_july_is_midway_through_the_year_that_began_last_july():
    assert benefit_year(7, date(2026, 3, 10)) == (date(2025, 7, 1), date(2026, 7, 1))


def test_the_new_benefit_year_starts_on_the_first_of_the_renewal_month():
    assert benefit_year(7, date(2026, 6, 30)) == (date(2025, 7, 1), date(2026, 7, 1))
    assert benefit_year(7, date(2026, 7, 1)) == (date(2026, 7, 1), date(2027, 7, 1))
    assert benefit_year(7, date(2026, 7, 31)) == (date(2026, 7, 1), date(2027, 7, 1))


def test_a_calendar_year_plan_renews_on_january_first_whether_the_month_is_blank_or_january():
    assert benefit_year(None, TODAY) == (date(2026, 1, 1), date(2027, 1, 1))
    assert benefit_year(1, TODAY) == (date(2026, 1, 1), date(2027, 1, 1))
    assert benefit_year(None, date(2026, 12, 31)) == (date(2026, 1, 1), date(2027, 1, 1))


def test_a_december_plan_in_november_is_still_in_last_years_benefit_year():
    assert benefit_year(12, date(2026, 11, 30)) == (date(2025, 12, 1), date(2026, 12, 1))


@pytest.mark.parametrize("month", [0, 13, -1])
def test_a_renewal_month_outside_the_calendar_is_refused(month):
    with pytest.raises(ValueError, match="renewal month"):
        benefit_year(month, TODAY)


def test_the_position_reports_the_year_and_the_renewal_date():
    position = benefit_position(coverage(renewal_month=7), [], [], TODAY)
    assert position.year_start == date(2025, 7, 1)
    assert position.renews_on == date(2026, 7, 1)


# The annual maximum


def test_a_plan_with_no_maximum_is_unknown_never_zero():
    paid = line(Status.RECEIVED, date(2026, 2, 1), paid=120)
    position = benefit_position(coverage(), [deductible(50)], [paid], TODAY)
    assert position.annual_max is None
    assert position.remaining is None
    assert dollars(position.used) == 120


def test_the_plans_individual_annual_maximum():
    assert dollars(annual_maximum(coverage(), [maximum(1500)])) == 1500


def test_a_service_year_maximum_is_an_annual_maximum_too():
    benefits = [maximum(1000, period=BenefitPeriod.SERVICE_YEAR)]
    assert dollars(annual_maximum(coverage(renewal_month=7), benefits)) == 1000


def test_a_patient_level_maximum_lower_than_the_plans_is_the_one_shown():
    benefits = [maximum(1500), maximum(1000, coverage_id=PATPLAN)]
    assert dollars(annual_maximum(coverage(), benefits)) == 1000


def test_a_patient_level_maximum_competes_with_the_plans_and_the_smaller_wins():
    # Open Dental weighs a patient override as one more candidate, not as a replacement.
    benefits = [maximum(1500), maximum(2500, coverage_id=PATPLAN)]
    assert dollars(annual_maximum(coverage(), benefits)) == 1500


def test_a_patient_level_maximum_alone_is_the_annual_maximum():
    assert dollars(annual_maximum(coverage(), [maximum(1200, coverage_id=PATPLAN)])) == 1200


def test_another_patients_override_and_another_plans_maximum_do_not_apply():
    benefits = [maximum(900, coverage_id=PATPLAN + 1), maximum(800, plan_id=PLAN + 1)]
    assert annual_maximum(coverage(), benefits) is None


def test_a_family_maximum_is_not_taken_for_the_individual_one():
    benefits = [maximum(3000, level=CoverageLevel.FAMILY)]
    assert annual_maximum(coverage(), benefits) is None
    assert dollars(annual_maximum(coverage(), benefits, level=CoverageLevel.FAMILY)) == 3000
    position = benefit_position(coverage(), [*benefits, maximum(1500)], [], TODAY)
    assert (dollars(position.annual_max), dollars(position.family_max)) == (1500, 3000)


def test_a_maximum_in_a_category_that_is_not_general_is_not_the_annual_maximum():
    benefits = [maximum(400, category_id=PREVENTIVE_COVCAT)]
    assert annual_maximum(coverage(), benefits, frozenset({PREVENTIVE_COVCAT})) is None


def test_a_maximum_in_the_general_category_or_an_unknown_one_is_the_annual_maximum():
    # The Treatment Finder: COALESCE(covcat.EbenefitCat, General) = General.
    benefits = [maximum(1750, category_id=GENERAL_COVCAT)]
    assert dollars(annual_maximum(coverage(), benefits, frozenset({PREVENTIVE_COVCAT}))) == 1750


def test_of_the_plans_general_maximums_the_largest_is_taken_as_the_treatment_finder_does():
    benefits = [maximum(1000, category_id=GENERAL_COVCAT), maximum(2000), maximum(500,
                                                                                 code_id=77)]
    assert dollars(annual_maximum(coverage(), benefits, frozenset({PREVENTIVE_COVCAT}))) == 2000


def test_frequency_limits_and_non_general_lifetime_maximums_are_not_the_annual_maximum():
    benefits = [
        maximum(1500, category_id=PREVENTIVE_COVCAT, period=BenefitPeriod.LIFETIME),
        maximum(0, qualifier=BenefitQuantity.SERVICES),
        maximum(900, qualifier=BenefitQuantity.SERVICES),
    ]
    assert annual_maximum(coverage(), benefits, frozenset({PREVENTIVE_COVCAT})) is None


def test_a_maximum_stored_with_no_coverage_level_is_the_individual_maximum():
    benefits = [maximum(1250, level=CoverageLevel.NONE)]
    assert dollars(annual_maximum(coverage(), benefits)) == 1250
    assert annual_maximum(coverage(), benefits, level=CoverageLevel.FAMILY) is None


def test_without_patient_overrides_only_the_plans_maximum_counts():
    benefits = [maximum(1500), maximum(1000, coverage_id=PATPLAN)]
    assert dollars(annual_maximum(coverage(), benefits, patient_overrides=False)) == 1500
    alone = [maximum(1000, coverage_id=PATPLAN)]
    assert annual_maximum(coverage(), alone, patient_overrides=False) is None


def test_a_maximum_with_an_empty_amount_is_unknown():
    empty = replace(maximum(0), amount=Cents(-100))  # Open Dental's -1: "no amount entered"
    assert annual_maximum(coverage(), [empty]) is None


def test_a_coverage_whose_plan_is_missing_has_no_maximum_and_nothing_used():
    orphan = coverage(plan_id=None)
    paid = line(Status.RECEIVED, date(2026, 2, 1), paid=100)
    position = benefit_position(orphan, [maximum(1500, plan_id=None)], [paid], TODAY)
    assert position.annual_max is None
    assert position.used == 0


# The deductible


def test_the_general_deductible_and_the_family_deductible():
    benefits = [deductible(50), deductible(150, level=CoverageLevel.FAMILY)]
    position = benefit_position(coverage(), benefits, [], TODAY)
    assert dollars(position.deductible) == 50
    assert dollars(position.family_deductible) == 150


def test_a_deductible_waived_on_preventive_is_not_the_general_deductible():
    benefits = [deductible(0, category_id=PREVENTIVE_COVCAT)]
    assert general_deductible(coverage(), benefits, frozenset({PREVENTIVE_COVCAT})) is None


def test_no_deductible_entered_is_unknown():
    assert general_deductible(coverage(), [maximum(1500)]) is None


def test_of_the_plans_and_the_patients_deductibles_the_larger_is_shown():
    benefits = [deductible(50), deductible(75, coverage_id=PATPLAN)]
    assert dollars(general_deductible(coverage(), benefits)) == 75


# Used and pending


def test_only_this_years_paid_claim_procedures_count_as_used():
    lines = [
        line(Status.RECEIVED, date(2025, 12, 31), paid=300),   # last benefit year
        line(Status.RECEIVED, date(2026, 1, 1), paid=200),
        line(Status.RECEIVED, date(2026, 3, 9), paid=100),
        line(Status.RECEIVED, date(2027, 1, 1), paid=50),      # next benefit year
        line(Status.RECEIVED, None, paid=40),                  # no date: in no year
    ]
    assert dollars(insurance_used(coverage(), lines, TODAY)) == 300


def test_used_follows_the_plans_renewal_month_not_the_calendar():
    lines = [
        line(Status.RECEIVED, date(2025, 6, 30), paid=500),
        line(Status.RECEIVED, date(2025, 7, 1), paid=250),
        line(Status.RECEIVED, date(2025, 12, 15), paid=100),
    ]
    assert dollars(insurance_used(coverage(renewal_month=7), lines, TODAY)) == 350


def test_supplemental_payments_and_benefit_adjustments_count_as_used():
    lines = [
        line(Status.RECEIVED, date(2026, 2, 1), paid=100),
        line(Status.SUPPLEMENTAL, date(2026, 2, 1), paid=25),
        line(Status.ADJUSTMENT, date(2026, 1, 2), paid=400),
    ]
    assert dollars(insurance_used(coverage(), lines, TODAY)) == 525


def test_estimates_predeterminations_and_insurance_history_are_not_used():
    lines = [
        line(Status.NOT_RECEIVED, date(2026, 2, 1), estimate=80),
        line(Status.PREDETERMINATION, date(2026, 2, 1), estimate=90, paid=90),
        line(Status.ESTIMATE, date(2026, 2, 1), estimate=60),
        line(Status.INSURANCE_HISTORY, date(2026, 2, 1), paid=10),
    ]
    assert insurance_used(coverage(), lines, TODAY) == 0


def test_estimates_on_unreceived_claims_are_pending():
    lines = [
        line(Status.NOT_RECEIVED, date(2026, 2, 20), estimate=240),
        line(Status.NOT_RECEIVED, date(2025, 11, 2), estimate=99),  # last year's claim
        line(Status.ESTIMATE, date(2026, 4, 1), estimate=500),      # treatment plan only
        line(Status.PREDETERMINATION, date(2026, 2, 1), estimate=700),
        line(Status.RECEIVED, date(2026, 2, 1), estimate=60, paid=55),
    ]
    assert dollars(insurance_pending(coverage(), lines, TODAY)) == 240


def test_a_family_members_claims_on_the_same_subscription_are_not_this_patients():
    lines = [
        line(Status.RECEIVED, date(2026, 2, 1), paid=700, patient_id=SIBLING),
        line(Status.NOT_RECEIVED, date(2026, 2, 1), estimate=300, patient_id=SIBLING),
    ]
    position = benefit_position(coverage(), [maximum(1000)], lines, TODAY)
    assert (position.used, position.pending, dollars(position.remaining)) == (0, 0, 1000)


def test_claims_on_another_subscription_are_not_counted_the_subscription_decides():
    other = line(Status.RECEIVED, date(2026, 2, 1), paid=100, subscription_id=SUBSCRIPTION + 1)
    assert insurance_used(coverage(), [other], TODAY) == 0
    # The Treatment Finder matches claim procedures to the coverage by subscription only.
    same = line(Status.RECEIVED, date(2026, 2, 1), paid=100, plan_id=PLAN + 1)
    assert dollars(insurance_used(coverage(), [same], TODAY)) == 100


def test_payments_under_a_separate_limitation_such_as_ortho_can_be_left_out():
    braces = line(Status.RECEIVED, date(2026, 1, 15), paid=600, procedure_id=901)
    filling = line(Status.RECEIVED, date(2026, 2, 1), paid=150, procedure_id=902)
    aligner = line(Status.NOT_RECEIVED, date(2026, 3, 1), estimate=200, procedure_id=901)
    position = benefit_position(coverage(), [maximum(1500)], [braces, filling, aligner], TODAY,
                                excluded_procedures=frozenset({901}))
    assert (dollars(position.used), dollars(position.pending)) == (150, 0)


# Remaining


def test_remaining_is_the_maximum_less_used_and_pending():
    lines = [
        line(Status.RECEIVED, date(2026, 1, 20), paid=400),
        line(Status.NOT_RECEIVED, date(2026, 3, 2), estimate=250),
    ]
    position = benefit_position(coverage(), [maximum(1500), deductible(50)], lines, TODAY)
    assert dollars(position.annual_max) == 1500
    assert dollars(position.used) == 400
    assert dollars(position.pending) == 250
    assert dollars(position.remaining) == 850
    assert position.coverage_id == PATPLAN


def test_remaining_shows_zero_below_zero_unless_asked_to_show_it_as_the_treatment_finder():
    lines = [
        line(Status.RECEIVED, date(2026, 1, 20), paid=1400),
        line(Status.NOT_RECEIVED, date(2026, 3, 2), estimate=300),
    ]
    position = benefit_position(coverage(), [maximum(1500)], lines, TODAY)
    assert position.remaining == 0
    as_finder = benefit_position(coverage(), [maximum(1500)], lines, TODAY, floor_at_zero=False)
    assert dollars(as_finder.remaining) == -200


def test_last_years_spending_is_forgotten_once_the_plan_renews():
    lines = [line(Status.RECEIVED, date(2025, 11, 3), paid=1500)]
    before = benefit_position(coverage(), [maximum(1500)], lines, date(2025, 12, 31))
    after = benefit_position(coverage(), [maximum(1500)], lines, date(2026, 1, 2))
    assert (before.remaining, dollars(after.remaining)) == (0, 1500)


def test_a_terminated_coverage_still_gets_a_position():
    ended = coverage(date_term=date(2026, 1, 31))
    lines = [line(Status.RECEIVED, date(2026, 1, 10), paid=200)]
    position = benefit_position(ended, [maximum(1000)], lines, TODAY)
    assert dollars(position.remaining) == 800


def test_benefits_and_claim_procedures_may_be_one_pass_iterators():
    lines = [line(Status.RECEIVED, date(2026, 1, 10), paid=200)]
    position = benefit_position(coverage(), iter([maximum(1000), deductible(50)]), iter(lines),
                                TODAY)
    assert (dollars(position.annual_max), dollars(position.deductible)) == (1000, 50)
    assert dollars(position.remaining) == 800
