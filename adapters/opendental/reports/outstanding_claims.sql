-- Open Dental's Outstanding Insurance Claims report (RpOutstandingIns), "Excluding Preauths",
-- no date range (a blank date sent is listed too). Custom tracking as the report reads it: the
-- claim's status (definition) and the status-history row of that status that is also the
-- claim's newest tracking row; tc-sync verify hides the claim while DateLog + the status's days
-- suppressed (definition.ItemValue) is after today.
SELECT claim.ClaimNum AS ClaimNum,
       claim.PatNum AS PatNum,
       claim.ClaimFee AS ClaimFee,
       DATE(statusHistory.DateTimeEntry) AS DateLog,
       definition.ItemValue AS DaysSuppressed
FROM carrier
INNER JOIN insplan ON insplan.CarrierNum = carrier.CarrierNum
INNER JOIN claim ON claim.PlanNum = insplan.PlanNum
LEFT JOIN definition ON definition.DefNum = claim.CustomTracking
LEFT JOIN claimtracking statusHistory
  ON statusHistory.ClaimNum = claim.ClaimNum
  AND statusHistory.TrackingDefNum = definition.DefNum
  AND statusHistory.TrackingType = 'StatusHistory'
  AND statusHistory.DateTimeEntry = (
    SELECT MAX(ct.DateTimeEntry) FROM claimtracking ct
    WHERE ct.ClaimNum = claim.ClaimNum AND ct.TrackingDefNum <> 0)
WHERE claim.ClaimStatus = 'S'
  AND claim.ClaimType <> 'PreAuth'
