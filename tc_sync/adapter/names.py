"""PMS names in adapter SQL: each table named once in the manifest, any column renamed per site.

The ODBC adapters (Dentrix, Eaglesoft) read schemas that differ by version and are only partly
public. Their SQL writes each table as ``{logical}`` followed by an alias, and qualifies every
column with that alias (``FROM {v_patient} p ... p.birth_date``). Rendering puts in the table's
real name (the manifest's ``tables``, or a site's override), applies a site's column renames
(``v_patient.birth_date: birthdate``), expands ``{codes:stream.field}`` (the codes of a code
map; ``{codes:stream.field=target}``: those mapped to one target) and ``{value:name}`` (the
manifest's ``values``), and records every (table, column) the SQL reads, so that
``tc-sync check`` can look each one up in the server's catalog. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANY_CODE = "*"
"""A code map key that maps every code the map does not list."""

_TOKENS = re.compile(
    r"(?P<literal>'(?:[^']|'')*')"
    r"|(?P<comment>--[^\n]*)"
    r"|\{(?P<kind>codes|value):(?P<arg>[^{}]+)\}"
    r"|\{(?P<table>\w+)\}"
    r"|(?<![\w.])(?P<alias>[A-Za-z_]\w*)\.(?P<column>[A-Za-z_]\w*)(?![\w.])",
)
_ALIASED = re.compile(r"\{(\w+)\}\s+(?:AS\s+)?([A-Za-z_]\w*)", re.IGNORECASE)
_NOT_ALIASES = frozenset({
    "WHERE", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "CROSS", "ON", "ORDER", "GROUP",
    "UNION", "AND", "OR", "HAVING", "LIMIT", "SET", "USING"})
_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?![\w.])")


class NamesError(ValueError):
    """Adapter SQL that refers to a table, value or code map the manifest does not have."""


@dataclass(frozen=True)
class Names:
    """The names an adapter's SQL is rendered with: shipped, or with a site's overrides."""

    tables: Mapping[str, str]
    """Logical table name -> the real (schema-qualified) name."""
    columns: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(logical table, shipped column) -> the column's name at this site."""
    values: Mapping[str, Any] = field(default_factory=dict)
    code_maps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def table(self, logical: str) -> str:
        return self.tables[logical]

    def column(self, logical_table: str, column: str) -> str:
        return self.columns.get((logical_table, column), column)

    def real(self, reads: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
        """(real table, real column) for logical (table, shipped column) pairs."""
        return frozenset((self.table(t), self.column(t, c)) for t, c in reads)


@dataclass(frozen=True)
class Rendered:
    """SQL with real names, and what it reads (logical table, shipped column)."""

    sql: str
    tables: frozenset[str]
    reads: frozenset[tuple[str, str]]


def sql_literal(value: Any) -> str:
    """A value from the manifest as an SQL literal (text quoted, lists comma-separated)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ", ".join(sql_literal(item) for item in value) if value else "NULL"
    text = str(value)
    return "'" + text.replace("'", "''") + "'"


def _code_literal(code: str) -> str:
    return code if re.fullmatch(r"-?\d+", code) else sql_literal(code)


def _codes(arg: str, names: Names, label: str) -> str:
    key, _, target = arg.partition("=")
    mapping = names.code_maps.get(key.strip())
    if mapping is None:
        raise NamesError(f"{label}: {{codes:{arg}}} names no code map "
                         f"(known: {', '.join(sorted(names.code_maps)) or 'none'})")
    codes = sorted(str(code) for code, mapped in mapping.items()
                   if code != ANY_CODE and (not target or str(mapped) == target.strip()))
    return ", ".join(_code_literal(code) for code in codes) if codes else "NULL"


def _aliases(sql: str, names: Names, label: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for match in _ALIASED.finditer(_without_literals(sql)):
        logical, alias = match.group(1), match.group(2)
        if alias.upper() in _NOT_ALIASES:
            raise NamesError(f"{label}: table {{{logical}}} needs an alias (FROM {{{logical}}} "
                             "x), and every column of it must be written x.column")
        if logical not in names.tables:
            continue  # reported where the placeholder is rendered
        if aliases.get(alias, logical) != logical:
            raise NamesError(f"{label}: alias '{alias}' is used for two tables")
        aliases[alias] = logical
    return aliases


def _without_literals(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|--[^\n]*", lambda m: " " * len(m.group(0)), sql)


def render(sql: str, names: Names, label: str) -> Rendered:
    """Adapter SQL with the real table and column names in; raises NamesError."""
    aliases = _aliases(sql, names, label)
    tables: set[str] = set()
    reads: set[tuple[str, str]] = set()

    def substitute(match: re.Match[str]) -> str:
        if match.group("literal") is not None or match.group("comment") is not None:
            return match.group(0)
        if match.group("kind") == "codes":
            return _codes(match.group("arg"), names, label)
        if match.group("kind") == "value":
            name = match.group("arg").strip()
            if name not in names.values:
                raise NamesError(f"{label}: {{value:{name}}} is not one of the adapter's "
                                 f"values ({', '.join(sorted(names.values)) or 'none'})")
            return sql_literal(names.values[name])
        if match.group("table") is not None:
            logical = match.group("table")
            if logical not in names.tables:
                raise NamesError(f"{label}: {{{logical}}} is not one of the adapter's tables "
                                 f"({', '.join(sorted(names.tables))})")
            tables.add(logical)
            return names.table(logical)
        alias, column = match.group("alias"), match.group("column")
        logical = aliases.get(alias)
        if logical is None:
            return match.group(0)
        reads.add((logical, column))
        return f"{alias}.{names.column(logical, column)}"

    return Rendered(_TOKENS.sub(substitute, sql), frozenset(tables), frozenset(reads))


def render_columns(expression: str, logical_table: str, names: Names
                   ) -> tuple[str, frozenset[tuple[str, str]]]:
    """A key or cursor expression of one table's bare columns, with the site's names."""
    reads: set[tuple[str, str]] = set()

    def substitute(match: re.Match[str]) -> str:
        column = match.group(1)
        reads.add((logical_table, column))
        return names.column(logical_table, column)

    return _IDENTIFIER.sub(substitute, expression), frozenset(reads)
