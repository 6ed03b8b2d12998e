-- Change hints: the audit entries written at or after :since, from Open Dental's audit trail,
-- each with its patient. securitylog.LogDateTime is indexed and set by the server (NOW()) on
-- insert, so this is a range read of the newest log rows, never a scan (tc-sync always gives
-- :since). Entries that only record a look (Copy 68, Printing 69, Medical Info Viewed 70,
-- Patient Portal 75) change nothing. entry_id and logged_at (optional in an override) let a
-- look leave alone the entries an earlier look already acted on.
SELECT sl.PatNum AS patient_id, sl.SecurityLogNum AS entry_id, sl.LogDateTime AS logged_at
FROM securitylog sl
WHERE (:since IS NULL OR sl.LogDateTime >= :since)
  AND sl.PatNum > 0
  AND sl.PermType NOT IN (68, 69, 70, 75)
LIMIT :batch_size
