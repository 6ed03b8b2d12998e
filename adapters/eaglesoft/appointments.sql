-- Eaglesoft appointments: PPM.appointment [known]; start_time is a full date-time. The status
-- is the classification, or walked_out once the patient walked out (values in the manifest).
-- The provider is in appointment_provider, which is not read.
SELECT
  a.appointment_id AS pms_id,
  a.patient_id AS patient_id,
  CASE WHEN a.arrival_status = {value:walked_out_arrival_status} THEN 'walked_out'
       ELSE CAST(a.classification AS VARCHAR(12)) END AS status,
  a.start_time AS starts_at,
  CAST(NULL AS INTEGER) AS provider_id,
  CAST(NULL AS INTEGER) AS hygienist_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  CAST(NULL AS INTEGER) AS planned_from_id,
  CAST(NULL AS INTEGER) AS unscheduled_status_id,
  CAST(NULL AS INTEGER) AS planned_order,
  'normal' AS priority,
  CAST(NULL AS TIMESTAMP) AS changed_at
FROM {appointment} a
WHERE a.appointment_id > :after_key AND a.appointment_id <= :until_key
  AND a.patient_id > 0
ORDER BY a.appointment_id
LIMIT :batch_size
