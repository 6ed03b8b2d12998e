"""An adapter's manifest: the streams a PMS offers, their SQL and keys, and its version range.

An adapter is data (see adapters/<pms>/manifest.yaml); this module is its model, and picks
the SQL for the PMS's schema version (`loading` reads and checks the folder). No PMS table or
column name lives in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tc_sync.adapter.convert import Conventions, RowConverter, build_converter
from tc_sync.adapter.names import Names, NamesError, render, render_columns
from tc_sync.records import RECORD_TYPES

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*( \* [0-9]+ \+ [A-Za-z_][A-Za-z0-9_.]*)?$")
"""A key column, or two whole-number columns as one key: `patient_id * 4294967296 + line`."""


Capability = Literal["tasks"]
"""What a PMS can take besides being read: `tasks`, follow-up tasks pushed into it."""


class AdapterError(Exception):
    """An adapter folder that cannot be used, or a PMS it does not support."""


def version_tuple(version: str) -> tuple[int, ...]:
    """(24, 3, 10, 0) from '24.3.10.0'; raises ValueError on anything else."""
    parts = version.strip().split(".")
    if not parts or not all(part.isdigit() for part in parts):
        raise ValueError(f"'{version}' is not a version number")
    return tuple(int(part) for part in parts)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VersionProbe(_Strict):
    """How to read the PMS schema version, and which versions this adapter supports."""

    query: str
    oldest: str
    newest: str

    @field_validator("oldest", "newest")
    @classmethod
    def _is_version(cls, value: str) -> str:
        version_tuple(value)
        return value


class StreamSpec(_Strict):
    """One canonical stream: its SQL, the PMS table it walks, its key and cursor."""

    record: str
    sql: str
    table: str
    key: str
    cursor: str | None = None
    hard_deletes: bool = False
    watch: list[str] = Field(default_factory=list)
    """Every table whose change can change this stream's rows (default: `table`); an
    incremental pull is skipped when the database says none has changed since the cursor."""
    before: dict[str, str] = Field(default_factory=dict)
    """SQL files for older schemas: {first version that no longer uses it: file}."""
    patient: str | None = None
    """The column of `table` naming the row's patient, indexed in the PMS: a change hint
    (the manifest's `hints`) re-reads this stream for the hinted patients only."""
    window_keys: int | None = Field(None, ge=100)
    """At most this many keys per statement of an incremental pull, where fewer than
    `sync.window_keys`: for SQL that joins other tables for every key of its window before
    it can tell whether the row changed, so that one statement stays short on the PMS."""

    @property
    def watched_tables(self) -> list[str]:
        return self.watch or [self.table]

    @field_validator("record")
    @classmethod
    def _known_record(cls, value: str) -> str:
        if value not in RECORD_TYPES:
            raise ValueError(f"unknown record '{value}'; known: {', '.join(RECORD_TYPES)}")
        return value

    @field_validator("table", "cursor", "patient")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.match(value):
            raise ValueError("must be a plain table or column name")
        return value

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be a column name, or 'high * 4294967296 + low' for a key "
                             "of two columns")
        return value

    @field_validator("watch")
    @classmethod
    def _identifiers(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"'{name}' must be a plain table name")
        return value

    @field_validator("before")
    @classmethod
    def _versions(cls, value: dict[str, str]) -> dict[str, str]:
        for version in value:
            version_tuple(version)
        return value


class ManifestModel(_Strict):
    """The manifest.yaml of an adapter folder."""

    pms: str
    title: str
    driver: Literal["mysql", "odbc", "sqlite"]
    """The family of drivers that runs this adapter's SQL (see `tc_sync.drivers.registry`)."""
    capabilities: list[Capability] = Field(default_factory=list)
    """What the PMS can take (a push target names it as its source); none: read-only."""
    version: VersionProbe
    conventions: dict[str, Any] = Field(default_factory=dict)
    tables: dict[str, str] = Field(default_factory=dict)
    """ODBC adapters: logical table name -> real name; the SQL writes {logical} (see pmsnames)."""
    values: dict[str, Any] = Field(default_factory=dict)
    """ODBC adapters: constants the SQL writes as {value:name}, which a site may override."""
    hints: str | None = None
    """SQL file naming the patients changed at or after `:since` (column `patient_id`, at
    most `:batch_size` of them), read between incremental scans; None: the PMS gives none."""
    streams: dict[str, StreamSpec]
    code_maps: dict[str, dict[str | int | bool, str | int | None]] = Field(default_factory=dict)

    @field_validator("tables")
    @classmethod
    def _table_names(cls, value: dict[str, str]) -> dict[str, str]:
        for logical, real in value.items():
            if not _IDENTIFIER.match(real):
                raise ValueError(f"tables.{logical}: '{real}' must be a (schema.)table name")
        return value


@dataclass(frozen=True)
class Stream:
    """A stream ready to pull: its spec, the SQL for this PMS version, its row converter.

    For an ODBC adapter the spec's table, key and cursor are the site's real names and
    `reads` lists every (table, column) the stream reads, for `tc-sync check`.
    """

    name: str
    spec: StreamSpec
    sql: str
    sql_file: Path
    converter: RowConverter
    reads: frozenset[tuple[str, str]] = frozenset()

    @property
    def incremental(self) -> bool:
        return self.spec.cursor is not None


@dataclass(frozen=True)
class Adapter:
    """A loaded adapter folder, with a site's overrides applied (ODBC adapters).

    The manifest's version query is already rendered with the site's names.
    """

    folder: Path
    manifest: ManifestModel
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    """The site's column names: (logical table, shipped column) -> its name at the site."""
    version_reads: frozenset[tuple[str, str]] = frozenset()
    """(real table, real column) the version query reads."""

    @cached_property
    def conventions(self) -> Conventions:
        return Conventions(**self.manifest.conventions)

    @cached_property
    def names(self) -> Names:
        return manifest_names(self.manifest, self.columns)

    def check_version(self, version: str) -> None:
        """Raise AdapterError unless `version` is one this adapter supports."""
        try:
            found = version_tuple(version)
        except ValueError:
            raise AdapterError(
                f"{self.manifest.title} reported schema version '{version}', which tc-sync "
                "cannot read") from None
        oldest = version_tuple(self.manifest.version.oldest)
        newest = version_tuple(self.manifest.version.newest)
        if found[: len(oldest)] < oldest or found[: len(newest)] > newest:
            raise AdapterError(
                f"{self.manifest.title} schema version {version} is not supported: tc-sync "
                f"reads {self.manifest.version.oldest} through {self.manifest.version.newest}. "
                "Upgrade tc-sync, or ask for this version to be added.")

    def hints_sql(self) -> str | None:
        """The change-hint query (`hints`), or None when this PMS gives no hints."""
        if self.manifest.hints is None:
            return None
        sql_file = self.folder / self.manifest.hints
        try:
            return sql_file.read_text(encoding="utf-8")
        except OSError as error:
            raise AdapterError(f"{sql_file}: cannot read ({error.strerror})") from None

    def streams(self, version: str, only: set[str] | None = None) -> list[Stream]:
        """The streams to pull from a PMS at schema `version`, with their SQL chosen."""
        found = version_tuple(version)
        result = []
        for name, spec in self.manifest.streams.items():
            if only is not None and name not in only:
                continue
            sql_name = spec.sql
            for first_without, older_sql in sorted(
                    spec.before.items(), key=lambda item: version_tuple(item[0])):
                if found < version_tuple(first_without):
                    sql_name = older_sql
                    break
            sql_file = self.folder / sql_name
            try:
                sql = sql_file.read_text(encoding="utf-8")
            except OSError as error:
                raise AdapterError(f"{sql_file}: cannot read ({error.strerror})") from None
            code_maps = {
                field: {code_text(code): target for code, target in mapping.items()}
                for key, mapping in self.manifest.code_maps.items()
                for stream_name, _, field in [key.partition(".")]
                if stream_name == name
            }
            converter = build_converter(
                RECORD_TYPES[spec.record], code_maps, self.conventions, name)
            if self.manifest.tables:
                result.append(self._named(Stream(name, spec, sql, sql_file, converter)))
            else:
                result.append(Stream(name, spec, sql, sql_file, converter))
        return result

    def _named(self, stream: Stream) -> Stream:
        """The stream with the site's real table and column names in its SQL and spec."""
        names, spec = self.names, stream.spec
        try:
            rendered = render(stream.sql, names, str(stream.sql_file))
        except NamesError as error:
            raise AdapterError(str(error)) from None
        if spec.table not in names.tables:
            raise AdapterError(f"{self.folder / 'manifest.yaml'}: streams.{stream.name}.table "
                               f"'{spec.table}' is not one of the adapter's tables")
        key, key_reads = render_columns(spec.key, spec.table, names)
        cursor, cursor_reads = (None, frozenset()) if spec.cursor is None else render_columns(
            spec.cursor, spec.table, names)
        named = spec.model_copy(update={"table": names.table(spec.table), "key": key,
                                        "cursor": cursor})
        reads = names.real(rendered.reads | key_reads | cursor_reads)
        return Stream(stream.name, named, rendered.sql, stream.sql_file, stream.converter,
                      reads)


def code_text(code: str | int | bool) -> str:
    """A code as the manifest's code maps key it: YAML's true/1/'1' all read '1'."""
    if isinstance(code, bool):
        return str(int(code))
    return str(code)


def manifest_names(manifest: ManifestModel, columns: dict[tuple[str, str], str]) -> Names:
    """The names the SQL is written with, resolved to this site's tables, columns and codes."""
    return Names(manifest.tables, columns, manifest.values,
                 {key: {code_text(code): target for code, target in mapping.items()}
                  for key, mapping in manifest.code_maps.items()})
