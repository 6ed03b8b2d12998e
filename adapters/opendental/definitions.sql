-- Definitions: the practice's own lists (procedure categories, unscheduled statuses, custom
-- claim tracking, commlog types, treatment priorities, referral specialties, insurance
-- verification statuses). No timestamp: read whole each time.
-- Only the categories tc-sync uses are read; the manifest maps each one.
SELECT
  d.DefNum               AS pms_id,
  d.Category             AS category,
  d.ItemOrder            AS item_order,
  d.ItemName             AS name,
  d.ItemValue            AS value,
  d.IsHidden             AS hidden
FROM definition d
WHERE d.DefNum > :after_key AND d.DefNum <= :until_key
  AND d.Category IN (11, 13, 20, 27, 31, 35, 38)
ORDER BY d.DefNum
LIMIT :batch_size
