"""The practice's today: the day that ages every item, due date and queue.

At a practice it is today in the configured time zone. The demo keeps a day of its own (it
moves on with `tc-sync demo --advance`), named by `practice_day_file`, so that every command
run on the demo's configuration (`sync --once`, `items list`, `digest --print`, `queues
build`) sees the same day the demo does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tc_sync.config.loading import ConfigError
from tc_sync.config.settings import Settings


def practice_today(settings: Settings, now: datetime | None = None) -> date:
    """Today at the practice: the day in `practice_day_file` if set, else the time zone's."""
    if settings.practice_day_file is not None:
        return read_day(settings.practice_day_file)
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(settings.timezone)).date()


def read_day(path: Path) -> date:
    """The date (YYYY-MM-DD) on the first line of `path`; a clear error naming the file."""
    try:
        text = path.read_text(encoding="utf-8").strip().splitlines()
    except OSError as error:
        raise ConfigError([f"{path}: practice_day_file cannot be read: "
                           f"{error.strerror or type(error).__name__}"]) from None
    first = text[0].strip() if text else ""
    try:
        return date.fromisoformat(first)
    except ValueError:
        raise ConfigError([f"{path}, line 1: practice_day_file must hold a date (YYYY-MM-DD), "
                           f"not {first!r}"]) from None
