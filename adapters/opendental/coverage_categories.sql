-- Coverage categories (covcat): the benefit categories a plan's percentages and limits name.
-- Which one is "general" decides which limitation is the annual maximum. No timestamp.
SELECT
  cc.CovCatNum           AS pms_id,
  cc.Description         AS description,
  cc.EbenefitCat         AS benefit_category,
  cc.IsHidden            AS hidden
FROM covcat cc
WHERE cc.CovCatNum > :after_key AND cc.CovCatNum <= :until_key
ORDER BY cc.CovCatNum
LIMIT :batch_size
