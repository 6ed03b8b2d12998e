-- Contact log (commlog): when the practice last reached out, how, and which way.
-- The note itself is not read: the coordinator needs the fact of contact, not its text.
SELECT
  cl.CommlogNum          AS pms_id,
  cl.PatNum              AS patient_id,
  cl.CommDateTime        AS contacted_at,
  cl.CommType            AS contact_type_id,
  cl.Mode_               AS mode,
  cl.SentOrReceived      AS direction,
  cl.DateTStamp          AS changed_at
FROM commlog cl
WHERE cl.CommlogNum > :after_key AND cl.CommlogNum <= :until_key
  AND (:since IS NULL OR cl.DateTStamp >= :since)
ORDER BY cl.CommlogNum
LIMIT :batch_size
