"""Quiet windows: times of day (the practice's backup, office hours) when no pull runs."""

from __future__ import annotations

from datetime import datetime, time, timedelta


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


def quiet_since(now: datetime, windows: list[str]) -> datetime | None:
    """When the quiet window `now` (local, aware) falls in began, or None outside every window."""
    started: datetime | None = None
    for window in windows:
        start, end = parse_window(window)
        if not in_quiet_window(now.time(), [window]):
            continue
        began = datetime.combine(now.date(), start, now.tzinfo)
        if start > end and now.time() < end:       # past midnight: it began yesterday
            began -= timedelta(days=1)
        started = began if started is None else min(started, began)
    return started
