"""The adapter conformance kit: one front desk per PMS, and the scenarios they all pass.

Each PMS's `FrontDesk` (opendental.py, odbc.py) changes its synthetic practice in that PMS's
own schema; tests/test_adapter_kit.py writes each scenario once and runs it for every PMS in
`CASES` (Open Dental on both ledger backends, as its own tests always ran). The PMS's own
test files keep what only that PMS has, with the helpers of ledger.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import open_ledger

from .desk import Booking, Capability, Changes, FrontDesk, Unreadable, needs
from .ledger import sqlite_ledger
from .odbc import DESKS, odbc_desk
from .opendental import OpenDentalDesk, opendental_desk

__all__ = ["CASES", "Booking", "Capability", "Case", "Changes", "FrontDesk", "Unreadable",
           "needs", "open_case_desk", "open_case_ledger"]


@dataclass(frozen=True)
class Case:
    """One PMS, and the ledger backend its scenarios run on."""

    pms: str
    ledger: str = "sqlite"

    @property
    def desk(self) -> type[FrontDesk]:
        """The PMS's front desk (its class: what it cannot do is known before it is built)."""
        desks: dict[str, type[FrontDesk]] = {"opendental": OpenDentalDesk, **DESKS}
        return desks[self.pms]


CASES = [
    pytest.param(Case("opendental", "sqlite"), id="opendental-sqlite", marks=pytest.mark.mysql),
    pytest.param(Case("opendental", "postgres"), id="opendental-postgres",
                 marks=[pytest.mark.mysql, pytest.mark.postgres]),
    pytest.param(Case("dentrix"), id="dentrix", marks=pytest.mark.postgres),
    pytest.param(Case("eaglesoft"), id="eaglesoft", marks=pytest.mark.postgres),
]


@contextmanager
def open_case_desk(case: Case, request: pytest.FixtureRequest) -> Iterator[FrontDesk]:
    """The case's PMS with a fresh practice, on the server fixtures it needs (only those)."""
    if case.pms == "opendental":
        with opendental_desk(request.getfixturevalue("mysql_server"),
                             request.getfixturevalue("mysql_database"),
                             request.getfixturevalue("source")) as desk:
            yield desk
    else:
        with odbc_desk(case.pms, request.getfixturevalue("postgres_admin")) as odbc:
            yield odbc


def open_case_ledger(case: Case, request: pytest.FixtureRequest, folder: Path
                     ) -> Iterator[sa.Engine]:
    """A new ledger on the case's backend, disposed after (a fixture's body)."""
    if case.ledger == "sqlite":
        yield from sqlite_ledger(folder)
        return
    engine = open_ledger(str(request.getfixturevalue("postgres_url")))
    yield engine
    engine.dispose()
