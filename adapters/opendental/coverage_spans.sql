-- Coverage spans (covspan): the procedure code ranges of each coverage category. A plan's
-- yearly limitation on a category (or a code) keeps those procedures' insurance out of the
-- annual maximum's used and pending, as the Treatment Finder counts them. No timestamp.
SELECT
  cs.CovSpanNum          AS pms_id,
  cs.CovCatNum           AS category_id,
  cs.FromCode            AS from_code,
  cs.ToCode              AS to_code
FROM covspan cs
WHERE cs.CovSpanNum > :after_key AND cs.CovSpanNum <= :until_key
ORDER BY cs.CovSpanNum
LIMIT :batch_size
