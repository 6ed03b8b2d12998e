"""The report as one self-contained HTML page: charts embedded as PNG data, tables, definitions.

It needs no server and no internet. Each chart's figure element also carries the numbers it
was drawn from (`data-chart`), and the table under it shows them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict
from html import escape

from tc_sync.queues.html import money
from tc_sync.reports.charts import Drawn, draw
from tc_sync.reports.metrics import Acceptance
from tc_sync.reports.report import Report

_STYLE = """
body { font-family: system-ui, Segoe UI, Arial, sans-serif; margin: 1.5em auto; max-width: 60em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
     border-bottom: 2px solid #305496; }
.meta { color: #555; } .note { background: #FFF4CE; padding: 0.5em 0.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; } th { background: #305496; color: #fff; }
td.n { text-align: right; } tr.total td { font-weight: bold; }
figure { margin: 0.8em 0; } figure img { max-width: 100%; }
dt { font-weight: bold; margin-top: 0.6em; }
@media print { h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""


def percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or a dash when there was nothing to divide."""
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1,
           total_last: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        cells = "".join(f'<td class="n">{escape(v)}</td>' if i >= numeric_from
                        else f"<td>{escape(v)}</td>" for i, v in enumerate(row))
        total = ' class="total"' if total_last and index == len(rows) - 1 else ""
        body.append(f"<tr{total}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(drawn: Drawn) -> str:
    chart = drawn.chart
    if chart.empty:      # a sentence, not a page of blank axes
        return (f'<p class="empty" id="chart-{escape(chart.key)}">'
                f"{escape(chart.empty_sentence)}</p>")
    data = base64.b64encode(drawn.png).decode("ascii")
    numbers = escape(json.dumps(asdict(chart), sort_keys=True), quote=True)
    return (f'<figure id="chart-{escape(chart.key)}" data-chart="{numbers}">'
            f'<img alt="{escape(chart.title)}" src="data:image/png;base64,{data}">'
            f"</figure>")


def _acceptance_rows(rows: Sequence[Acceptance]) -> list[list[str]]:
    return [[row.group, f"{row.patients_presented:,}", f"{row.patients_accepted:,}",
             percent(row.patient_rate), f"{row.procedures_presented:,}",
             f"{row.procedures_accepted:,}", money(row.presented), money(row.accepted),
             percent(row.dollar_rate)] for row in rows]


_ACCEPTANCE_HEADERS = ["", "Patients presented", "Patients accepted", "By count",
                       "Procedures presented", "Procedures accepted", "Presented",
                       "Accepted", "By dollars"]


def page(report: Report, charts: dict[str, Drawn] | None = None) -> bytes:
    """The whole page, UTF-8 (`charts` as `draw` made them, else drawn here)."""
    charts = charts if charts is not None else draw(report)
    title = f"{report.site_id}: {report.period.kind} report, {report.period.title}"
    forecast = report.forecast
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{report.period.start} to {report.period.end}. Made '
        f"{report.built_at:%Y-%m-%d %H:%M} ({escape(report.built_at.tzname() or '')}) by "
        f"tc-sync from its ledger. Acceptance window: {report.window_days} days. "
        "Definitions are at the end.</p>"]
    if report.tracking_since is not None:
        parts.append(f'<p class="meta">Tracking began on {report.tracking_since} (the first '
                     "item tc-sync recorded).</p>")
    if report.tracking_note is not None:
        parts.append(f'<p class="note">{escape(report.tracking_note)}</p>')
    if report.maturing:
        parts.append(f'<p class="note">Treatment planned less than {report.window_days} days '
                     "ago has not had the whole acceptance window yet: these rates can still "
                     "rise.</p>")
    parts += [
        "<h2>Treatment acceptance</h2>",
        _table(_ACCEPTANCE_HEADERS, _acceptance_rows([report.acceptance])),
        "<h3>By provider</h3>", _figure(charts["acceptance_provider"]),
        _table(_ACCEPTANCE_HEADERS, _acceptance_rows(report.by_provider)),
        "<h3>By category</h3>", _figure(charts["acceptance_category"]),
        _table(_ACCEPTANCE_HEADERS, _acceptance_rows(report.by_category)),
        "<h3>By presenter</h3>",
        _table(_ACCEPTANCE_HEADERS, _acceptance_rows(report.by_presenter))
        if report.by_presenter else
        "<p>No treatment plan presented in this period names its presenter.</p>",
        "<h2>Production forecast</h2>",
        f"<p>From {forecast.as_of}. Open treatment not scheduled: "
        f"{escape(money(forecast.open_treatment))}, weighted by the practice's dollar "
        f"acceptance rate of {escape(percent(forecast.rate))}.</p>",
        _figure(charts["forecast"]),
        _table(["", "Scheduled", "Open treatment x acceptance", "Forecast"],
               [[f"Next {row.days} days", money(row.scheduled), money(row.weighted_open),
                 money(row.total)] for row in forecast.rows]),
        "<h2>Predetermination turnaround</h2>", _figure(charts["turnaround"]),
        _table(["Carrier", "Received", "Median days", "90th percentile days"],
               [[row.carrier, f"{row.count:,}", f"{row.median_days:g}", f"{row.p90_days}"]
                for row in report.turnaround], total_last=bool(report.turnaround)),
        "<h2>Claim aging</h2>", _figure(charts["aging"]),
        _table(["Days since sent", "Claims", "Fee billed", "Insurance estimate"],
               [[row.bucket, f"{row.claims:,}", money(row.fee), money(row.estimate)]
                for row in report.aging], total_last=True),
        "<h2>Items opened, resolved and overdue</h2>", _figure(charts["item_flow"]),
        _table(["Queue", "Owner", "Opened", "Resolved", "Overdue"],
               [[row.queue, row.owner, f"{row.opened:,}", f"{row.resolved:,}",
                 f"{row.overdue:,}"] for row in report.flow], numeric_from=2),
        "<h2>Definitions</h2><dl>",
        *(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>"
          for term, text in report.definitions),
        "</dl></body></html>"]
    return "\n".join(parts).encode("utf-8")
