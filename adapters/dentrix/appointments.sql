-- Dentrix appointments: the Developer Program view admin.v_appt [known]. A broken appointment
-- has broken = 1; otherwise status_id is the practice's appointment status (code map).
-- Dentrix keeps the date, hour and minute apart: the __date/__hour/__minute columns come back
-- joined as starts_at (naive local time, as Dentrix stores it).
SELECT
  a.appointment_id AS pms_id,
  a.patient_id AS patient_id,
  CASE WHEN a.broken = 1 THEN 'broken' ELSE CAST(a.status_id AS VARCHAR(12)) END AS status,
  a.appointment_date AS starts_at__date,
  a.start_hour AS starts_at__hour,
  a.start_minute AS starts_at__minute,
  a.provider_id AS provider_id,
  CAST(NULL AS INTEGER) AS hygienist_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  CAST(NULL AS INTEGER) AS planned_from_id,
  CAST(NULL AS INTEGER) AS unscheduled_status_id,
  CAST(NULL AS INTEGER) AS planned_order,
  'normal' AS priority,
  a.modified_time_stamp AS changed_at
FROM {v_appt} a
WHERE a.appointment_id > :after_key AND a.appointment_id <= :until_key
  AND a.patient_id > 0
  AND (:since IS NULL OR a.modified_time_stamp >= :since)
ORDER BY a.appointment_id
LIMIT :batch_size
