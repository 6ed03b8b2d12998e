-- Dentrix claim lines: a procedure is on the claim its fullproclog.claimid names [known], so a
-- procedure is on one claim at a time; its line key is the procedure's. Paid is the primary or
-- secondary insurance payment entered on the procedure [known], as the claim type says.
SELECT
  f.procid AS pms_id,
  f.claimid AS claim_id,
  f.procid AS procedure_id,
  f.patid AS patient_id,
  i.insplanid AS plan_id,
  c.insuredid AS subscription_id,
  CASE WHEN c.claimtype IN ({codes:claims.claim_type=predetermination}) THEN 'predetermination'
       WHEN c.datereceived IS NOT NULL THEN 'received'
       ELSE 'not_received' END AS status,
  f.amt AS fee_billed,
  f.amtpreauth AS estimate,
  CASE WHEN c.claimtype IN ({codes:claims.claim_type=secondary}) THEN f.amtsecinspaid
       ELSE f.amtpriminspaid END AS paid,
  0 AS deductible_applied,
  0 AS write_off,
  f.procdate AS procedure_date,
  c.datereceived AS date_paid,
  f.automodifiedtimestamp AS changed_at
FROM {fullproclog} f
JOIN {claim} c ON c.claimid = f.claimid
LEFT JOIN {insured} i ON i.insuredid = c.insuredid
WHERE f.procid > :after_key AND f.procid <= :until_key
  AND f.claimid > 0
  AND f.chartstatus IN ({codes:procedures.status})
  AND (:since IS NULL OR f.automodifiedtimestamp >= :since)
ORDER BY f.procid
LIMIT :batch_size
