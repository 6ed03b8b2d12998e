-- Eaglesoft claims: PPM.insurance_claim [known]. No status or sent date is public, so:
--  * a claim that treatment_plan_items point to is a predetermination [inferred];
--  * a claim is received once an insurance payment is recorded on it (prim_total_paid or
--    sec_total_paid), on the date of its latest transaction; otherwise it is read as sent on
--    the day it was created. A denial (nothing paid) or an unsent claim cannot be told apart
--    from one waiting at the carrier.
SELECT
  c.claim_id AS pms_id,
  c.patient_id AS patient_id,
  CASE WHEN EXISTS (SELECT 1 FROM {treatment_plan_items} i WHERE i.claim_id = c.claim_id)
       THEN 'treatment_plan' ELSE CAST(c.claim_type AS VARCHAR(12)) END AS claim_type,
  CASE WHEN COALESCE(c.prim_total_paid, 0) <> 0 OR COALESCE(c.sec_total_paid, 0) <> 0
       THEN 'paid' ELSE 'open' END AS status,
  c.date_created AS date_service,
  c.date_created AS date_sent,
  c.date_created AS date_sent_original,
  CASE WHEN COALESCE(c.prim_total_paid, 0) <> 0 OR COALESCE(c.sec_total_paid, 0) <> 0
       THEN COALESCE((SELECT MAX(t.tran_date) FROM {transactions} t
                      WHERE t.claim_id = c.claim_id), c.date_created) END AS date_received,
  c.prim_submitted_total AS fee,
  0 AS estimate,
  COALESCE(c.prim_total_paid, 0) + COALESCE(c.sec_total_paid, 0) AS paid,
  0 AS write_off,
  c.prim_employer_id AS plan_id,
  CAST(NULL AS INTEGER) AS subscription_id,
  c.prim_insurance_company_id AS carrier_id,
  CAST(NULL AS INTEGER) AS custom_tracking_id,
  CAST(NULL AS TIMESTAMP) AS custom_tracking_since,
  c.provider_id AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {insurance_claim} c
WHERE c.claim_id > :after_key AND c.claim_id <= :until_key
ORDER BY c.claim_id
LIMIT :batch_size
