-- Eaglesoft providers: PPM.provider [known]. Positions (hygienist or not) are not read.
SELECT
  v.provider_id AS pms_id,
  '' AS abbreviation,
  v.last_name AS last_name,
  v.first_name AS first_name,
  0 AS is_hygienist,
  0 AS hidden,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {provider} v
WHERE v.provider_id > :after_key AND v.provider_id <= :until_key
ORDER BY v.provider_id
LIMIT :batch_size
