"""What every PMS's front desk offers the conformance scenarios, and what a PMS cannot do.

A front desk changes one synthetic practice's PMS database the way that PMS's own staff
would (in its own tables and codes); the scenarios in tests/test_adapter_kit.py then sync,
reconcile and check the ledger, the same for every PMS. A scenario a PMS cannot express is
named by a `Capability` the desk lists in `cannot`, with the reason the test skips with.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

from tc_sync.config import SourceSettings

Scenario = TypeVar("Scenario", bound=Callable[..., None])


class Capability(StrEnum):
    """Something a scenario needs the PMS (or its adapter) to do: see `needs`."""

    CONTACT_LOG = "a contact log tc-sync reads"
    DELETES_LEFT_TO_THE_SWEEP = "deletes an incremental pull may leave to the nightly sweep"
    ESTIMATE_ON_A_PREDETERMINATION = "the carrier's estimate on a returned predetermination"
    ODBC_DRIVERS = "two ODBC drivers to read it through"


class Changes(StrEnum):
    """How the adapter finds what changed since the last cycle."""

    TIMESTAMPS = "change timestamps finer than a second"
    """A cycle with nothing changed pulls incrementally and reads no row."""
    TIMESTAMPS_TO_THE_SECOND = "change timestamps to the second"
    """The second a pull began is read again next time (harmless: nothing is written), and
    tables unchanged since may not be read at all."""
    WHOLE_READS = "no change timestamp: every stream read whole each cycle"


def needs(*capabilities: Capability) -> Callable[[Scenario], Scenario]:
    """Declare what a scenario needs of the PMS; the kit skips it, saying why, where the
    PMS's front desk says it cannot (before the practice is built)."""
    def declare(scenario: Scenario) -> Scenario:
        scenario.needs = capabilities  # type: ignore[attr-defined]
        return scenario
    return declare


@dataclass(frozen=True)
class Booking:
    """An appointment the front desk booked, and the procedures it put on it (PMS keys)."""

    appointment: int
    procedures: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Unreadable:
    """A table the reader may no longer read: the stream it fails, and words of the error."""

    stream: str
    says: str


class FrontDesk(ABC):
    """One PMS's practice database, changed as its front desk would change it."""

    pms: str
    """The source kind (opendental, dentrix, eaglesoft)."""
    changes: Changes
    kinds: tuple[str, ...]
    """Item kinds the synthetic practice opens on this PMS at the first cycle."""
    kinds_never: tuple[str, ...] = ()
    """Item kinds this PMS's adapter cannot tell (docs/ODBC.md says why): none ever opens."""
    cannot: ClassVar[Mapping[Capability, str]] = {}
    """What this PMS cannot do, with the reason a scenario needing it skips."""

    @classmethod
    def can(cls, capability: Capability) -> bool:
        return capability not in cls.cannot

    @classmethod
    def require(cls, capabilities: Iterable[Capability]) -> None:
        """Skip the scenario, saying why, if this PMS cannot do one of `capabilities`."""
        for capability in capabilities:
            if capability in cls.cannot:
                pytest.skip(f"{cls.pms} {cls.cannot[capability]}")

    @abstractmethod
    def source(self, **odbc: Any) -> SourceSettings:
        """The tc-sync source reading this practice (ODBC options where the PMS has them)."""

    @abstractmethod
    def first_sync_counts(self) -> dict[type, int]:
        """Live ledger rows a first sync must leave, per record, counted in the PMS."""

    @abstractmethod
    def book(self, patient: int, days_ahead: int) -> Booking:
        """Book the patient an appointment `days_ahead` days after TODAY."""

    @abstractmethod
    def planned_predeterminations(self) -> dict[int, int]:
        """Predeterminations sent for treatment still planned: {claim: patient}."""

    @abstractmethod
    def return_predetermination(self, claim: int) -> None:
        """Record the carrier's answer to a predetermination."""

    def log_call(self, patient: int) -> None:
        """Log a phone call to the patient, made at 10:00 on TODAY."""
        raise NotImplementedError(f"{self.pms} has no contact log: see its `cannot`")

    @abstractmethod
    def break_only_booking(self) -> tuple[int, int]:
        """Break the future booking of an active patient with no other one:
        (appointment, patient)."""

    @abstractmethod
    def delete_claim(self, claim: int) -> None:
        """Delete the claim, as the PMS does (a hard delete)."""

    @abstractmethod
    def unreadable_table(self) -> AbstractContextManager[Unreadable]:
        """While entered, one table the adapter reads cannot be read; readable again after."""

    def second_driver(self, folder: Path) -> tuple[SourceSettings, tuple[type, ...]]:
        """The same practice through another ODBC driver, and the records to compare."""
        raise NotImplementedError(f"{self.pms} is not read over ODBC: see its `cannot`")

