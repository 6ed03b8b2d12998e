-- Open Dental's Treatment Finder (RpTreatmentFinder.GetDictAmtPlanned), every filter off:
-- each patient (status Patient) with treatment planned, fee x (units + base units), over zero,
-- unless the patient has an appointment scheduled from today on. The appointment test is
-- per patient: procedures on a past or planned appointment still count.
SELECT pl.PatNum AS PatNum,
       SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) AS AmtPlanned
FROM procedurelog pl
INNER JOIN patient p ON p.PatNum = pl.PatNum
WHERE pl.ProcStatus = 1
  AND p.PatStatus = 0
  AND pl.PatNum NOT IN (
    SELECT a.PatNum FROM appointment a
    WHERE a.AptStatus = 1 AND a.AptDateTime >= :today)
GROUP BY pl.PatNum
HAVING SUM(pl.ProcFee * (pl.UnitQty + pl.BaseUnits)) > 0
