-- Chart procedures on active and inactive treatment plans (treatplanattach). The table has no
-- timestamp and no patient: read whole when it was written, the patient from the plan.
SELECT
  a.TreatPlanAttachNum   AS pms_id,
  a.TreatPlanNum         AS plan_id,
  tp.PatNum              AS patient_id,
  a.ProcNum              AS procedure_id
FROM treatplanattach a
JOIN treatplan tp ON tp.TreatPlanNum = a.TreatPlanNum
WHERE a.TreatPlanAttachNum > :after_key AND a.TreatPlanAttachNum <= :until_key
ORDER BY a.TreatPlanAttachNum
LIMIT :batch_size
