-- Eaglesoft treatment plans: PPM.treatment_plans [known].
SELECT
  t.treatment_plan_id AS pms_id,
  t.patient_id AS patient_id,
  t.date_entered AS date_presented,
  t.description AS heading,
  COALESCE(t.status, '') AS status,
  CAST(NULL AS TIMESTAMP) AS signed_at,
  CAST(NULL AS TIMESTAMP) AS changed_at,
  CAST(NULL AS INTEGER) AS presenter_id
FROM {treatment_plans} t
WHERE t.treatment_plan_id > :after_key AND t.treatment_plan_id <= :until_key
ORDER BY t.treatment_plan_id
LIMIT :batch_size
