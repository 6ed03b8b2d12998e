-- Dentrix annual maximums: admin.inscarrier.maxcovperson [known], the maximum per person per
-- benefit year, as one limitation benefit per carrier record. Deductibles are not read.
SELECT
  ic.insid AS pms_id,
  ic.insid AS plan_id,
  CAST(NULL AS INTEGER) AS coverage_id,
  CAST(NULL AS INTEGER) AS category_id,
  'limitation' AS benefit_type,
  CAST(NULL AS INTEGER) AS percent,
  ic.maxcovperson AS amount,
  'calendar_year' AS time_period,
  'none' AS quantity_qualifier,
  0 AS quantity,
  CAST(NULL AS INTEGER) AS code_id,
  'individual' AS coverage_level,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {inscarrier} ic
WHERE ic.insid > :after_key AND ic.insid <= :until_key
  AND ic.maxcovperson > 0
ORDER BY ic.insid
LIMIT :batch_size
