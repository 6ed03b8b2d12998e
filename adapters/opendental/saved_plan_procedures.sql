-- Saved treatment plans' procedures (proctp): a saved plan's copy of each procedure, pointing
-- back at the chart procedure (ProcNumOrig). A signed saved plan signs these procedures.
SELECT
  p.ProcTPNum            AS pms_id,
  p.TreatPlanNum         AS plan_id,
  p.PatNum               AS patient_id,
  p.ProcNumOrig          AS procedure_id,
  p.ProcCode             AS code,
  p.FeeAmt               AS fee,
  p.SecDateTEdit         AS changed_at
FROM proctp p
WHERE p.ProcTPNum > :after_key AND p.ProcTPNum <= :until_key
  AND (:since IS NULL OR p.SecDateTEdit >= :since)
ORDER BY p.ProcTPNum
LIMIT :batch_size
