-- Open Dental's Claims Not Sent report ("All" statuses: unsent, hold until primary, waiting
-- to send, hold for in-process), predeterminations excluded. The report reaches each claim
-- through its procedures, plan and carrier with inner joins and lists it once.
SELECT claim.ClaimNum AS ClaimNum,
       claim.PatNum AS PatNum,
       claim.ClaimFee AS ClaimFee
FROM claim
INNER JOIN claimproc ON claimproc.ClaimNum = claim.ClaimNum
INNER JOIN procedurelog ON procedurelog.ProcNum = claimproc.ProcNum
INNER JOIN procedurecode ON procedurecode.CodeNum = procedurelog.CodeNum
INNER JOIN insplan ON insplan.PlanNum = claim.PlanNum
INNER JOIN carrier ON carrier.CarrierNum = insplan.CarrierNum
WHERE claim.ClaimStatus IN ('U', 'H', 'W', 'I')
  AND claim.ClaimType <> 'PreAuth'
GROUP BY claim.ClaimNum, claim.PatNum, claim.ClaimFee
