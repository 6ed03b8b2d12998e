-- Claim tracking history (claimtracking): each custom tracking status staff set on a claim
-- ("Called carrier", "Resubmitted") is a follow-up attempt on it. The note is not read.
-- DateTimeEntry is a timestamp MySQL also moves when the row is edited.
SELECT
  ct.ClaimTrackingNum    AS pms_id,
  c.PatNum               AS patient_id,
  ct.ClaimNum            AS claim_id,
  ct.TrackingType        AS entry_type,
  ct.TrackingDefNum      AS status_id,
  ct.DateTimeEntry       AS entered_at,
  ct.UserNum             AS user_id,
  ct.DateTimeEntry       AS changed_at
FROM claimtracking ct
INNER JOIN claim c ON c.ClaimNum = ct.ClaimNum
WHERE ct.ClaimTrackingNum > :after_key AND ct.ClaimTrackingNum <= :until_key
  AND (:since IS NULL OR ct.DateTimeEntry >= :since)
ORDER BY ct.ClaimTrackingNum
LIMIT :batch_size
