"""Compare the PMS tables and columns an adapter reads with what the server's catalog holds.

`tc-sync check` lists, for an ODBC source, every configured table or column the server does
not have, the nearest names it does have, and which streams cannot run because of them.
Names are matched without regard to case (c-treeACE and SQL Anywhere ignore it; PostgreSQL
folds unquoted names to lower case). Pure: the catalog is passed in.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MissingName:
    """A table (``schema.table``) or column (``schema.table.column``) the server lacks."""

    name: str
    kind: str
    nearest: tuple[str, ...]
    needed_by: tuple[str, ...]


@dataclass
class CatalogReport:
    """What is missing, and the streams (or the version query) it switches off."""

    missing: list[MissingName] = field(default_factory=list)

    @property
    def off(self) -> dict[str, list[str]]:
        """Stream -> the missing names it needs."""
        result: dict[str, list[str]] = {}
        for name in self.missing:
            for stream in name.needed_by:
                result.setdefault(stream, []).append(name.name)
        return result


def _likeness(wanted: str, candidate: str) -> float:
    """How alike two names are, 0..1; the same letters in another order (datesent and
    sentdate, a common difference between versions) count as nearly alike."""
    spelled = difflib.SequenceMatcher(None, wanted, candidate).ratio()
    letters = difflib.SequenceMatcher(None, sorted(wanted), sorted(candidate)).ratio()
    return max(spelled, letters - 0.1)


def _nearest(wanted: str, candidates: Sequence[str]) -> tuple[str, ...]:
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    scored = sorted(((_likeness(wanted.lower(), name), name) for name in by_lower),
                    key=lambda pair: (-pair[0], pair[1]))
    return tuple(by_lower[name] for score, name in scored[:3] if score >= 0.6)


def _find_table(wanted: str, tables: Sequence[str]) -> str | None:
    lower = wanted.lower()
    for table in tables:
        if table.lower() == lower:
            return table
    if "." not in wanted:
        for table in tables:
            if table.rpartition(".")[2].lower() == lower:
                return table
    return None


def _similar_tables(wanted: str, tables: Sequence[str]) -> tuple[str, ...]:
    schema, _, name = wanted.rpartition(".")
    same_schema = [t for t in tables if not schema or t.rpartition(".")[0].lower() ==
                   schema.lower()] or list(tables)
    by_name: dict[str, str] = {}
    for table in same_schema:
        by_name.setdefault(table.rpartition(".")[2], table)
    return tuple(by_name[match] for match in _nearest(name, list(by_name)))


def compare_names(needs: Mapping[str, frozenset[tuple[str, str]]], tables: Sequence[str],
                  columns_of: Callable[[str], Sequence[str]]) -> CatalogReport:
    """Look every (table, column) each stream needs up in the catalog.

    `needs` maps a stream name (or "version") to the (table, column) pairs it reads;
    `tables` lists the server's tables and views as ``schema.table``; `columns_of` lists the
    columns of one of them.
    """
    needed_by: dict[tuple[str, str | None], set[str]] = {}
    for stream, reads in needs.items():
        for read_table, read_column in reads:
            needed_by.setdefault((read_table, None), set()).add(stream)
            needed_by.setdefault((read_table, read_column), set()).add(stream)
    report = CatalogReport()
    found_columns: dict[str, list[str]] = {}
    for table, column in sorted(needed_by, key=lambda key: (key[0], key[1] or "")):
        streams = tuple(sorted(needed_by[(table, column)]))
        actual = _find_table(table, tables)
        if actual is None:
            if column is None:
                report.missing.append(MissingName(
                    table, "table", _similar_tables(table, tables), streams))
            continue
        if column is None:
            continue
        if actual not in found_columns:
            found_columns[actual] = list(columns_of(actual))
        present = found_columns[actual]
        if column.lower() not in {name.lower() for name in present}:
            report.missing.append(MissingName(
                f"{table}.{column}", "column", _nearest(column, present), streams))
    return report
