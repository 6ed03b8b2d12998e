"""Which patients changed after a moment: the question a reconcile asks of the ledger after
each sync, and the work queues ask before a build (they re-read only those patients).

A patient changed when a replica row of theirs changed (their own record, a procedure, a
claim, a contact-log entry...), when a row they lean on changed (their plan's benefits, their
lab or specialist), or when staff changed one of their items. A change to a record every
patient shares (a definition, a procedure code, coverage rules) changes everyone.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tc_sync.ledger.items import STAFF_EVENT
from tc_sync.ledger.schema import REPLICA_TABLES, item_events, items, replica
from tc_sync.records import (
    Benefit,
    Coverage,
    CoverageCategory,
    CoverageSpan,
    Definition,
    InsuranceVerification,
    LabCase,
    Laboratory,
    Patient,
    ProcedureCode,
    Referral,
    ReferralAttachment,
)


def patients_changed(connection: sa.Connection, source_id: str,
                      since: datetime) -> tuple[set[int], bool]:
    """Patients whose records changed after `since`, and whether everyone must be evaluated."""
    for shared in (Definition, ProcedureCode, CoverageCategory, CoverageSpan):
        if changed_since(connection, replica[shared], source_id, since):
            return set(), True
    patients: set[int] = set()
    for record in REPLICA_TABLES:
        table = replica[record]
        column = table.c.pms_id if record is Patient else table.c.get("patient_id")
        if column is None:
            continue
        patients.update(connection.execute(sa.select(column).distinct().where(
            table.c.source_id == source_id, table.c.last_changed > since)).scalars())
    patients.update(connection.execute(sa.select(items.c.patient_id).distinct().join(
        item_events, item_events.c.item_key == items.c.item_key).where(
        items.c.source_id == source_id, item_events.c.event == STAFF_EVENT,
        item_events.c.at > since)).scalars())
    patients.update(_patients_of_shared_changes(connection, source_id, since))
    return patients, False


def changed_since(connection: sa.Connection, table: sa.Table, source_id: str,
                  since: datetime) -> bool:
    """Whether any of the source's rows of a replica table changed after `since` (one look-up
    in its (source_id, last_changed) index)."""
    return connection.scalar(sa.select(sa.literal(1)).where(
        table.c.source_id == source_id, table.c.last_changed > since).limit(1)) is not None


def _patients_of_shared_changes(connection: sa.Connection, source_id: str,
                                since: datetime) -> set[int]:
    """Patients a changed row without a patient touches: a plan's benefits or verification,
    an enrollment's verification, a specialist, a lab. The rows that lead to the patients
    carry no index on the shared row's key, so they are read only when a shared row changed
    (most looks: none did)."""
    benefits, coverages = replica[Benefit], replica[Coverage]
    verifications = replica[InsuranceVerification]
    found: set[int] = set()
    if (changed_since(connection, benefits, source_id, since)
            or changed_since(connection, verifications, source_id, since)):
        changed_verifications = sa.select(verifications.c.target_id).where(
            verifications.c.source_id == source_id, verifications.c.last_changed > since)
        plans = sa.select(benefits.c.plan_id).where(
            benefits.c.source_id == source_id, benefits.c.last_changed > since)
        found.update(connection.execute(sa.select(coverages.c.patient_id).distinct().where(
            coverages.c.source_id == source_id, sa.or_(
                coverages.c.plan_id.in_(plans), coverages.c.plan_id.in_(changed_verifications),
                coverages.c.pms_id.in_(changed_verifications)))).scalars())
    for shared, linked, column in ((Referral, ReferralAttachment, "referral_id"),
                                   (Laboratory, LabCase, "lab_id")):
        if not changed_since(connection, replica[shared], source_id, since):
            continue
        changed = sa.select(replica[shared].c.pms_id).where(
            replica[shared].c.source_id == source_id, replica[shared].c.last_changed > since)
        table = replica[linked]
        found.update(connection.execute(sa.select(table.c.patient_id).distinct().where(
            table.c.source_id == source_id, table.c[column].in_(changed))).scalars())
    return found
