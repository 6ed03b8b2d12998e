"""The definitions written on every report, in a coordinator's words, with this report's numbers.

They follow the metric definitions of the project's market notes (§4: case acceptance on a
count and a dollar basis, predetermination turnaround, claim aging buckets) and say exactly
what `tc_sync.reports.metrics` computes, including where the PMS data forces a choice.
"""

from __future__ import annotations

from datetime import date

from tc_sync.reports.metrics import RATE_HISTORY_DAYS, rate_history
from tc_sync.reports.period import Period


def definitions(period: Period, as_of: date, window_days: int) -> list[tuple[str, str]]:
    """(term, definition) pairs, in the order the report's sections appear."""
    history_from, history_to = rate_history(as_of, window_days)
    return [
        ("Presented",
         f"Procedures treatment-planned from {period.start} to {period.end} (their planned "
         "date, Open Dental's DateTP), whatever their status now (still planned, set "
         "inactive, or completed). Only treatment coordination follows is counted: the "
         "mappings' coordination categories, without their excluded codes (by default no "
         "diagnostic or preventive procedures)."),
        ("Accepted",
         f"A presented procedure completed, or on an appointment that is scheduled or "
         f"complete and dated, no later than {window_days} days after it was planned "
         "(reports.acceptance_window_days). The PMS does not record when an appointment was "
         "booked, only its date, so 'scheduled within the window' means booked for a date "
         "within it. Broken appointments and planned (not yet booked) appointments do not "
         "count."),
        ("Acceptance by count",
         "Patients accepting / patients presented: a patient is presented when any of their "
         "procedures is, and accepts when any of those is accepted (as Dental Intelligence's "
         "Patient Acceptance %). Per provider and category, only the procedures of that "
         "provider or category count."),
        ("Acceptance by dollars",
         "Dollars accepted / dollars presented, each procedure's fee x (units + base units) "
         "(as Dental Intelligence's Treatment $ Acceptance %)."),
        ("Still maturing",
         f"Procedures planned less than {window_days} days before the report was made have "
         "not had the whole window yet: their acceptance can still rise."),
        ("Category",
         "The CDT range the procedure code falls in (the mappings' categories); 'other' when "
         "none."),
        ("Production forecast",
         f"For the next 30, 60 and 90 days from {as_of} (the day the report was made): "
         "scheduled = every planned procedure on a scheduled appointment dated in those days; "
         "open treatment = planned procedures coordination follows, of active patients, not "
         f"on a scheduled appointment from {as_of} on; weighted = open treatment x the "
         "practice's dollar acceptance rate x min(days, window) / window (the accepted share "
         "is expected evenly over the acceptance window). The rate is the practice's own: "
         f"treatment planned from {history_from} to {history_to} ({RATE_HISTORY_DAYS} days "
         f"that have all had the {window_days}-day window)."),
        ("Predetermination turnaround",
         f"Predeterminations received from {period.start} to {period.end}, per carrier: days "
         "from the date sent (the original send date where the PMS keeps one, so a resend "
         "does not restart the clock) to the date received. Median: the middle value (the "
         "mean of the two middle ones for an even count). 90th percentile: nearest rank, the "
         "smallest value with at least 90% of the values at or below it."),
        ("Claim aging",
         f"Insurance claims (not predeterminations) outstanding at the end of {period.end}: "
         "sent on or before that day and not received by then. Age in days from the date "
         "sent (Open Dental's default), in buckets 0-30, 31-60, 61-90 and 90+ (over 90). "
         "Totals are the fee billed and the insurance estimate."),
        ("Items opened, resolved, overdue",
         f"From the items' history, {period.start} to {period.end} in the practice's time "
         "zone: opened counts items that opened or reopened, resolved those that resolved, "
         "each under the item's queue and owner now. Overdue: items open when the report "
         f"was made whose next follow-up is before {period.end}."),
    ]
