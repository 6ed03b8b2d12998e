-- Providers: dentists and hygienists, for routing and reports.
SELECT
  pr.ProvNum             AS pms_id,
  pr.Abbr                AS abbreviation,
  pr.LName               AS last_name,
  pr.FName               AS first_name,
  pr.IsSecondary         AS is_hygienist,
  pr.IsHidden            AS hidden,
  pr.DateTStamp          AS changed_at
FROM provider pr
WHERE pr.ProvNum > :after_key AND pr.ProvNum <= :until_key
  AND (:since IS NULL OR pr.DateTStamp >= :since)
ORDER BY pr.ProvNum
LIMIT :batch_size
