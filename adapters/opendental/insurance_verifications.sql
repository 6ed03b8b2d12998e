-- Insurance verification (insverify): when a plan's benefits (VerifyType 1, FKey = PlanNum) or
-- a patient's enrollment (VerifyType 2, FKey = PatPlanNum) was last verified.
SELECT
  v.InsVerifyNum         AS pms_id,
  v.VerifyType           AS verify_type,
  v.FKey                 AS target_id,
  v.DateLastVerified     AS verified_on,
  v.DefNum               AS status_id,
  v.SecDateTEdit         AS changed_at
FROM insverify v
WHERE v.InsVerifyNum > :after_key AND v.InsVerifyNum <= :until_key
  AND (:since IS NULL OR v.SecDateTEdit >= :since)
ORDER BY v.InsVerifyNum
LIMIT :batch_size
