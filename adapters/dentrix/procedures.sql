-- Dentrix procedures: admin.fullproclog [known], the procedure log and the ledger in one
-- table (payments are rows too), so only rows whose chartstatus the code map lists are read.
-- The appointment a procedure is booked on is not read: Dentrix keeps it on the appointment
-- (appt.codeid1..20), so unscheduled treatment uses Dentrix's own rule, any future booking.
SELECT
  f.procid AS pms_id,
  f.patid AS patient_id,
  c.adacode AS code,
  f.proccodeid AS code_id,
  f.chartstatus AS status,
  f.amt AS fee,
  1 AS units,
  0 AS base_units,
  CASE WHEN f.toothrangestart > 0 THEN f.toothrangestart END AS tooth,
  '' AS surface,
  f.createdate AS date_planned,
  f.procdate AS procedure_date,
  f.completiondate AS date_complete,
  CAST(NULL AS INTEGER) AS appointment_id,
  CAST(NULL AS INTEGER) AS planned_appointment_id,
  CAST(NULL AS INTEGER) AS priority_id,
  f.provid AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  f.automodifiedtimestamp AS changed_at
FROM {fullproclog} f
LEFT JOIN {proccode} c ON c.proccodeid = f.proccodeid
WHERE f.procid > :after_key AND f.procid <= :until_key
  AND f.chartstatus IN ({codes:procedures.status})
  AND (:since IS NULL OR f.automodifiedtimestamp >= :since)
ORDER BY f.procid
LIMIT :batch_size
