-- Clinics of a multi-location practice. No timestamp: read whole each time.
SELECT
  cn.ClinicNum           AS pms_id,
  cn.Abbr                AS abbreviation,
  cn.Description         AS description,
  cn.IsHidden            AS hidden
FROM clinic cn
WHERE cn.ClinicNum > :after_key AND cn.ClinicNum <= :until_key
ORDER BY cn.ClinicNum
LIMIT :batch_size
