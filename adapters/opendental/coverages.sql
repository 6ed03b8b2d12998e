-- Insurance coverage: a patient's plan (patplan) with its subscriber, plan and carrier.
-- Changed when any of the four rows changed.
SELECT
  pp.PatPlanNum          AS pms_id,
  pp.PatNum              AS patient_id,
  pp.Ordinal             AS ordinal,
  pp.InsSubNum           AS subscription_id,
  sub.PlanNum            AS plan_id,
  sub.Subscriber         AS subscriber_id,
  sub.DateEffective      AS date_effective,
  sub.DateTerm           AS date_term,
  ip.GroupName           AS group_name,
  ip.MonthRenew          AS renewal_month,
  ip.PlanType            AS plan_type,
  ip.CarrierNum          AS carrier_id,
  car.CarrierName        AS carrier_name,
  car.Phone              AS carrier_phone,
  GREATEST(pp.SecDateTEdit,
           COALESCE(sub.SecDateTEdit, pp.SecDateTEdit),
           COALESCE(ip.SecDateTEdit, pp.SecDateTEdit),
           COALESCE(car.SecDateTEdit, pp.SecDateTEdit)) AS changed_at
FROM patplan pp
LEFT JOIN inssub sub ON sub.InsSubNum = pp.InsSubNum
LEFT JOIN insplan ip ON ip.PlanNum = sub.PlanNum
LEFT JOIN carrier car ON car.CarrierNum = ip.CarrierNum
WHERE pp.PatPlanNum > :after_key AND pp.PatPlanNum <= :until_key
  AND (:since IS NULL
       OR pp.SecDateTEdit >= :since OR sub.SecDateTEdit >= :since
       OR ip.SecDateTEdit >= :since OR car.SecDateTEdit >= :since)
ORDER BY pp.PatPlanNum
LIMIT :batch_size
