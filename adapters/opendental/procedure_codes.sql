-- Procedure codes: the practice's code list (CDT and its own), with category.
SELECT
  pc.CodeNum             AS pms_id,
  pc.ProcCode            AS code,
  pc.Descript            AS description,
  pc.AbbrDesc            AS abbreviation,
  pc.ProcCat             AS category_id,
  pc.DateTStamp          AS changed_at
FROM procedurecode pc
WHERE pc.CodeNum > :after_key AND pc.CodeNum <= :until_key
  AND (:since IS NULL OR pc.DateTStamp >= :since)
ORDER BY pc.CodeNum
LIMIT :batch_size
