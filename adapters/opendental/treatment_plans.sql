-- Treatment plans: the plans presented to patients.
SELECT
  tp.TreatPlanNum        AS pms_id,
  tp.PatNum              AS patient_id,
  tp.DateTP              AS date_presented,
  tp.Heading             AS heading,
  tp.TPStatus            AS status,
  tp.DateTSigned         AS signed_at,
  tp.SecDateTEdit        AS changed_at,
  tp.UserNumPresenter    AS presenter_id
FROM treatplan tp
WHERE tp.TreatPlanNum > :after_key AND tp.TreatPlanNum <= :until_key
  AND (:since IS NULL OR tp.SecDateTEdit >= :since)
ORDER BY tp.TreatPlanNum
LIMIT :batch_size
