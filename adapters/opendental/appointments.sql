-- Appointments (schema 24.2.1 and later: the planned order lives on the appointment).
SELECT
  a.AptNum               AS pms_id,
  a.PatNum               AS patient_id,
  a.AptStatus            AS status,
  a.AptDateTime          AS starts_at,
  a.ProvNum              AS provider_id,
  a.ProvHyg              AS hygienist_id,
  a.ClinicNum            AS clinic_id,
  a.NextAptNum           AS planned_from_id,
  a.UnschedStatus        AS unscheduled_status_id,
  a.ItemOrderPlanned     AS planned_order,
  a.Priority             AS priority,
  a.DateTStamp           AS changed_at
FROM appointment a
WHERE a.AptNum > :after_key AND a.AptNum <= :until_key
  AND (:since IS NULL OR a.DateTStamp >= :since)
ORDER BY a.AptNum
LIMIT :batch_size
