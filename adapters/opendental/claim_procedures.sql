-- Claim procedures: each procedure's line on a claim, and the insurance estimates and payments
-- that benefit usage is computed from.
SELECT
  cp.ClaimProcNum        AS pms_id,
  cp.ClaimNum            AS claim_id,
  cp.ProcNum             AS procedure_id,
  cp.PatNum              AS patient_id,
  cp.PlanNum             AS plan_id,
  cp.InsSubNum           AS subscription_id,
  cp.Status              AS status,
  cp.FeeBilled           AS fee_billed,
  cp.InsPayEst           AS estimate,
  cp.InsPayAmt           AS paid,
  cp.DedApplied          AS deductible_applied,
  cp.WriteOff            AS write_off,
  cp.ProcDate            AS procedure_date,
  cp.DateCP              AS date_paid,
  cp.SecDateTEdit        AS changed_at
FROM claimproc cp
WHERE cp.ClaimProcNum > :after_key AND cp.ClaimProcNum <= :until_key
  AND (:since IS NULL OR cp.SecDateTEdit >= :since)
ORDER BY cp.ClaimProcNum
LIMIT :batch_size
