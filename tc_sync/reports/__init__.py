"""Weekly and monthly reports: acceptance, forecast, turnaround, aging and item flow.

`settings` (configuration), `period` (which days), `ledger` (queries to plain facts), `metrics`
(pure computations, each stating its definition), `definitions` (the words on the report),
`charts` (PNG), `html` and `xlsx` (the files), `build` (one report, written atomically),
`schedule` (the daemon's jobs).
"""
