"""Apply one batch of PMS rows to a replica table: insert new, update changed, mark deleted.

One upsert statement per chunk of rows. The database compares each row with the one it holds
and rewrites it only if a value differs (the PMS timestamp aside), returning the keys it wrote;
so a re-read row that did not change costs no write, and the caller learns exactly what changed.
The caller runs this inside the batch's ledger transaction.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from tc_sync.ledger.schema import replica

_MAX_PARAMETERS = 30_000
"""Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535."""
_TIMESTAMP_FIELD = "changed_at"


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


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime reads and compares.
    return None if value is None else value.isoformat(sep=" ", timespec="microseconds")


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _enum_text(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _bool_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _binder(annotation: Any, dialect: str) -> Bind | None:
    """How a record value is stored, when the database driver cannot take it as it is."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args else annotation
    if isinstance(base, type) and issubclass(base, StrEnum):
        return _enum_text
    if dialect == "sqlite":
        sqlite_binders: dict[type, Bind] = {
            datetime: _sqlite_datetime, date: _sqlite_date, bool: _bool_int}
        return sqlite_binders.get(base)
    return None


_TEXT_AS_IS = (_sqlite_date, _sqlite_datetime)
"""Binders whose stored form is text: a value that already is text (the converter's
`temporal_as_text`) is taken as it is."""


def _compile_binder(binders: Sequence[Bind | None], source_id: str
                    ) -> Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]]:
    """One function making a row's statement parameters: the source id, each value as the
    database stores it, then `tail` (the bookkeeping columns). Generated: it runs per row."""
    namespace: dict[str, Any] = {"SOURCE": source_id}
    parts = ["SOURCE"]
    for i, bind in enumerate(binders):
        if bind is None:
            parts.append(f"values[{i}]")
        elif bind in _TEXT_AS_IS:
            namespace[f"B{i}"] = bind
            parts.append(f"(v if type(v := values[{i}]) is str or v is None else B{i}(v))")
        else:
            namespace[f"B{i}"] = bind
            parts.append(f"B{i}(values[{i}])")
    source = f"def bind(values, tail):\n    return ({', '.join(parts)}, *tail)"
    exec(source, namespace)  # noqa: S102 - source built here from fixed templates
    function: Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]] = namespace["bind"]
    return function


class ReplicaWriter:
    """Writes batches of one record type for one source into its replica table."""

    def __init__(self, record: type, source_id: str, dialect: sa.Dialect) -> None:
        self.table = replica[record]
        self.source_id = source_id
        self._sqlite = dialect.name == "sqlite"
        self.temporal_as_text = self._sqlite
        """The ledger stores dates and times as ISO text, and takes them as text."""
        hints = typing.get_type_hints(record)
        fields = [f.name for f in dataclasses.fields(record)]
        self._bind_row = _compile_binder(
            [_binder(hints[name], dialect.name) for name in fields], source_id)
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        name = self.table.name
        self._columns = ["source_id", *fields, "first_seen", "last_changed"]
        compared = [f for f in fields[1:] if f != _TIMESTAMP_FIELD]
        different = "IS NOT" if self._sqlite else "IS DISTINCT FROM"
        assignments = ", ".join(f"{f} = excluded.{f}" for f in [*fields[1:], "last_changed"])
        self._upsert_tail = (
            f" ON CONFLICT (source_id, pms_id) DO UPDATE SET {assignments}, deleted_at = NULL"
            f" WHERE ({', '.join(f'{name}.{f}' for f in compared)}, {name}.deleted_at)"
            f" {different} ({', '.join(f'excluded.{f}' for f in compared)}, NULL)"
            " RETURNING pms_id")
        self._upsert_head = f"INSERT INTO {name} ({', '.join(self._columns)}) VALUES "
        self._row_marks = "(" + ", ".join([self._mark] * len(self._columns)) + ")"
        self._chunk = max(1, _MAX_PARAMETERS // len(self._columns))
        mark = self._mark
        self._keys_in_range = (
            f"SELECT pms_id, deleted_at IS NULL FROM {name} WHERE source_id = {mark} "
            f"AND pms_id > {mark} AND pms_id <= {mark}")
        self._keys_in = f"SELECT pms_id FROM {name} WHERE source_id = {mark} AND pms_id IN "
        self._delete = (f"UPDATE {name} SET deleted_at = {mark}, last_changed = {mark} "
                        f"WHERE source_id = {mark} AND pms_id = {mark}")

    def _stamp(self, now: datetime) -> Any:
        return _sqlite_datetime(now) if self._sqlite else now


    def apply(
        self, connection: sa.Connection, rows: Sequence[tuple[Any, ...]], *, now: datetime,
        full_range: tuple[int, int] | None = None, also_present: Iterable[int] = (),
    ) -> BatchChanges:
        """Write record value tuples (pms_id first). With `full_range` (a full pull's batch
        covering those keys), replica rows in that range that the PMS no longer returned, and
        not in `also_present` (quarantined rows still exist), are marked deleted."""
        if full_range is not None:
            known = dict(connection.exec_driver_sql(
                self._keys_in_range, (self.source_id, *full_range)).all())
        else:
            known = dict.fromkeys(self._existing(connection, [v[0] for v in rows]), True)
        changes = BatchChanges()
        stamp = self._stamp(now)
        tail = (stamp, stamp)
        # None of these keys is in the replica (a first pull): a plain insert, nothing to
        # compare and nothing to hear back.
        all_new = not known
        for start in range(0, len(rows), self._chunk):
            chunk = rows[start:start + self._chunk]
            parameters: list[Any] = []
            bind_row = self._bind_row
            for values in chunk:
                parameters += bind_row(values, tail)
            marks = ", ".join([self._row_marks] * len(chunk))
            if all_new:
                connection.exec_driver_sql(self._upsert_head + marks, tuple(parameters))
                changes.inserted += [values[0] for values in chunk]
                continue
            sql = self._upsert_head + marks + self._upsert_tail
            for key in connection.exec_driver_sql(sql, tuple(parameters)).scalars():
                (changes.updated if key in known else changes.inserted).append(key)
        if full_range is not None:
            present = {values[0] for values in rows}
            present.update(also_present)
            changes.deleted = sorted(
                key for key, live in known.items() if live and key not in present)
            self.mark_deleted(connection, changes.deleted, now=now)
        changes.inserted.sort()
        changes.updated.sort()
        return changes

    def mark_deleted(self, connection: sa.Connection, keys: Sequence[int], *,
                     now: datetime) -> None:
        """Mark replica rows deleted (the PMS no longer has them); they are never dropped."""
        if keys:
            stamp = self._stamp(now)
            connection.exec_driver_sql(self._delete, [
                (stamp, stamp, self.source_id, key) for key in keys])

    def _existing(self, connection: sa.Connection, keys: list[int]) -> list[int]:
        found: list[int] = []
        chunk_size = _MAX_PARAMETERS // 10
        for start in range(0, len(keys), chunk_size):
            chunk = keys[start:start + chunk_size]
            sql = self._keys_in + "(" + ", ".join([self._mark] * len(chunk)) + ")"
            found += connection.exec_driver_sql(sql, (self.source_id, *chunk)).scalars()
        return found
