-- Referrals attached to patients (refattach): to a specialist (RefType 0) or from a source.
SELECT
  r.RefAttachNum         AS pms_id,
  r.PatNum               AS patient_id,
  r.ReferralNum          AS referral_id,
  r.RefType              AS direction,
  r.RefToStatus          AS status,
  r.RefDate              AS referred_on,
  r.ProcNum              AS procedure_id,
  r.DateProcComplete     AS procedure_completed_on,
  r.ProvNum              AS provider_id,
  r.DateTStamp           AS changed_at
FROM refattach r
WHERE r.RefAttachNum > :after_key AND r.RefAttachNum <= :until_key
  AND (:since IS NULL OR r.DateTStamp >= :since)
ORDER BY r.RefAttachNum
LIMIT :batch_size
