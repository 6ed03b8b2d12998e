"""Fixtures of the reliability suite and the summary table printed at the end of the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.summary import Summary

_SUMMARY = Summary()


@pytest.fixture
def reliability() -> Summary:
    """Where a scenario records its line of the summary table."""
    return _SUMMARY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _SUMMARY.outcomes:
        return
    terminalreporter.section("reliability summary")
    terminalreporter.write_line(_SUMMARY.table())
    report = os.environ.get("TC_SYNC_RELIABILITY_REPORT")
    if report:
        Path(report).write_text("# Reliability summary\n\n" + _SUMMARY.table() + "\n")
