"""The benchmark report's Markdown: rows of figure, target, verdict and baseline (pure functions).

Nothing here measures or reads a database; `bench/report.py` measures and hands the figures
over as `Row`s. A verdict compares the unrounded figure with the target (a figure equal to its
limit meets it); a figure that could not be measured is "not measured", never "met".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

MET = "met"
NOT_MET = "NOT MET"
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Target:
    limit: float
    text: str
    """How the target reads, e.g. "≤ 3x the C-client floor"."""
    at_least: bool = False
    """The figure must be at least the limit (throughput), else at most (time, memory)."""
    ours: bool = False
    """A target we set ourselves, not one the issue gives: the report says so."""

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def describe(self) -> str:
        return f"{self.text} (ours)" if self.ours else self.text


@dataclass(frozen=True)
class Row:
    measure: str
    figure: str
    """The figure as the reader sees it (with units and context)."""
    value: float | None
    """The number compared with the target (None: not measured)."""
    target: Target
    against: str
    """The floor or baseline, measured in the same run."""

    @property
    def verdict(self) -> str:
        if self.value is None or not math.isfinite(self.value):
            return NOT_MEASURED
        return MET if self.target.met(self.value) else NOT_MET


@dataclass(frozen=True)
class Section:
    title: str
    rows: Sequence[Row]
    note: str = ""


@dataclass(frozen=True)
class Header:
    title: str
    facts: Sequence[tuple[str, str]]
    """Machine and run facts, in order: (name, value)."""
    notes: Sequence[str] = field(default_factory=tuple)
    failures: Sequence[tuple[str, str]] = field(default_factory=tuple)
    """Steps that failed: (step, error). Their figures are "not measured"."""


# --- figures as text ------------------------------------------------------------------------


def seconds(value: float) -> str:
    """A duration: milliseconds under a second, else seconds."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.1f} s"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def count(value: int) -> str:
    return f"{value:,}"


def divide(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if denominator == 0 or not math.isfinite(denominator) or not math.isfinite(numerator):
        return None
    return numerator / denominator


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "\\|").split())


# --- growth ---------------------------------------------------------------------------------


def linear(patient_ratio: float) -> Target:
    """Grows at most as the patients do."""
    return Target(patient_ratio, f"≤ {ratio(patient_ratio)} (the patients' ratio: at most "
                  "linear)")


FLAT = Target(1.25, "≤ 1.25x (flat)", ours=True)
"""Memory should not grow with the practice; 25% is our allowance for noise and caches."""


def growth_row(measure: str, small: float | None, large: float | None, target: Target,
               against: str, unit: str = "s") -> Row:
    """cost(large) / cost(small) against `target`; either figure missing: not measured.

    `unit` "s" shows durations (ms or s); any other unit is shown as a whole number of it.
    """
    if small is None or large is None:
        return Row(measure, "—", None, target, against)
    value = divide(large, small)
    shown = ((seconds(small), seconds(large)) if unit == "s"
             else (f"{small:.0f} {unit}", f"{large:.0f} {unit}"))
    figure = f"{shown[0]} → {shown[1]}"
    if value is not None:
        figure += f" = {ratio(value)}"
    return Row(measure, figure, value, target, against)


# --- the document ---------------------------------------------------------------------------


def tally(sections: Sequence[Section]) -> dict[str, int]:
    """How many rows met their target, did not, or were not measured."""
    counts = {MET: 0, NOT_MET: 0, NOT_MEASURED: 0}
    for section in sections:
        for row in section.rows:
            counts[row.verdict] += 1
    return counts


def verdict_cell(verdict: str) -> str:
    return f"**{verdict}**" if verdict != MET else verdict


def table(rows: Sequence[Row]) -> list[str]:
    lines = ["| Measure | Figure | Target | Verdict | Measured against (same run) |",
             "|---|---|---|---|---|"]
    lines += [f"| {cell(row.measure)} | {cell(row.figure)} | {cell(row.target.describe())} | "
              f"{verdict_cell(row.verdict)} | {cell(row.against)} |" for row in rows]
    return lines


def render(header: Header, sections: Sequence[Section]) -> str:
    counts = tally(sections)
    total = sum(counts.values())
    lines = [f"# {header.title}", ""]
    summary = f"**{counts[MET]} of {total} targets met**"
    if counts[NOT_MET]:
        summary += f"; **{counts[NOT_MET]} NOT MET**"
    if counts[NOT_MEASURED]:
        summary += f"; **{counts[NOT_MEASURED]} not measured** (see Failures)"
    lines += [summary + ".", ""]
    short = [f"* {section.title}: {row.measure}: {row.figure} (target {row.target.describe()})"
             for section in sections for row in section.rows if row.verdict == NOT_MET]
    if short:
        lines += ["Not met:", "", *short, ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {cell(name)} | {cell(value)} |" for name, value in header.facts]
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        lines += table(section.rows)
    if header.failures:
        lines += ["", "## Failures", ""]
        lines += [f"* {step}: `{' '.join(error.split())}`" for step, error in header.failures]
    if header.notes:
        lines += ["", "## Notes", ""]
        lines += [f"* {note}" for note in header.notes]
    return "\n".join(lines) + "\n"
