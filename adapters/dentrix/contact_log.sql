-- Dentrix Office Journal: admin.contact [known]. Every entry about a patient counts as a
-- contact attempt; contacttype says how (code map). Direction is not recorded: read as sent.
SELECT
  j.contactid AS pms_id,
  j.patid AS patient_id,
  j.contactdate AS contacted_at,
  CAST(NULL AS INTEGER) AS contact_type_id,
  j.contacttype AS mode,
  'sent' AS direction,
  j.automodifiedtimestamp AS changed_at,
  0 AS automated,
  CAST(NULL AS INTEGER) AS user_id
FROM {contact} j
WHERE j.contactid > :after_key AND j.contactid <= :until_key
  AND j.patid > 0
  AND (:since IS NULL OR j.automodifiedtimestamp >= :since)
ORDER BY j.contactid
LIMIT :batch_size
