-- Appointments (schema before 24.2.1: the planned order lives in table plannedappt).
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
  pa.ItemOrder           AS planned_order,
  a.Priority             AS priority,
  a.DateTStamp           AS changed_at
FROM appointment a
LEFT JOIN plannedappt pa ON pa.AptNum = a.AptNum
WHERE a.AptNum > :after_key AND a.AptNum <= :until_key
  AND (:since IS NULL OR a.DateTStamp >= :since)
ORDER BY a.AptNum
LIMIT :batch_size
