-- Claims and predeterminations (ClaimType 'PreAuth'), with the carrier of the plan billed, and
-- when the claim's custom tracking status was set, as Open Dental's Outstanding Claims report
-- reads it: the claim's newest tracking row with a status (TrackingDefNum <> 0), if that row is
-- a status-history row of the claim's current status; otherwise NULL (not suppressed).
-- claimtracking is indexed on ClaimNum. Choosing a status again writes only a claimtracking row
-- (the claim row may not change at all), so an incremental pull also reads claims whose status
-- history changed.
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
    SELECT MAX(st.DateTimeEntry) FROM claimtracking st
    WHERE st.ClaimNum = c.ClaimNum AND st.TrackingType = 'StatusHistory'
      AND st.TrackingDefNum = c.CustomTracking
      AND st.DateTimeEntry = (SELECT MAX(ct.DateTimeEntry) FROM claimtracking ct
                              WHERE ct.ClaimNum = c.ClaimNum AND ct.TrackingDefNum <> 0))
    END AS custom_tracking_since,
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
