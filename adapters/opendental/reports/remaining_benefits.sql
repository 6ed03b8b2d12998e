-- Remaining benefits as Open Dental's Treatment Finder computes them (RpTreatmentFinder),
-- run once per renewal month (:month_renew) for the benefit year :year_start..:year_end:
-- the Treatment Finder's patients (as treatment_finder.sql) whose primary plan (patplan
-- Ordinal 1) renews in that month and has an individual annual maximum (the largest general
-- limitation in dollars, any coverage level but family; per-patient overrides ignored, as the
-- report does). Remaining = maximum - used (paid, adjustments, supplementals) - pending
-- (estimates not yet paid) over the patient's claim procedures on that subscription dated in
-- the benefit year; it may be negative. As the report does unless "procs general" is checked,
-- a claim procedure whose code falls under one of the plan's yearly limitations on a category
-- (its covspans) or a code is left out of used and pending (its own limit applies).
SELECT tf.PatNum AS PatNum,
       mx.AnnualMax - COALESCE(u.Used, 0) - COALESCE(u.Pending, 0) AS Remaining
FROM (
  SELECT pl.PatNum AS PatNum
  FROM procedurelog pl
  INNER JOIN patient p ON p.PatNum = pl.PatNum
  WHERE pl.ProcStatus = 1
    AND p.PatStatus = 0
    AND pl.PatNum NOT IN (
      SELECT a.PatNum FROM appointment a
      WHERE a.AptStatus = 1 AND a.AptDateTime >= :today)
  GROUP BY pl.PatNum
  HAVING SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) > 0
) tf
INNER JOIN patplan pp ON pp.PatNum = tf.PatNum AND pp.Ordinal = 1
INNER JOIN inssub s ON s.InsSubNum = pp.InsSubNum
INNER JOIN insplan ip ON ip.PlanNum = s.PlanNum
INNER JOIN (
  SELECT b.PlanNum AS PlanNum, MAX(b.MonetaryAmt) AS AnnualMax
  FROM benefit b
  LEFT JOIN covcat cc ON cc.CovCatNum = b.CovCatNum
  WHERE b.BenefitType = 5 AND b.MonetaryAmt > 0 AND b.QuantityQualifier = 0
    AND COALESCE(cc.EbenefitCat, 1) = 1 AND b.CoverageLevel <> 2
  GROUP BY b.PlanNum
) mx ON mx.PlanNum = s.PlanNum
LEFT JOIN (
  SELECT cp.PatNum AS PatNum, cp.InsSubNum AS InsSubNum,
         SUM(CASE WHEN cp.Status IN (1, 3, 4) THEN cp.InsPayAmt ELSE 0 END) AS Used,
         SUM(CASE WHEN cp.Status = 0 AND cp.InsPayAmt = 0 THEN cp.InsPayEst ELSE 0 END)
           AS Pending
  FROM claimproc cp
  INNER JOIN inssub cs ON cs.InsSubNum = cp.InsSubNum
  WHERE cp.Status IN (0, 1, 3, 4)
    AND cp.ProcDate BETWEEN :year_start AND :year_end
    AND NOT EXISTS (
      SELECT 1 FROM procedurelog xpl
      INNER JOIN procedurecode xpc ON xpc.CodeNum = xpl.CodeNum
      INNER JOIN benefit xb ON xb.PlanNum = cs.PlanNum
      LEFT JOIN covcat xcc ON xcc.CovCatNum = xb.CovCatNum
      LEFT JOIN covspan xcs ON xcs.CovCatNum = xcc.CovCatNum
      LEFT JOIN procedurecode xbc ON xbc.CodeNum = xb.CodeNum
      WHERE xpl.ProcNum = cp.ProcNum
        AND xb.BenefitType = 5 AND xb.QuantityQualifier = 0 AND xb.TimePeriod IN (1, 2)
        AND (xcc.CovCatNum IS NOT NULL OR xb.CodeNum <> 0)
        AND xpc.ProcCode BETWEEN COALESCE(xcs.FromCode, xbc.ProcCode)
                             AND COALESCE(xcs.ToCode, xbc.ProcCode))
  GROUP BY cp.PatNum, cp.InsSubNum
) u ON u.PatNum = tf.PatNum AND u.InsSubNum = pp.InsSubNum
WHERE ip.MonthRenew = :month_renew
