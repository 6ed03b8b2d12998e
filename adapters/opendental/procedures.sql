-- Procedures: planned, completed and deleted treatment, with the CDT code joined in.
SELECT
  pl.ProcNum             AS pms_id,
  pl.PatNum              AS patient_id,
  pc.ProcCode            AS code,
  pl.CodeNum             AS code_id,
  pl.ProcStatus          AS status,
  pl.ProcFee             AS fee,
  pl.UnitQty             AS units,
  pl.BaseUnits           AS base_units,
  pl.ToothNum            AS tooth,
  pl.Surf                AS surface,
  pl.DateTP              AS date_planned,
  pl.ProcDate            AS procedure_date,
  pl.DateComplete        AS date_complete,
  pl.AptNum              AS appointment_id,
  pl.PlannedAptNum       AS planned_appointment_id,
  pl.Priority            AS priority_id,
  pl.ProvNum             AS provider_id,
  pl.ClinicNum           AS clinic_id,
  pl.DateTStamp          AS changed_at
FROM procedurelog pl
LEFT JOIN procedurecode pc ON pc.CodeNum = pl.CodeNum
WHERE pl.ProcNum > :after_key AND pl.ProcNum <= :until_key
  AND (:since IS NULL OR pl.DateTStamp >= :since)
ORDER BY pl.ProcNum
LIMIT :batch_size
