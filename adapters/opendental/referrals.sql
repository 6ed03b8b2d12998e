-- Referral sources and specialists (referral). A business keeps its name in LName (NotPerson).
SELECT
  f.ReferralNum          AS pms_id,
  COALESCE(f.LName, '')  AS last_name,
  COALESCE(f.FName, '')  AS first_name,
  f.NotPerson            AS is_organization,
  f.Specialty            AS specialty_id,
  COALESCE(f.Telephone, '') AS phone,
  COALESCE(f.EMail, '')  AS email,
  f.IsHidden             AS hidden,
  f.DateTStamp           AS changed_at
FROM referral f
WHERE f.ReferralNum > :after_key AND f.ReferralNum <= :until_key
  AND (:since IS NULL OR f.DateTStamp >= :since)
ORDER BY f.ReferralNum
LIMIT :batch_size
