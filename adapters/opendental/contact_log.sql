-- Contact log (commlog): when the practice last reached out, how, which way, of which type,
-- and whether a program logged it (CommSource other than 0, User: web scheduling, reminders,
-- a program link, the API). The note itself is not read: the coordinator needs the fact of
-- contact, not its text.
SELECT
  cl.CommlogNum          AS pms_id,
  cl.PatNum              AS patient_id,
  cl.CommDateTime        AS contacted_at,
  cl.CommType            AS contact_type_id,
  cl.Mode_               AS mode,
  cl.SentOrReceived      AS direction,
  cl.DateTStamp          AS changed_at,
  CASE WHEN cl.CommSource IS NULL OR cl.CommSource = 0 THEN 0 ELSE 1 END AS automated,
  cl.UserNum             AS user_id
FROM commlog cl
WHERE cl.CommlogNum > :after_key AND cl.CommlogNum <= :until_key
  AND (:since IS NULL OR cl.DateTStamp >= :since)
ORDER BY cl.CommlogNum
LIMIT :batch_size
