"""What synthetic practice to generate: its size, random seed and "today"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["DEFAULT_TODAY", "PracticeSpec"]

#: The ``today`` of a spec that is not given one (callers normally pass their own).
DEFAULT_TODAY = date(2025, 6, 16)


@dataclass(frozen=True)
class PracticeSpec:
    """What practice to generate: how many patients, the random seed, and the day it is "today"."""

    patients: int = 300
    seed: int = 7
    today: date = DEFAULT_TODAY

    def __post_init__(self) -> None:
        """Reject sizes the generator cannot honour."""
        if self.patients < 1:
            raise ValueError("a practice needs at least one patient")

    @classmethod
    def demo(cls, *, today: date | None = None, seed: int = 7) -> PracticeSpec:
        """The demo practice: 300 patients, every case present several times."""
        return cls(patients=300, seed=seed, today=today or DEFAULT_TODAY)

    @classmethod
    def large(
        cls, patients: int = 60_000, *, today: date | None = None, seed: int = 7
    ) -> PracticeSpec:
        """A large practice for benchmarks: 60,000 patients is about 3.9 million rows."""
        return cls(patients=patients, seed=seed, today=today or DEFAULT_TODAY)
