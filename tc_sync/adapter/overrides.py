"""A site's adapter overrides: its own table and column names, codes, values and cursors.

Dentrix and Eaglesoft differ by version and are only partly public, so a site may need to tell
tc-sync that a view is called something else, that a column has another name, that a status
code means something, or that a stream has no change timestamp. It writes only that, in a YAML
file named by the source's ``overrides`` setting; the shipped adapter stays as released, so an
upgrade brings its fixes. Each problem names file, line, column and key.

```yaml
tables:    {v_appt: admin.v_appointment}        # logical name: this site's table
columns:   {claim.datesent: sentdate}           # table.shipped column: this site's column
streams:   {patients: {cursor: null}}           # no change timestamp here: pull it whole
values:    {walked_out_arrival_status: 5}
code_maps: {procedures.status: {106: planned}}  # added to (or replacing codes of) the map
version:   {newest: "17.9"}
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tc_sync.config.yamlfile import (
    YamlDocument,
    YamlFileError,
    describe_validation_error,
    load_yaml,
)

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class OverridesError(Exception):
    """An overrides file that cannot be used; one line per problem, each with file:line:col."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StreamOverride(_Strict):
    """A stream's key or cursor column at this site; `cursor: null` pulls it whole."""

    key: str | None = None
    cursor: str | None = None

    @field_validator("key", "cursor")
    @classmethod
    def _column(cls, value: str | None) -> str | None:
        if value is not None and not _COLUMN_NAME.match(value):
            raise ValueError("must be a plain column name of the stream's table")
        return value


class VersionOverride(_Strict):
    """How to read the schema version at this site, and which versions to accept."""

    query: str | None = None
    oldest: str | None = None
    newest: str | None = None

    @field_validator("oldest", "newest")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+(\.\d+)*", value.strip()):
            raise ValueError(f"'{value}' is not a version number like 17.2")
        return value


class OverridesModel(_Strict):
    """The overrides file."""

    tables: dict[str, str] = Field(default_factory=dict)
    columns: dict[str, str] = Field(default_factory=dict)
    streams: dict[str, StreamOverride] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    code_maps: dict[str, dict[str | int | bool, str | int | None]] = Field(
        default_factory=dict)
    version: VersionOverride | None = None


def read_overrides(path: Path) -> tuple[OverridesModel, YamlDocument]:
    """Parse and shape-check an overrides file; raise OverridesError."""
    try:
        document = load_yaml(path)
    except YamlFileError as error:
        raise OverridesError(error.problems) from None
    if not isinstance(document.data, dict):
        raise OverridesError([f"{path}: the file must be a mapping (tables, columns, ...)"])
    try:
        return OverridesModel.model_validate(document.data), document
    except ValidationError as error:
        raise OverridesError(list(describe_validation_error(error, document))) from None


def apply_overrides(  # noqa: PLR0912 - one check per section reads best as one function
    manifest: dict[str, Any], overrides: OverridesModel, document: YamlDocument,
    reads: Iterable[tuple[str, str]],
) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    """The manifest (as plain data) with the site's overrides, and the site's column names.

    `reads` are the (logical table, column) pairs the adapter's SQL reads: a column override
    must name one of them. Raises OverridesError naming every problem.
    """
    problems: list[str] = []
    title = manifest.get("title", "this")

    def problem(loc: tuple[str | int, ...], message: str, *, key: bool = True) -> None:
        where = document.where(loc, key=key)
        problems.append(f"{where}: {'.'.join(str(p) for p in loc)}: {message}")

    tables = dict(manifest.get("tables") or {})
    for logical, real in overrides.tables.items():
        if logical not in tables:
            problem(("tables", logical), f"the {title} adapter has no table '{logical}' "
                    f"(its tables: {', '.join(sorted(tables))})")
        elif not _TABLE_NAME.match(real):
            problem(("tables", logical), "must be a table name, optionally schema.table",
                    key=False)
        else:
            tables[logical] = real
    known_reads = set(reads)
    columns: dict[tuple[str, str], str] = {}
    for name, site_column in overrides.columns.items():
        table, _, column = name.partition(".")
        if (table, column) not in known_reads:
            read_here = sorted(c for t, c in known_reads if t == table)
            hint = (f"it reads these columns of {table}: {', '.join(read_here)}" if read_here
                    else f"its tables: {', '.join(sorted(tables))}")
            problem(("columns", name), f"the {title} adapter reads no column '{name}' "
                    f"(write table.column; {hint})")
        elif not _COLUMN_NAME.match(site_column):
            problem(("columns", name), "must be a plain column name", key=False)
        else:
            columns[(table, column)] = site_column
    streams = {name: dict(spec) for name, spec in (manifest.get("streams") or {}).items()}
    for name, change in overrides.streams.items():
        if name not in streams:
            problem(("streams", name), f"the {title} adapter has no stream '{name}' "
                    f"(its streams: {', '.join(streams)})")
            continue
        for setting in sorted(change.model_fields_set):
            streams[name][setting] = getattr(change, setting)
    values = dict(manifest.get("values") or {})
    for name, value in overrides.values.items():
        if name not in values:
            problem(("values", name), f"the {title} adapter has no value '{name}' "
                    f"(its values: {', '.join(sorted(values)) or 'none'})")
        else:
            values[name] = value
    code_maps = {key: dict(mapping) for key, mapping in
                 (manifest.get("code_maps") or {}).items()}
    for key, mapping in overrides.code_maps.items():
        if key not in code_maps:
            problem(("code_maps", key), f"the {title} adapter has no code map '{key}' "
                    f"(its code maps: {', '.join(sorted(code_maps))})")
        else:
            code_maps[key].update(mapping)
    version = dict(manifest.get("version") or {})
    if overrides.version is not None:
        version.update({k: getattr(overrides.version, k)
                        for k in overrides.version.model_fields_set})
    if problems:
        raise OverridesError(problems)
    return ({**manifest, "tables": tables, "streams": streams, "values": values,
             "code_maps": code_maps, "version": version}, columns)
