-- Dentrix claims and pre-treatment estimates: admin.claim. Public code shows only patid and
-- totalreceived [known] and the key claimid [inferred from fullproclog.claimid]; claimtype,
-- insuredid, createdate, datesent and datereceived are [guess]es to verify with tc-sync check.
-- Status: received once a received date is entered, sent once a sent date is, else unsent.
-- Fee: the sum of the claim's procedures; estimate: the pre-treatment estimate amounts entered
-- on them (fullproclog.amtpreauth [known; meaning inferred]).
SELECT
  c.claimid AS pms_id,
  c.patid AS patient_id,
  c.claimtype AS claim_type,
  CASE WHEN c.datereceived IS NOT NULL THEN 'received'
       WHEN c.datesent IS NOT NULL THEN 'sent'
       ELSE 'unsent' END AS status,
  c.createdate AS date_service,
  c.datesent AS date_sent,
  c.datesent AS date_sent_original,
  c.datereceived AS date_received,
  (SELECT SUM(f.amt) FROM {fullproclog} f WHERE f.claimid = c.claimid) AS fee,
  (SELECT SUM(e.amtpreauth) FROM {fullproclog} e WHERE e.claimid = c.claimid) AS estimate,
  c.totalreceived AS paid,
  0 AS write_off,
  i.insplanid AS plan_id,
  c.insuredid AS subscription_id,
  i.insplanid AS carrier_id,
  CAST(NULL AS INTEGER) AS custom_tracking_id,
  CAST(NULL AS TIMESTAMP) AS custom_tracking_since,
  CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  c.automodifiedtimestamp AS changed_at
FROM {claim} c
LEFT JOIN {insured} i ON i.insuredid = c.insuredid
WHERE c.claimid > :after_key AND c.claimid <= :until_key
  AND (:since IS NULL OR c.automodifiedtimestamp >= :since)
ORDER BY c.claimid
LIMIT :batch_size
