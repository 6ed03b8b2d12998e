-- Lab cases: what was sent to a lab, for which appointment, and whether it came back.
SELECT
  c.LabCaseNum           AS pms_id,
  c.PatNum               AS patient_id,
  c.LaboratoryNum        AS lab_id,
  c.AptNum               AS appointment_id,
  c.PlannedAptNum        AS planned_appointment_id,
  c.DateTimeDue          AS due_at,
  c.DateTimeCreated      AS created_at,
  c.DateTimeSent         AS sent_at,
  c.DateTimeRecd         AS received_at,
  c.DateTimeChecked      AS checked_at,
  c.ProvNum              AS provider_id,
  c.DateTStamp           AS changed_at
FROM labcase c
WHERE c.LabCaseNum > :after_key AND c.LabCaseNum <= :until_key
  AND (:since IS NULL OR c.DateTStamp >= :since)
ORDER BY c.LabCaseNum
LIMIT :batch_size
