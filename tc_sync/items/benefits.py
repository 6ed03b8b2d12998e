"""A patient's insurance benefit position, computed as Open Dental's Treatment Finder does.

Pure functions over canonical records: annual maximum, general deductible, insurance used and
pending in the benefit year, and what remains. The annual maximum, used, pending and remaining
follow the Treatment Finder report (RpTreatmentFinder: the largest general limitation of the
plan, individual being any coverage level but family; used and pending from the patient's
claim procedures on the subscription in the benefit year), so the figures a coordinator checks
against that report agree. The deductible follows the Family module's display.

Which benefits apply to a coverage: the plan's own (`plan_id` is the coverage's plan and
`coverage_id` is None) and, unless `patient_overrides` is off, the patient's overrides
(`coverage_id` is the coverage), which the Treatment Finder ignores.

A benefit's coverage category (covcat) counts as general unless it is a known covcat whose X12
benefit category is not General (the Treatment Finder's COALESCE(EbenefitCat, General)); the
records do not say which those are, so callers pass their ids as `other_categories`. A
procedure whose code Open Dental counts against a separate limitation needs category spans the
records lack: callers may pass such procedures' ids as `excluded_procedures`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

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
)

_ANNUAL_PERIODS = frozenset({BenefitPeriod.CALENDAR_YEAR, BenefitPeriod.SERVICE_YEAR})
_USED_STATUSES = frozenset({
    ClaimProcedureStatus.RECEIVED,
    ClaimProcedureStatus.SUPPLEMENTAL,
    ClaimProcedureStatus.ADJUSTMENT,
})
_PENDING_STATUSES = frozenset({ClaimProcedureStatus.NOT_RECEIVED})


@dataclass(frozen=True)
class BenefitPosition:
    """Where a coverage stands in the benefit year containing a given day.

    A maximum or deductible of None is unknown (no such benefit is entered), never zero.
    """

    coverage_id: int
    annual_max: Cents | None
    """The individual annual maximum."""
    family_max: Cents | None
    deductible: Cents | None
    """The individual general deductible."""
    family_deductible: Cents | None
    used: Cents
    """Insurance paid on this patient's procedures dated in the benefit year."""
    pending: Cents
    """Insurance estimated on this patient's claims not yet received, same year."""
    remaining: Cents | None
    """annual_max - used - pending (floored at zero unless asked not to); None when the
    maximum is unknown."""
    year_start: date
    """The first day of the benefit year."""
    renews_on: date
    """The first day of the next benefit year (the end of this one, exclusive)."""


def benefit_year(renewal_month: int | None, on: date) -> tuple[date, date]:
    """The benefit year containing `on`: (its first day, the next renewal day).

    A benefit year starts on the 1st of `renewal_month`; None or 1 is the calendar year.
    Raises ValueError for a month outside 1..12.
    """
    month = 1 if renewal_month is None else renewal_month
    if not 1 <= month <= 12:
        raise ValueError(f"renewal month {renewal_month!r} is not 1..12")
    year = on.year if month <= on.month else on.year - 1
    return date(year, month, 1), date(year + 1, month, 1)


def annual_maximum(
    coverage: Coverage,
    benefits: Iterable[Benefit],
    other_categories: frozenset[int] = frozenset(),
    *,
    level: CoverageLevel = CoverageLevel.INDIVIDUAL,
    patient_overrides: bool = True,
) -> Cents | None:
    """The coverage's annual maximum at `level` (INDIVIDUAL or FAMILY); None when unknown.

    As the Treatment Finder: the largest amount among the plan's limitations with an amount, no
    quantity and a general (or no) category; individual means any level but family. With
    `patient_overrides`, the patient's own maximum competes and the smaller is shown, as Open
    Dental's Family module does; alone, it is the maximum.
    """
    maximums = [b for b in benefits
                if _applies(coverage, b) and _is_annual_maximum(b, other_categories, level)]
    plans = max((b.amount for b in maximums if b.coverage_id is None), default=None)
    own = max((b.amount for b in maximums if b.coverage_id is not None),
              default=None) if patient_overrides else None
    if own is None or plans is None:
        return plans if own is None else own
    return min(plans, own)


def _is_annual_maximum(benefit: Benefit, other_categories: frozenset[int],
                       level: CoverageLevel) -> bool:
    at_level = (benefit.coverage_level == CoverageLevel.FAMILY) == (
        level == CoverageLevel.FAMILY)
    return (benefit.benefit_type == BenefitType.LIMITATION
            and benefit.quantity_qualifier == BenefitQuantity.NONE
            and benefit.amount > 0 and at_level
            and (benefit.category_id is None or benefit.category_id not in other_categories))


def general_deductible(
    coverage: Coverage,
    benefits: Iterable[Benefit],
    other_categories: frozenset[int] = frozenset(),
    *,
    level: CoverageLevel = CoverageLevel.INDIVIDUAL,
) -> Cents | None:
    """The coverage's general deductible at `level`; None when none is entered.

    Candidates are the applicable whole-year deductibles with no quantity or code in a general
    category; as Open Dental (23.x) does, the largest amount is taken, a patient override being
    one more candidate.
    """
    candidates = _general_annual(coverage, benefits, other_categories,
                                 BenefitType.DEDUCTIBLE, level)
    if not candidates:
        return None
    largest = max(b.amount for b in candidates)
    return None if largest < 0 else largest


def insurance_used(
    coverage: Coverage,
    claim_procedures: Iterable[ClaimProcedure],
    on: date,
    *,
    excluded_procedures: frozenset[int] = frozenset(),
) -> Cents:
    """Insurance paid toward the annual maximum in the benefit year containing `on`.

    The sum of `paid` over the patient's received, supplemental and adjustment claim
    procedures of this plan and subscription, dated in the year. Insurance-history entries
    (frequency history, no payment) do not count, as in Open Dental.
    """
    return _sum_in_year(coverage, claim_procedures, on, _USED_STATUSES, excluded_procedures,
                        lambda cp: cp.paid)


def insurance_pending(
    coverage: Coverage,
    claim_procedures: Iterable[ClaimProcedure],
    on: date,
    *,
    excluded_procedures: frozenset[int] = frozenset(),
) -> Cents:
    """Insurance estimated on claims not yet received, in the benefit year containing `on`."""
    return _sum_in_year(coverage, claim_procedures, on, _PENDING_STATUSES, excluded_procedures,
                        lambda cp: cp.estimate)


def benefit_position(
    coverage: Coverage,
    benefits: Iterable[Benefit],
    claim_procedures: Iterable[ClaimProcedure],
    on: date,
    other_categories: frozenset[int] = frozenset(),
    *,
    excluded_procedures: frozenset[int] = frozenset(),
    patient_overrides: bool = True,
    floor_at_zero: bool = True,
) -> BenefitPosition:
    """The coverage's benefit position in the benefit year containing `on`.

    `benefits` and `claim_procedures` may hold other coverages' and patients' rows; only
    those that apply are counted. A coverage terminated before `on` (`date_term`) still gets
    a position: whether to show it is the caller's decision. The Treatment Finder shows a
    remaining amount below zero as it is (`floor_at_zero` off).
    """
    benefits = tuple(b for b in benefits if _applies(coverage, b))
    claim_procedures = tuple(claim_procedures)
    annual_max = annual_maximum(coverage, benefits, other_categories,
                                patient_overrides=patient_overrides)
    used = insurance_used(coverage, claim_procedures, on,
                          excluded_procedures=excluded_procedures)
    pending = insurance_pending(coverage, claim_procedures, on,
                                excluded_procedures=excluded_procedures)
    remaining = None
    if annual_max is not None:
        remaining = Cents(annual_max - used - pending)
        if floor_at_zero:
            remaining = Cents(max(0, remaining))
    year_start, renews_on = benefit_year(coverage.renewal_month, on)
    return BenefitPosition(
        coverage_id=coverage.pms_id,
        annual_max=annual_max,
        family_max=annual_maximum(coverage, benefits, other_categories,
                                  level=CoverageLevel.FAMILY,
                                  patient_overrides=patient_overrides),
        deductible=general_deductible(coverage, benefits, other_categories),
        family_deductible=general_deductible(coverage, benefits, other_categories,
                                             level=CoverageLevel.FAMILY),
        used=used,
        pending=pending,
        remaining=remaining,
        year_start=year_start,
        renews_on=renews_on,
    )


def _applies(coverage: Coverage, benefit: Benefit) -> bool:
    """Whether a benefit is the coverage's plan's own or an override for this coverage."""
    if benefit.coverage_id is not None:
        return benefit.coverage_id == coverage.pms_id
    return coverage.plan_id is not None and benefit.plan_id == coverage.plan_id


def _general_annual(
    coverage: Coverage,
    benefits: Iterable[Benefit],
    other_categories: frozenset[int],
    benefit_type: BenefitType,
    level: CoverageLevel,
) -> list[Benefit]:
    """The applicable general, whole-year, code-free benefits of one type and level."""
    return [
        b for b in benefits
        if _applies(coverage, b)
        and b.benefit_type == benefit_type
        and b.quantity_qualifier == BenefitQuantity.NONE
        and b.time_period in _ANNUAL_PERIODS
        and b.coverage_level == level
        and b.code_id is None
        and (b.category_id is None or b.category_id not in other_categories)
    ]


def _sum_in_year(
    coverage: Coverage,
    claim_procedures: Iterable[ClaimProcedure],
    on: date,
    statuses: frozenset[ClaimProcedureStatus],
    excluded_procedures: frozenset[int],
    amount: Callable[[ClaimProcedure], Cents],
) -> Cents:
    """The sum of `amount` over this patient's claim procedures on the coverage's subscription
    in the year (the Treatment Finder matches the subscription, not the plan)."""
    if coverage.plan_id is None or coverage.subscription_id is None:
        return Cents(0)
    start, end = benefit_year(coverage.renewal_month, on)
    return Cents(sum(
        amount(cp)
        for cp in claim_procedures
        if cp.status in statuses
        and cp.patient_id == coverage.patient_id
        and cp.subscription_id == coverage.subscription_id
        and cp.procedure_date is not None and start <= cp.procedure_date < end
        and (cp.procedure_id is None or cp.procedure_id not in excluded_procedures)
    ))
