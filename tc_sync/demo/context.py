"""What every part of the demo generator shares: the calendar, the keys, the main random stream
and the reference rows written so far (definitions, procedure codes)."""

from __future__ import annotations

import random
from datetime import timedelta

from tc_sync.demo.model import Code
from tc_sync.demo.odschema import PLANNEDAPPT_DROPPED_IN, TABLES, version_at_least
from tc_sync.demo.spec import PracticeSpec

#: One row: values in the column order of ``odschema.table(name).column_names(version)``.
Row = tuple[int | float | str | None, ...]
#: Rows as the generator's parts append them: (table name, row).
Rows = list[tuple[str, Row]]

NONE_DATE = "0001-01-01"
NONE_DATETIME = "0001-01-01 00:00:00"
ZERO_DATE = "0000-00-00"

#: The made-up towns the patients and the carriers are in.
CITIES = ("Riverton", "Maple Hollow", "Cedar Bend", "Larkfield", "Stonebrook", "Ashford Glen")


class Context:
    """One run's shared state. Every part draws from :attr:`rng` in the order the generator
    calls it, so the same spec always gives the same rows."""

    def __init__(self, spec: PracticeSpec, version: str, zero_dates: bool) -> None:
        self.spec = spec
        self.today = spec.today
        self.version = version
        self.new_schema = version_at_least(version, PLANNEDAPPT_DROPPED_IN)
        self.zero_date = ZERO_DATE if zero_dates else NONE_DATE
        # Synthetic data, not security: a seeded PRNG is what makes the output reproducible.
        self.rng = random.Random(spec.seed)  # noqa: S311
        self.past = 12 * 366
        """How many days back the calendar goes."""
        self._days = [
            (spec.today + timedelta(days=d)).isoformat() for d in range(-self.past, 500)
        ]
        self._times = [
            f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86_400)
        ]
        self._weekday0 = spec.today.weekday()
        self.keys: dict[str, int] = {t.name: 0 for t in TABLES}
        self.defs: dict[int, list[int]] = {}
        """Visible definitions by category."""
        self.tracking_statuses: dict[str, int] = {}
        """Claim custom tracking statuses by name."""
        self.procedure_categories: dict[str, int] = {}
        """Procedure-code categories (definition category 11) by name."""
        self.codes: dict[str, Code] = {}

    def key(self, table_name: str) -> int:
        """The next primary key of ``table_name``."""
        self.keys[table_name] += 1
        return self.keys[table_name]

    def day(self, d: int) -> str:
        """The date ``d`` days from today, 'YYYY-MM-DD'."""
        return self._days[d + self.past]

    def at(self, d: int, minute: int) -> str:
        """'YYYY-MM-DD HH:MM:00' on day ``d`` at ``minute`` after midnight."""
        return self._days[d + self.past] + " " + self._times[minute * 60]

    def clock(self, minute: int) -> str:
        """'HH:MM:00' at ``minute`` after midnight."""
        return self._times[minute * 60]

    def stamp(self, d: int) -> str:
        """A DateTStamp/SecDateTEdit for a row whose last event was on day ``d``: in the past
        (never today), within the last two years, usually shortly after the event."""
        rng = self.rng
        if d < -730:
            s = rng.randint(-730, -1)
        elif d >= -1:
            s = rng.randint(-60, -1)
        else:
            s = min(d + rng.randint(0, 30), -1)
        return self._days[s + self.past] + " " + self._times[rng.randrange(25_200, 75_600)]

    def workday(self, d: int) -> int:
        """Move ``d`` off a weekend (backwards in the past, forwards in the future)."""
        wd = (self._weekday0 + d) % 7
        if wd == 5:
            return d + 2 if d > 0 else d - 1
        if wd == 6:
            return d + 1 if d > 0 else d - 2
        return d

    def defnum(self, category: int) -> int:
        """A visible definition of ``category``, at random."""
        return self.rng.choice(self.defs[category])
