-- Predeterminations not yet answered: unsent, waiting to send, sent or on hold.
SELECT claim.ClaimNum AS ClaimNum,
       claim.PatNum AS PatNum,
       claim.ClaimFee AS ClaimFee
FROM claim
WHERE claim.ClaimType = 'PreAuth'
  AND claim.ClaimStatus IN ('U', 'W', 'S', 'H')
