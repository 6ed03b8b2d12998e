-- Predeterminations received (any patient status) with at least one of their procedures still
-- treatment-planned and not on an appointment scheduled from today on. Amount: those
-- procedures, each counted once.
SELECT claim.ClaimNum AS ClaimNum,
       claim.PatNum AS PatNum,
       SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) AS AmtPlanned
FROM claim
INNER JOIN procedurelog pl ON pl.PatNum = claim.PatNum
WHERE claim.ClaimType = 'PreAuth'
  AND claim.ClaimStatus = 'R'
  AND pl.ProcStatus = 1
  AND EXISTS (SELECT 1 FROM claimproc cp
              WHERE cp.ClaimNum = claim.ClaimNum AND cp.ProcNum = pl.ProcNum)
  AND NOT EXISTS (SELECT 1 FROM appointment a
                  WHERE a.AptNum = pl.AptNum AND a.AptStatus = 1 AND a.AptDateTime >= :today)
GROUP BY claim.ClaimNum, claim.PatNum
