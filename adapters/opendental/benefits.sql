-- Benefits: a plan's (or one patient's) maximums, deductibles, percentages and limits.
SELECT
  b.BenefitNum           AS pms_id,
  b.PlanNum              AS plan_id,
  b.PatPlanNum           AS coverage_id,
  b.CovCatNum            AS category_id,
  b.BenefitType          AS benefit_type,
  b.Percent              AS percent,
  b.MonetaryAmt          AS amount,
  b.TimePeriod           AS time_period,
  b.QuantityQualifier    AS quantity_qualifier,
  b.Quantity             AS quantity,
  b.CodeNum              AS code_id,
  b.CoverageLevel        AS coverage_level,
  b.SecDateTEdit         AS changed_at
FROM benefit b
WHERE b.BenefitNum > :after_key AND b.BenefitNum <= :until_key
  AND (:since IS NULL OR b.SecDateTEdit >= :since)
ORDER BY b.BenefitNum
LIMIT :batch_size
