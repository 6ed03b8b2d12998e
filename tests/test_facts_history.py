"""A reconcile reads only the history the rules can look at, and the rules see the same.

The reconcile leaves old finished procedures and settled claims' procedures out of the facts
it reads (issue 17); these tests evaluate every patient of a demo practice with the whole
history and with the reconcile's, after moving five years back the work an open claim, a
recently received claim and an upcoming visit name, and a predetermination's return: only
what names them keeps them in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.facts import PatientFacts, load_patient_facts, load_source_facts
from tc_sync.items.history import among, history_from
from tc_sync.items.model import DesiredItem, ItemKind
from tc_sync.items.rules import evaluate
from tc_sync.ledger.schema import replica
from tc_sync.records import Claim, ClaimProcedure, Patient, Procedure, ProcedureStatus
from tests.demo_ledger import synced_ledger

TODAY = date(2025, 6, 16)
LONG_AGO = TODAY - timedelta(days=5 * 365)
CLAIMS = (ItemKind.CLAIM_UNSENT, ItemKind.CLAIM_OUTSTANDING, ItemKind.CLAIM_DENIED,
          ItemKind.CLAIM_UNDERPAID)
VISITS = (ItemKind.INSURANCE_NOT_VERIFIED, ItemKind.LAB_CASE_NOT_READY)
"""Kinds whose codes are the visit's procedures, finished or not (any but deleted)."""


@pytest.fixture
def engine(tmp_path: Path, ledger_url: str) -> Iterator[sa.Engine]:
    """The demo practice synced into a ledger on each backend tc-sync supports."""
    engine = synced_ledger(tmp_path, TODAY, patients=300, url=ledger_url)
    yield engine
    engine.dispose()


def _facts(engine: sa.Engine, since: date | None) -> dict[int, PatientFacts]:
    with engine.connect() as connection:
        ids = connection.execute(sa.select(replica[Patient].c.pms_id)).scalars().all()
        return load_patient_facts(connection, "main", ids, since)


def _evaluated(engine: sa.Engine, since: date | None) -> dict[int, dict[str, DesiredItem]]:
    mappings = load_mappings()
    with engine.connect() as connection:
        source = load_source_facts(connection, "main")
    return {patient: evaluate("main", facts, source, mappings, TODAY)
            for patient, facts in _facts(engine, since).items()}


def _backdate(engine: sa.Engine, procedure_ids: set[int],
              status: ProcedureStatus = ProcedureStatus.COMPLETE) -> None:
    """Make these procedures finished work (and their claim procedures) from `LONG_AGO`."""
    procedures, claim_procedures = replica[Procedure], replica[ClaimProcedure]
    with engine.begin() as connection:
        connection.execute(procedures.update().where(procedures.c.pms_id.in_(procedure_ids))
                           .values(status=status.value, procedure_date=LONG_AGO,
                                   date_complete=LONG_AGO))
        connection.execute(claim_procedures.update()
                           .where(claim_procedures.c.procedure_id.in_(procedure_ids))
                           .values(procedure_date=LONG_AGO))


def _returned_long_ago(engine: sa.Engine, claim_id: int) -> None:
    """Make a returned predetermination (and its claim procedures' dates) `LONG_AGO`'s."""
    claims, claim_procedures = replica[Claim], replica[ClaimProcedure]
    with engine.begin() as connection:
        connection.execute(claims.update().where(claims.c.pms_id == claim_id)
                           .values(date_received=LONG_AGO))
        connection.execute(claim_procedures.update()
                           .where(claim_procedures.c.claim_id == claim_id)
                           .values(procedure_date=LONG_AGO))


def test_the_history_horizon_reaches_back_past_every_claim_rule_window(tmp_path: Path) -> None:
    assert history_from(load_mappings(), TODAY) == TODAY - timedelta(days=730)
    site = tmp_path / "mappings.yaml"
    site.write_text("kinds:\n  claim_denied:\n    within_days: 1000\n")
    assert history_from(load_mappings(site), TODAY) == TODAY - timedelta(days=1000)


def test_rules_see_the_same_with_the_reconciles_history(engine: sa.Engine) -> None:
    whole = _evaluated(engine, None)
    items = [item for found in whole.values() for item in found.values()]
    claimed = {kind: next(item for item in items if item.kind == kind and item.codes)
               for kind in CLAIMS if any(item.kind == kind for item in items)}
    visit = next(item for item in items if item.kind in VISITS and item.codes)
    returned = next(item for item in items if item.kind == ItemKind.PREDETERMINATION_RETURNED)
    assert len(claimed) >= 2, "the demo practice should have open and received claim items"
    facts = _facts(engine, None)
    for item in claimed.values():
        on_claim = {cp.procedure_id for cp in facts[item.patient_id].claim_procedures
                    if cp.claim_id == item.claim_id and cp.procedure_id is not None}
        _backdate(engine, on_claim)
    on_visit = {p.pms_id for p in facts[visit.patient_id].procedures
                if p.appointment_id == visit.appointment_id}
    _backdate(engine, on_visit, ProcedureStatus.EXISTING_OTHER_PROVIDER)
    assert returned.claim_id is not None
    _returned_long_ago(engine, returned.claim_id)

    since = history_from(load_mappings(), TODAY)
    whole = _evaluated(engine, None)
    reconciled = _evaluated(engine, since)

    assert reconciled == whole
    for item in [*claimed.values(), visit, returned]:
        assert whole[item.patient_id][item.key].codes, item.kind
    read = _facts(engine, since).values()
    assert sum(len(f.procedures) for f in read) < sum(len(f.procedures) for f in facts.values())
    assert (sum(len(f.claim_procedures) for f in read)
            < sum(len(f.claim_procedures) for f in facts.values()))


@pytest.mark.parametrize("ids", [[4, 5, 6, 7], [7, 5, 4, 6], [4, 6, 7], [1, 5, 3], [5, 7, 7],
                                 [6], []])
def test_among_selects_what_in_selects(ids: list[int]) -> None:
    """A consecutive chunk of patients is asked for as a range; any other as a list."""
    table = sa.table("t", sa.column("n", sa.Integer))
    with sa.create_engine("sqlite://").connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES " + ", ".join(
            f"({n})" for n in range(1, 11)))
        found = connection.execute(sa.select(table.c.n).where(among(table.c.n, ids))).scalars()
        assert sorted(found) == sorted(set(ids))
