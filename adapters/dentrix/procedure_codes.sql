-- Dentrix procedure codes: admin.proccode [known]. adacode is the CDT code coordination
-- categories are read from; only the abbreviated description is known, so it serves for both.
SELECT
  c.proccodeid AS pms_id,
  c.adacode AS code,
  c.abbrevdescript AS description,
  c.abbrevdescript AS abbreviation,
  CAST(NULL AS INTEGER) AS category_id,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {proccode} c
WHERE c.proccodeid > :after_key AND c.proccodeid <= :until_key
ORDER BY c.proccodeid
LIMIT :batch_size
