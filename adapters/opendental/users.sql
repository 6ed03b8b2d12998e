-- Users (userod): names of staff who present plans. No timestamp: read whole when written.
-- Only the name and whether hidden; never passwords or anything else.
SELECT
  u.UserNum              AS pms_id,
  COALESCE(u.UserName, '') AS name,
  u.IsHidden             AS hidden
FROM userod u
WHERE u.UserNum > :after_key AND u.UserNum <= :until_key
ORDER BY u.UserNum
LIMIT :batch_size
