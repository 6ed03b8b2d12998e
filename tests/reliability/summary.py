"""The reliability suite's one summary table: each scenario records what it ran and found.

A scenario test calls `record(...)` once (through the `reliability` fixture); a scenario made of
several tests elsewhere (fuzzing, the PHI scan) carries the marker
`@pytest.mark.reliability("scenario", figure="...")` and each of its tests counts as a run,
failed or not. At the end of the session the table is printed under pytest's own summary,
and also written as Markdown to the file `TC_SYNC_RELIABILITY_REPORT` names, when it is set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One scenario's line: how often it ran, how often an invariant broke, a headline figure."""

    scenario: str
    runs: int
    failures: int
    figure: str


class Summary:
    """The outcomes recorded in this test session, in the order they were recorded."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def record(self, scenario: str, *, runs: int, failures: int, figure: str) -> None:
        self.outcomes.append(Outcome(scenario, runs, failures, figure))

    def tally(self, scenario: str, *, failed: bool, figure: str) -> None:
        """Count one test of a scenario made of several tests (a `reliability` marker)."""
        for i, outcome in enumerate(self.outcomes):
            if outcome.scenario == scenario:
                self.outcomes[i] = Outcome(scenario, outcome.runs + 1,
                                           outcome.failures + int(failed), figure)
                return
        self.record(scenario, runs=1, failures=int(failed), figure=figure)

    def table(self) -> str:
        """The outcomes as a Markdown table (readable as plain text too)."""
        header = ("scenario", "runs", "failures", "figure")
        rows = [(o.scenario, f"{o.runs:,}", f"{o.failures:,}", o.figure) for o in self.outcomes]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]

        def line(cells: tuple[str, ...]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), rule, *(line(r) for r in rows)])
