-- Eaglesoft predetermination lines: PPM.treatment_plan_items with a claim_id [known]. A line
-- names its planned service by patient_id and line_number [inferred], so procedure_id is that
-- service's key. Lines of ordinary claims are in the ledger (transactions) and are not read,
-- so insurance used this benefit year is not known for Eaglesoft.
SELECT
  i.treatment_plan_id * 4294967296 + i.line_number AS pms_id,
  i.claim_id AS claim_id,
  i.patient_id * 4294967296 + i.line_number AS procedure_id,
  i.patient_id AS patient_id,
  c.prim_employer_id AS plan_id,
  CAST(NULL AS INTEGER) AS subscription_id,
  'predetermination' AS status,
  ps.fee AS fee_billed,
  0 AS estimate,
  0 AS paid,
  0 AS deductible_applied,
  0 AS write_off,
  ps.date_planned AS procedure_date,
  CAST(NULL AS DATE) AS date_paid,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {treatment_plan_items} i
JOIN {insurance_claim} c ON c.claim_id = i.claim_id
LEFT JOIN {planned_services} ps ON ps.patient_id = i.patient_id
  AND ps.line_number = i.line_number
WHERE i.treatment_plan_id >= (:after_key - MOD(:after_key, 4294967296)) / 4294967296
  AND i.treatment_plan_id <= (:until_key - MOD(:until_key, 4294967296)) / 4294967296
  AND i.treatment_plan_id * 4294967296 + i.line_number > :after_key
  AND i.treatment_plan_id * 4294967296 + i.line_number <= :until_key
  AND i.claim_id > 0
ORDER BY i.treatment_plan_id, i.line_number
LIMIT :batch_size
