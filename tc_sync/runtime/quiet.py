"""Quiet windows: times of day (the practice's backup, office hours) when no pull runs."""

from __future__ import annotations

from datetime import time


def parse_window(text: str) -> tuple[time, time]:
    """'01:30-03:00' -> (01:30, 03:00); a window may run past midnight ('22:00-02:00')."""
    start, _, end = text.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def in_quiet_window(now: time, windows: list[str]) -> bool:
    """Whether `now` (the practice's local time) falls in any of the windows."""
    for window in windows:
        start, end = parse_window(window)
        if start <= end:
            if start <= now < end:
                return True
        elif now >= start or now < end:
            return True
    return False
