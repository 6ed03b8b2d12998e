-- Dentrix patients: the Developer Program view admin.v_patient [known].
-- No preferred contact method is read; a patient's clinic is not in the view.
SELECT
  p.patient_id AS pms_id,
  p.last_name AS last_name,
  p.first_name AS first_name,
  p.preferred_name AS preferred_name,
  p.status AS status,
  'none' AS preferred_contact,
  p.home_phone AS home_phone,
  p.work_phone AS work_phone,
  p.mobile_phone AS mobile_phone,
  p.email AS email,
  p.birth_date AS birthdate,
  p.guar_id AS guarantor_id,
  p.pri_provider_id AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  p.modified_time_stamp AS changed_at
FROM {v_patient} p
WHERE p.patient_id > :after_key AND p.patient_id <= :until_key
  AND (:since IS NULL OR p.modified_time_stamp >= :since)
ORDER BY p.patient_id
LIMIT :batch_size
