-- Claims and predeterminations (ClaimType 'PreAuth'), with the carrier of the plan billed, and
-- when the claim's custom tracking status was set: the latest status-history row of the claim
-- for that status (claimtracking is indexed on ClaimNum; NULL when there is no status or no
-- row). Choosing a status again writes only a claimtracking row (the claim row may not change
-- at all), so an incremental pull also reads claims whose status history changed.
SELECT
  c.ClaimNum             AS pms_id,
  c.PatNum               AS patient_id,
  c.ClaimType            AS claim_type,
  c.ClaimStatus          AS status,
  c.DateService          AS date_service,
  c.DateSent             AS date_sent,
  c.DateSentOrig         AS date_sent_original,
  c.DateReceived         AS date_received,
  c.ClaimFee             AS fee,
  c.InsPayEst            AS estimate,
  c.InsPayAmt            AS paid,
  c.WriteOff             AS write_off,
  c.PlanNum              AS plan_id,
  c.InsSubNum            AS subscription_id,
  ip.CarrierNum          AS carrier_id,
  c.CustomTracking       AS custom_tracking_id,
  CASE WHEN c.CustomTracking > 0 THEN (
    SELECT MAX(ct.DateTimeEntry) FROM claimtracking ct
    WHERE ct.ClaimNum = c.ClaimNum AND ct.TrackingType = 'StatusHistory'
      AND ct.TrackingDefNum = c.CustomTracking) END AS custom_tracking_since,
  c.ProvTreat            AS provider_id,
  c.ClinicNum            AS clinic_id,
  c.SecDateTEdit         AS changed_at
FROM claim c
LEFT JOIN insplan ip ON ip.PlanNum = c.PlanNum
WHERE c.ClaimNum > :after_key AND c.ClaimNum <= :until_key
  AND (:since IS NULL OR c.SecDateTEdit >= :since
       OR c.ClaimNum IN (SELECT th.ClaimNum FROM claimtracking th
                         WHERE th.ClaimNum > :after_key AND th.ClaimNum <= :until_key
                           AND th.DateTimeEntry >= :since))
ORDER BY c.ClaimNum
LIMIT :batch_size
