"""The names queue rows show, read from the replica: procedure code descriptions, clinics'
and providers' short names, and the queues the ledger knows."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from tc_sync.ledger.schema import items, replica
from tc_sync.records import Clinic, ProcedureCode, Provider

Labels = tuple[dict[str, str], dict[tuple[str, int], str], dict[int, str]]
"""A source's code descriptions, clinic and provider names."""


def source_labels(connection: sa.Connection, source_id: str) -> Labels:
    """One source's code descriptions, clinic and provider names, read once per load."""
    return (code_descriptions(connection, source_id), clinic_labels(connection, [source_id]),
            provider_labels(connection, source_id))


def code_descriptions(connection: sa.Connection, source_id: str) -> dict[str, str]:
    """Each procedure code's description (the first, for a code defined twice)."""
    table = replica[ProcedureCode]
    rows = connection.execute(sa.select(table.c.code, table.c.description).where(
        table.c.source_id == source_id, table.c.deleted_at.is_(None))
        .order_by(table.c.pms_id))
    found: dict[str, str] = {}
    for code, description in rows:
        found.setdefault(code, description)
    return found


def known_queues(connection: sa.Connection, source_ids: Sequence[str]) -> list[str]:
    """Every queue that has ever held an item, so a queue that empties shows as empty."""
    return sorted(connection.execute(sa.select(items.c.queue).distinct().where(
        items.c.source_id.in_(source_ids))).scalars())


def clinic_labels(connection: sa.Connection, source_ids: Sequence[str], *,
                  visible_only: bool = False) -> dict[tuple[str, int], str]:
    """Each clinic's short name (abbreviation, else description), by source and PMS id."""
    table = replica[Clinic]
    query = sa.select(
        table.c.source_id, table.c.pms_id, table.c.abbreviation, table.c.description).where(
        table.c.source_id.in_(source_ids), table.c.deleted_at.is_(None))
    if visible_only:
        query = query.where(table.c.hidden.is_(False))
    rows = connection.execute(query)
    return {(source, clinic): (abbreviation or description or f"clinic {clinic}").strip()
            for source, clinic, abbreviation, description in rows}


def provider_labels(connection: sa.Connection, source_id: str) -> dict[int, str]:
    """Each provider's short name (abbreviation, else first and last name), by PMS id."""
    table = replica[Provider]
    rows = connection.execute(sa.select(
        table.c.pms_id, table.c.abbreviation, table.c.first_name, table.c.last_name).where(
        table.c.source_id == source_id, table.c.deleted_at.is_(None)))
    return {pms_id: (abbreviation or f"{first} {last}").strip()
            for pms_id, abbreviation, first, last in rows}
