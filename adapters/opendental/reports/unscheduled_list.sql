-- Open Dental's Unscheduled List (Appointments.RefreshUnsched), broken appointments included,
-- no date range: unscheduled-list and broken appointments of patients and prospective
-- patients. Amount: the planned procedures on the appointment.
SELECT a.AptNum AS AptNum,
       a.PatNum AS PatNum,
       COALESCE((SELECT SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) FROM procedurelog pl
                 WHERE pl.AptNum = a.AptNum AND pl.ProcStatus = 1), 0) AS AmtPlanned
FROM appointment a
INNER JOIN patient p ON p.PatNum = a.PatNum
WHERE a.AptStatus IN (3, 5)
  AND p.PatStatus IN (0, 6)
