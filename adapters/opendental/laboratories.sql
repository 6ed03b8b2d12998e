-- Laboratories: the labs the practice sends cases to. No timestamp: read whole when written.
SELECT
  l.LaboratoryNum        AS pms_id,
  COALESCE(l.Description, '') AS name,
  COALESCE(l.Phone, '')  AS phone,
  l.IsHidden             AS hidden
FROM laboratory l
WHERE l.LaboratoryNum > :after_key AND l.LaboratoryNum <= :until_key
ORDER BY l.LaboratoryNum
LIMIT :batch_size
