"""Apply one batch of PMS rows to a replica table: insert new, update changed, mark deleted.

Rows are compared by a fingerprint of their values, so a re-read row that did not change
costs no write. The caller runs this inside the batch's ledger transaction.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import replica

_IN_CHUNK = 900


@dataclass(frozen=True)
class ConvertedRow:
    """A validated PMS row: its key, record values (in field order) and fingerprint."""

    key: int
    values: tuple[Any, ...]
    row_hash: int


@dataclass
class BatchChanges:
    """What one batch changed in the replica."""

    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)

    @property
    def changed_keys(self) -> list[int]:
        return self.inserted + self.updated + self.deleted


Bind = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _sqlite_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="microseconds")


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _cents(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def _enum_text(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _bool_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _binders(record: type, dialect: str) -> tuple[Bind, ...]:
    hints = typing.get_type_hints(record)
    binders: list[Bind] = []
    for item in dataclasses.fields(record):
        if item.name == "pms_id":
            continue
        annotation = hints[item.name]
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        base = args[0] if args else annotation
        if isinstance(base, type) and issubclass(base, StrEnum):
            binders.append(_enum_text)
        elif base is Decimal:
            binders.append(_cents)
        elif base is datetime and dialect == "sqlite":
            binders.append(_sqlite_datetime)
        elif base is date and dialect == "sqlite":
            binders.append(_sqlite_date)
        elif base is bool and dialect == "sqlite":
            binders.append(_bool_int)
        else:
            binders.append(_identity)
    return tuple(binders)


class ReplicaWriter:
    """Writes batches of one record type for one source into its replica table."""

    def __init__(self, record: type, source_id: str, dialect: sa.Dialect) -> None:
        self.table = replica[record]
        self.source_id = source_id
        dialect_name = dialect.name
        self._binders = _binders(record, dialect_name)
        self._stamp: Bind = _sqlite_datetime if dialect_name == "sqlite" else _identity
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        fields = [f.name for f in dataclasses.fields(record) if f.name != "pms_id"]
        name = self.table.name
        insert_columns = ["source_id", "pms_id", *fields, "row_hash", "first_seen",
                          "last_changed"]
        self._insert = (
            f"INSERT INTO {name} ({', '.join(insert_columns)}) "
            f"VALUES ({', '.join([mark] * len(insert_columns))})")
        assignments = ", ".join(f"{column} = {mark}" for column in
                                [*fields, "row_hash", "last_changed", "deleted_at"])
        self._update = (f"UPDATE {name} SET {assignments} "
                        f"WHERE source_id = {mark} AND pms_id = {mark}")
        self._delete = (f"UPDATE {name} SET deleted_at = {mark}, last_changed = {mark} "
                        f"WHERE source_id = {mark} AND pms_id = {mark}")
        self._range = (f"SELECT pms_id, row_hash, deleted_at FROM {name} "
                       f"WHERE source_id = {mark} AND pms_id > {mark} AND pms_id <= {mark}")
        self._in_prefix = (f"SELECT pms_id, row_hash, deleted_at FROM {name} "
                           f"WHERE source_id = {mark} AND pms_id IN ")
        self._mark = mark

    def _existing(self, connection: sa.Connection, keys: Sequence[int] | None,
                  key_range: tuple[int, int] | None) -> dict[int, tuple[int, bool]]:
        found: dict[int, tuple[int, bool]] = {}
        if key_range is not None:
            result = connection.exec_driver_sql(
                self._range, (self.source_id, key_range[0], key_range[1]))
            found.update((row[0], (row[1], row[2] is not None)) for row in result)
            return found
        assert keys is not None
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start:start + _IN_CHUNK]
            sql = self._in_prefix + "(" + ", ".join([self._mark] * len(chunk)) + ")"
            result = connection.exec_driver_sql(sql, (self.source_id, *chunk))
            found.update((row[0], (row[1], row[2] is not None)) for row in result)
        return found

    def apply(
        self, connection: sa.Connection, rows: Sequence[ConvertedRow], *, now: datetime,
        full_range: tuple[int, int] | None, also_present: Iterable[int] = (),
    ) -> BatchChanges:
        """Write `rows`. With `full_range` (a full pull's batch covering those keys), replica
        rows in that range that the PMS no longer returned, and not in `also_present`
        (quarantined rows still exist), are marked deleted."""
        existing = self._existing(
            connection, None if full_range else [row.key for row in rows], full_range)
        changes = BatchChanges()
        stamp = self._stamp(now)
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        binders = self._binders
        for row in rows:
            bound = tuple(bind(value) for bind, value in zip(binders, row.values[1:], strict=True))
            previous = existing.get(row.key)
            if previous is None:
                inserts.append((self.source_id, row.key, *bound, row.row_hash, stamp, stamp))
                changes.inserted.append(row.key)
            elif previous[0] != row.row_hash or previous[1]:
                updates.append((*bound, row.row_hash, stamp, None, self.source_id, row.key))
                changes.updated.append(row.key)
        if full_range is not None:
            present = {row.key for row in rows}
            present.update(also_present)
            changes.deleted = sorted(
                key for key, (_, deleted) in existing.items()
                if not deleted and key not in present)
        if inserts:
            connection.exec_driver_sql(self._insert, inserts)
        if updates:
            connection.exec_driver_sql(self._update, updates)
        if changes.deleted:
            connection.exec_driver_sql(
                self._delete, [(stamp, stamp, self.source_id, key) for key in changes.deleted])
        return changes
