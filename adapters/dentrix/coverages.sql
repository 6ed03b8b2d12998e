-- Dentrix primary coverage: admin.v_patient_insurance [known], one row per patient, with the
-- carrier's group and phone from admin.inscarrier [known]. Secondary coverage is not read.
-- Dentrix's benefit renewal month is not public, so benefit years are calendar years.
SELECT
  v.patient_id AS pms_id,
  v.patient_id AS patient_id,
  1 AS ordinal,
  v.primary_insured_id AS subscription_id,
  v.primary_insurance_carrier_id AS plan_id,
  CAST(NULL AS INTEGER) AS subscriber_id,
  CAST(NULL AS DATE) AS date_effective,
  CAST(NULL AS DATE) AS date_term,
  ic.groupname AS group_name,
  CAST(NULL AS INTEGER) AS renewal_month,
  CAST(NULL AS VARCHAR(12)) AS plan_type,
  v.primary_insurance_carrier_id AS carrier_id,
  v.primary_insurance_carrier_name AS carrier_name,
  ic.phone AS carrier_phone,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {v_patient_insurance} v
LEFT JOIN {inscarrier} ic ON ic.insid = v.primary_insurance_carrier_id
WHERE v.patient_id > :after_key AND v.patient_id <= :until_key
  AND v.primary_insurance_carrier_id > 0
ORDER BY v.patient_id
LIMIT :batch_size
