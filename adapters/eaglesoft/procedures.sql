-- Eaglesoft planned procedures: PPM.planned_services [known], keyed by patient and line. A
-- service booked on an appointment has appt_id [known]. Completed work leaves this table for
-- the ledger (transactions), which this stream does not read: an item for treatment that was
-- done resolves as no longer owed rather than completed.
SELECT
  ps.patient_id * 4294967296 + ps.line_number AS pms_id,
  ps.patient_id AS patient_id,
  s.ada_code AS code,
  CAST(NULL AS INTEGER) AS code_id,
  COALESCE(ps.status, '') AS status,
  ps.fee AS fee,
  1 AS units,
  0 AS base_units,
  ps.tooth AS tooth,
  ps.surface AS surface,
  ps.date_planned AS date_planned,
  ps.date_planned AS procedure_date,
  CAST(NULL AS DATE) AS date_complete,
  ps.appt_id AS appointment_id,
  CAST(NULL AS INTEGER) AS planned_appointment_id,
  CAST(NULL AS INTEGER) AS priority_id,
  ps.provider_id AS provider_id,
  CAST(NULL AS INTEGER) AS clinic_id,
  ps.status_date AS changed_at
FROM {planned_services} ps
LEFT JOIN {services} s ON s.service_code = ps.service_code
WHERE ps.patient_id >= (:after_key - MOD(:after_key, 4294967296)) / 4294967296
  AND ps.patient_id <= (:until_key - MOD(:until_key, 4294967296)) / 4294967296
  AND ps.patient_id * 4294967296 + ps.line_number > :after_key
  AND ps.patient_id * 4294967296 + ps.line_number <= :until_key
ORDER BY ps.patient_id, ps.line_number
LIMIT :batch_size
