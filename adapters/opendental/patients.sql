-- Patients: who to call, how they like to be reached, and whether they are active.
SELECT
  p.PatNum               AS pms_id,
  p.LName                AS last_name,
  p.FName                AS first_name,
  p.Preferred            AS preferred_name,
  p.PatStatus            AS status,
  p.PreferContactMethod  AS preferred_contact,
  p.HmPhone              AS home_phone,
  p.WkPhone              AS work_phone,
  p.WirelessPhone        AS mobile_phone,
  p.Email                AS email,
  p.Birthdate            AS birthdate,
  p.Guarantor            AS guarantor_id,
  p.PriProv              AS provider_id,
  p.ClinicNum            AS clinic_id,
  p.DateTStamp           AS changed_at
FROM patient p
WHERE p.PatNum > :after_key AND p.PatNum <= :until_key
  AND (:since IS NULL OR p.DateTStamp >= :since)
ORDER BY p.PatNum
LIMIT :batch_size
