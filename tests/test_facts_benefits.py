"""A patient's benefits as the reconcile reads them: their plans' and their coverages' own.

The reconcile reads a run's plan benefits once per plan and shares them among the chunks of
patients (`PlanBenefits`; issue 17): a patient in a later chunk still gets every benefit of
each plan they are covered by, and only their own coverages' overrides. The expected sets
are read straight from the replica with SQL of the test's own.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.items.facts import PlanBenefits, load_patient_facts
from tc_sync.ledger.schema import replica
from tc_sync.records import Benefit, Patient
from tests.demo_ledger import synced_ledger

TODAY = date(2025, 6, 16)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    engine = synced_ledger(tmp_path_factory.mktemp("benefits"), TODAY, patients=300)
    yield engine
    engine.dispose()


def _expected(connection: sa.Connection) -> dict[int, Counter[int]]:
    """Each patient's benefit ids: a plan's (no coverage) for each of their coverages' plans,
    and each coverage's own."""
    rows = connection.execute(sa.text(
        "SELECT c.patient_id, b.pms_id FROM coverages c JOIN benefits b"
        " ON (b.coverage_id IS NULL AND b.plan_id = c.plan_id) OR b.coverage_id = c.pms_id"
        " WHERE c.deleted_at IS NULL AND b.deleted_at IS NULL"))
    expected: dict[int, Counter[int]] = {}
    for patient, benefit in rows:
        expected.setdefault(patient, Counter())[benefit] += 1
    return expected


def test_patients_in_later_chunks_get_their_plans_and_own_benefits(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        expected = _expected(connection)
        overridden = connection.execute(sa.select(sa.func.count()).where(
            replica[Benefit].c.coverage_id.is_not(None))).scalar_one()
        ids = list(connection.execute(sa.select(replica[Patient].c.pms_id)).scalars())
        random.Random(5).shuffle(ids)
        shared = PlanBenefits("main")
        found: dict[int, Counter[int]] = {}
        for start in range(0, len(ids), 40):
            for patient, facts in load_patient_facts(connection, "main", ids[start:start + 40],
                                                     plan_benefits=shared).items():
                if facts.benefits:
                    found[patient] = Counter(b.pms_id for b in facts.benefits)
    assert overridden > 0, "the demo practice has coverages with benefits of their own"
    assert len(expected) > 100
    assert found == expected


def test_a_plans_benefits_are_read_once_a_run(engine: sa.Engine) -> None:
    """Chunks that share plans read no plan's benefits twice."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM benefits" in statement and "coverage_id IS NULL" in statement:
            statements.append(statement)

    with engine.connect() as connection:
        ids = sorted(connection.execute(sa.select(replica[Patient].c.pms_id)).scalars())
        shared = PlanBenefits("main")
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            for start in range(0, len(ids), 40):
                load_patient_facts(connection, "main", ids[start:start + 40],
                                   plan_benefits=shared)
            first_pass = len(statements)
            load_patient_facts(connection, "main", ids, plan_benefits=shared)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
    assert 0 < first_pass <= len(range(0, len(ids), 40))
    assert len(statements) == first_pass, "every plan's benefits were already read"
