"""The report's charts: the figures behind each one, and the PNG drawn from them.

Drawn with matplotlib's Agg canvas directly (no pyplot, no display, no global state), at a fixed
size, with no timestamp or version in the file: the same figures give the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from tc_sync.reports.metrics import ALL, Acceptance
from tc_sync.reports.report import Report

_COLOURS = ("#305496", "#ED7D31", "#70AD47", "#A5A5A5")
_SIZE = (8.0, 3.6)
_DPI = 100


@dataclass(frozen=True)
class Chart:
    """One chart: what it is called, its categories, and one list of numbers per series."""

    key: str
    title: str
    unit: str
    """'%', '$', 'days' or 'items': how values are labelled."""
    categories: list[str]
    series: dict[str, list[float]]
    stacked: bool = False

    @property
    def empty(self) -> bool:
        """Nothing to draw: no category, or every value zero."""
        return not self.categories or not any(v for values in self.series.values()
                                              for v in values)

    @property
    def empty_sentence(self) -> str:
        """What the page says instead of an empty chart."""
        return f"{self.title}: nothing to show for this period."


def _percent(rate: float | None) -> float:
    return round(100 * rate, 1) if rate is not None else 0.0


def _acceptance_chart(key: str, title: str, rows: list[Acceptance]) -> Chart:
    return Chart(key, title, "%", [row.group for row in rows], {
        "By count (patients)": [_percent(row.patient_rate) for row in rows],
        "By dollars": [_percent(row.dollar_rate) for row in rows]})


def report_charts(report: Report) -> list[Chart]:
    """Every chart of the report, with the figures it shows."""
    forecast = report.forecast
    turnaround = [row for row in report.turnaround if row.carrier != ALL]
    buckets = [row for row in report.aging if row.bucket != ALL]
    flow_labels = [f"{row.queue} / {row.owner}" for row in report.flow]
    return [
        _acceptance_chart("acceptance_provider", "Treatment acceptance by provider",
                          report.by_provider),
        _acceptance_chart("acceptance_category", "Treatment acceptance by category",
                          report.by_category),
        Chart("forecast", f"Production forecast from {forecast.as_of}", "$",
              [f"next {row.days} days" for row in forecast.rows], {
                  "Scheduled": [float(row.scheduled) for row in forecast.rows],
                  "Open treatment x acceptance": [float(row.weighted_open)
                                                  for row in forecast.rows]}, stacked=True),
        Chart("turnaround", "Predetermination turnaround by carrier", "days",
              [row.carrier for row in turnaround], {
                  "Median": [row.median_days for row in turnaround],
                  "90th percentile": [float(row.p90_days) for row in turnaround]}),
        Chart("aging", f"Claims outstanding on {report.period.end}, by age", "$",
              [f"{row.bucket} days" for row in buckets],
              {"Fee billed": [float(row.fee) for row in buckets]}),
        Chart("item_flow", "Items per queue and owner", "items", flow_labels, {
            "Opened": [float(row.opened) for row in report.flow],
            "Resolved": [float(row.resolved) for row in report.flow],
            "Overdue": [float(row.overdue) for row in report.flow]}),
    ]


@dataclass(frozen=True)
class Drawn:
    """A chart and its PNG."""

    chart: Chart
    png: bytes


def draw(report: Report) -> dict[str, Drawn]:
    """Every chart of the report, drawn once for the page and the workbook, by key."""
    return {chart.key: Drawn(chart, png(chart)) for chart in report_charts(report)}


def _label(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "$":
        return f"${value:,.0f}"
    return f"{value:g}"


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes: grouped (or stacked) bars with their values written on them."""
    figure = Figure(figsize=_SIZE, dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(chart.title, fontsize=11)
    if not chart.categories:
        axes.text(0.5, 0.5, "Nothing in this period", ha="center", va="center",
                  transform=axes.transAxes, fontsize=11, color="#666666")
        axes.set_axis_off()
    else:
        _bars(axes, chart)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _bars(axes: Axes, chart: Chart) -> None:
    positions = list(range(len(chart.categories)))
    count = len(chart.series)
    width = 0.8 if chart.stacked else 0.8 / count
    bottoms = [0.0] * len(positions)
    for index, (name, values) in enumerate(chart.series.items()):
        offset = 0.0 if chart.stacked else (index - (count - 1) / 2) * width
        bars = axes.bar([p + offset for p in positions], values, width,
                        bottom=bottoms if chart.stacked else None, label=name,
                        color=_COLOURS[index % len(_COLOURS)])
        axes.bar_label(bars, labels=[_label(v, chart.unit) if v or not chart.stacked else ""
                                       for v in values],
                       fontsize=7, label_type="center" if chart.stacked else "edge",
                       color="white" if chart.stacked else "black")
        if chart.stacked:
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_xticks(positions, chart.categories, fontsize=8,
                    rotation=20 if len(positions) > 4 else 0,
                    ha="right" if len(positions) > 4 else "center")
    axes.set_ylabel({"%": "percent", "$": "dollars"}.get(chart.unit, chart.unit), fontsize=8)
    if chart.unit == "$":
        axes.yaxis.set_major_formatter(StrMethodFormatter("${x:,.0f}"))
    axes.tick_params(axis="y", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(y=0.15)
    if count > 1:
        axes.legend(fontsize=8, frameon=False)
