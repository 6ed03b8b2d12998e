"""What verify found, as text for people or JSON for scripts: ids and amounts, never names."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tc_sync.verify.compare import Difference, Reason, What
from tc_sync.verify.source import ReportResult, SourceResult

NO_REPORTS = "no Open Dental reports for this PMS"


def _money(cents: int | None) -> str:
    if cents is None:
        return "no amount"
    return f"-${-cents / 100:,.2f}" if cents < 0 else f"${cents / 100:,.2f}"


def describe(difference: Difference) -> str:
    """One line: the item, how it differs, and why."""
    d = difference
    what = {
        What.MISSING: f"listed by Open Dental ({_money(d.open_dental_amount)}), no open item",
        What.EXTRA: f"open item ({_money(d.tc_sync_amount)}), not listed by Open Dental",
        What.AMOUNT: f"Open Dental {_money(d.open_dental_amount)}, tc-sync "
                     f"{_money(d.tc_sync_amount)}",
        What.SET_ASIDE: f"listed by Open Dental, item snoozed until {d.snoozed_until}",
    }[d.what]
    return f"{d.key} (patient {d.patient_id}): {what}: {d.reason or Reason.UNEXPLAINED}"


def _report_lines(result: ReportResult) -> list[str]:
    spec, comparison = result.report.spec, result.comparison
    lines = [f"  {spec.title} ({spec.kind.value}): agree {comparison.agree:,} of "
             f"{comparison.total:,}"]
    lines += [f"    {describe(difference)}" for difference in comparison.differences]
    knobs = dict.fromkeys(knob for d in comparison.differences for knob in d.knobs)
    if knobs:
        lines.append("    the mapping knobs (this site's value, then Open Dental's):")
        lines += [f"      {knob}" for knob in knobs]
    return lines


def text(results: list[SourceResult], today: date) -> str:
    """The report for people."""
    lines = []
    for result in results:
        if not result.has_reports:
            lines.append(f"{result.source_id}: {NO_REPORTS}")
            continue
        lines.append(f"{result.source_id}: Open Dental's reports beside tc-sync's open items "
                     f"on {today}")
        for report in result.reports:
            lines += _report_lines(report)
        if result.without_report:
            kinds = ", ".join(kind.value for kind in result.without_report)
            lines.append(f"  {kinds}: Open Dental has no report of these (skipped)")
        counts = {reason: result.count(reason) for reason in Reason}
        total = sum(counts.values())
        lines.append(f"{result.source_id}: {total:,} difference(s): "
                     + ", ".join(f"{count:,} {reason}" for reason, count in counts.items()))
    return "\n".join(lines) + "\n"


def _dollars(cents: int | None) -> float | None:
    return None if cents is None else round(cents / 100, 2)


def _difference(d: Difference) -> dict[str, Any]:
    return {"key": d.key, "difference": d.what.value, "subject_id": d.subject_id,
            "patient_id": d.patient_id, "open_dental_amount": _dollars(d.open_dental_amount),
            "tc_sync_amount": _dollars(d.tc_sync_amount),
            "snoozed_until": d.snoozed_until.isoformat() if d.snoozed_until else None,
            "reason": str(d.reason or Reason.UNEXPLAINED), "knobs": list(d.knobs)}


def _source(result: SourceResult) -> dict[str, Any]:
    return {
        "source": result.source_id,
        "note": None if result.has_reports else NO_REPORTS,
        "reports": [{"report": r.report.name, "title": r.report.spec.title,
                     "kind": r.kind.value, "agree": r.comparison.agree,
                     "of": r.comparison.total,
                     "differences": [_difference(d) for d in r.comparison.differences]}
                    for r in result.reports],
        "no_report": [kind.value for kind in result.without_report],
        "unexplained": result.count(Reason.UNEXPLAINED),
    }


def as_json(results: list[SourceResult], today: date) -> str:
    """The report for scripts: one JSON object."""
    return json.dumps({"today": today.isoformat(), "sources": [_source(r) for r in results],
                       "unexplained": sum(r.count(Reason.UNEXPLAINED) for r in results)},
                      indent=2) + "\n"
