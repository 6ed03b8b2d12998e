-- Eaglesoft patients: PPM.patient [known]. The status code joins status and patient_status
-- (see the code map). No preferred contact method is read; Eaglesoft has no clinics here.
SELECT
  p.patient_id AS pms_id,
  p.last_name AS last_name,
  p.first_name AS first_name,
  p.preferred_name AS preferred_name,
  COALESCE(p.status, '') || COALESCE(p.patient_status, 'Y') AS status,
  'none' AS preferred_contact,
  p.home_phone AS home_phone,
  p.work_phone AS work_phone,
  p.cell_phone AS mobile_phone,
  p.email_address AS email,
  p.birth_date AS birthdate,
  p.responsible_party AS guarantor_id,
  p.preferred_dentist AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {patient} p
WHERE p.patient_id > :after_key AND p.patient_id <= :until_key
ORDER BY p.patient_id
LIMIT :batch_size
