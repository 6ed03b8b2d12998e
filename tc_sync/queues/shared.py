"""One object for each value many queue rows hold (a day, a carrier, a queue's name).

60,000 rows would otherwise each keep their own copy of values a practice has a few hundred
of; the rows loaded together share these tables for the length of one load.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


class SharedValues:
    """Tables of values shared by the rows of one load, by kind (so that values of different
    kinds that compare equal, 1 and Decimal("1.00"), are never mixed up)."""

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.days: dict[Any, Any] = {}
        """Dates and date-times (a date never equals a date-time)."""
        self.money: dict[Decimal | None, Decimal | None] = {}
        self.codes: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.reasons: dict[tuple[str, ...], tuple[str, ...]] = {}
        """A row's reasons (`QueueRow.reasons`): a patient's rows often give the same."""
        self.treatment: dict[tuple[str, tuple[str, ...]], str] = {}
        """By source and codes: each source describes its own codes."""
