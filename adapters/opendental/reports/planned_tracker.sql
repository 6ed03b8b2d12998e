-- Open Dental's Planned Appointment Tracker (Appointments.RefreshPlannedTracker), no date
-- range: planned appointments of patients (status Patient) that no appointment was made from
-- (no appointment's NextAptNum points to it). Amount: its planned procedures.
SELECT a.AptNum AS AptNum,
       a.PatNum AS PatNum,
       COALESCE((SELECT SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) FROM procedurelog pl
                 WHERE pl.PlannedAptNum = a.AptNum AND pl.ProcStatus = 1), 0) AS AmtPlanned
FROM appointment a
INNER JOIN patient p ON p.PatNum = a.PatNum
LEFT JOIN appointment t ON a.AptNum = t.NextAptNum
WHERE a.AptStatus = 6
  AND p.PatStatus = 0
  AND t.NextAptNum IS NULL
