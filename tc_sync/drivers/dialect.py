"""The ODBC dialect layer: what differs between the servers Dentrix and Eaglesoft run on.

Adapter SQL is written once, in a portable subset (COALESCE, CASE, CAST, no date arithmetic)
ending in ``LIMIT :batch_size``. For one server this module rewrites it before it is sent:
comments go, the row limit becomes ``SELECT TOP n`` (c-treeACE, SQL Anywhere) or stays ``LIMIT n``
(PostgreSQL and SQLite, the test doubles), and a NULL-parameter guard ``(:since IS NULL OR
...)`` is folded away, because ODBC servers cannot type an untyped NULL parameter. Rows coming
back are shaped: fixed-width text is trimmed, and split date / hour / minute columns (Dentrix
stores appointment times that way) are joined into one date-time. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from tc_sync.drivers.base import to_qmark


@dataclass(frozen=True)
class Dialect:
    """One SQL server as the ODBC driver speaks to it."""

    name: str
    title: str
    row_limit: Literal["top", "limit"]
    now_sql: str
    """The server's local clock: PMS timestamps are compared with it, never with ours."""
    dbms_names: tuple[str, ...]
    """Lower-case fragments of the DBMS name the ODBC driver reports (SQL_DBMS_NAME)."""
    datetimes_as_text: bool = False
    """Bind date-times as ISO text (SQLite stores and compares them as text)."""
    catalog: Literal["odbc", "sqlite"] = "odbc"
    """How tables and columns are listed: the ODBC catalog calls, or SQLite's pragmas."""


DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    # c-treeACE SQL (Dentrix G5-G7): TOP n; syscalctable is its one-row table.
    Dialect("ctree", "c-treeACE SQL", "top",
            "SELECT CURRENT_TIMESTAMP FROM admin.syscalctable",
            ("c-tree", "ctree", "faircom")),
    # SAP SQL Anywhere (Eaglesoft): TOP n; SYS.DUMMY is its one-row table.
    Dialect("sqlanywhere", "SQL Anywhere", "top", "SELECT CURRENT TIMESTAMP FROM SYS.DUMMY",
            ("sql anywhere", "adaptive server anywhere")),
    Dialect("postgresql", "PostgreSQL", "limit", "SELECT LOCALTIMESTAMP", ("postgres",)),
    Dialect("sqlite", "SQLite", "limit", "SELECT datetime('now', 'localtime')", ("sqlite",),
            datetimes_as_text=True, catalog="sqlite"),
)}


def detect(dbms_name: str) -> Dialect | None:
    """The dialect of a server from the DBMS name its ODBC driver reports, if known."""
    name = dbms_name.lower()
    for dialect in DIALECTS.values():
        if any(fragment in name for fragment in dialect.dbms_names):
            return dialect
    return None


_TRAILING_LIMIT = re.compile(r"\s+LIMIT\s+(?::(\w+)|(\d+))\s*;?\s*$", re.IGNORECASE)
_FIRST_SELECT = re.compile(
    r"^((?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*)SELECT(\s+DISTINCT)?\b", re.IGNORECASE | re.DOTALL)


def limit_rows(sql: str, params: Mapping[str, Any], dialect: Dialect
               ) -> tuple[str, dict[str, Any]]:
    """Rewrite a trailing ``LIMIT :name`` (or ``LIMIT n``) for the server; inline the count.

    The count is a whole number from the configuration (batch size), never row data, so it is
    written into the statement: c-treeACE accepts no parameter after TOP.
    """
    remaining = dict(params)
    match = _TRAILING_LIMIT.search(sql)
    if match is None:
        return sql, remaining
    count = remaining.pop(match.group(1)) if match.group(1) is not None else match.group(2)
    if isinstance(count, bool) or not isinstance(count, int | str) or not str(count).isdigit():
        raise ValueError(f"LIMIT needs a whole number, not {type(count).__name__}")
    rows = int(count)
    body = sql[:match.start()]
    if dialect.row_limit == "limit":
        return f"{body}\nLIMIT {rows}", remaining
    select = _FIRST_SELECT.match(body)
    if select is None:
        raise ValueError("the statement must begin with SELECT to take a row limit")
    return (f"{body[:select.end()]} TOP {rows}{body[select.end():]}", remaining)


_GUARD = re.compile(r"\(\s*:(\w+)\s+IS\s+NULL\s+OR\s+", re.IGNORECASE)


def _closing_paren(sql: str, start: int) -> int:
    """The index of the parenthesis closing the one opened just before `start`."""
    depth = 1
    i = start
    while i < len(sql):
        char = sql[i]
        if char == "'":
            i = sql.index("'", i + 1) if "'" in sql[i + 1:] else len(sql)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses after a NULL-parameter guard")


def fold_null_guards(sql: str, params: Mapping[str, Any]) -> str:
    """Resolve every ``(:p IS NULL OR expr)`` before the statement is sent.

    With ``p`` NULL the group is always true and becomes ``(1 = 1)``; otherwise it is
    ``(expr)``. ODBC servers cannot type a NULL parameter tested with IS NULL (PostgreSQL
    refuses it; others guess), and the folded form lets the server use an index.
    """
    out: list[str] = []
    position = 0
    for match in _GUARD.finditer(sql):
        if match.start() < position:
            continue  # inside a group already folded
        name = match.group(1)
        if name not in params:
            continue
        end = _closing_paren(sql, match.end())
        out.append(sql[position:match.start()])
        if params[name] is None:
            out.append("(1 = 1)")
        else:
            out.append("(" + fold_null_guards(sql[match.end():end], params) + ")")
        position = end + 1
    out.append(sql[position:])
    return "".join(out)


_COMMENT_OR_LITERAL = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)


def strip_comments(sql: str) -> str:
    """The statement without its comments: they are for people, and some ODBC drivers split
    statements or match quotes without regard to them (SQLite's treats a ; in one as two)."""
    return _COMMENT_OR_LITERAL.sub(
        lambda m: m.group(0) if m.group(0).startswith("'") else "", sql).strip()


def _bind_value(value: Any, dialect: Dialect) -> Any:
    if dialect.datetimes_as_text and isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


@dataclass(frozen=True)
class Statement:
    """A statement ready for the ODBC driver: `?` markers and their values in order."""

    sql: str
    values: tuple[Any, ...]


def prepare(sql: str, params: Mapping[str, Any], dialect: Dialect) -> Statement:
    """Adapter SQL with `:name` parameters as the server takes it."""
    limited, remaining = limit_rows(strip_comments(sql), params, dialect)
    folded = fold_null_guards(limited, remaining)
    text, names = to_qmark(folded)
    try:
        values = tuple(_bind_value(remaining[name], dialect) for name in names)
    except KeyError as error:
        raise ValueError(f"no value for the parameter :{error.args[0]}") from None
    return Statement(text, values)


# --- rows ---------------------------------------------------------------------------------------

SPLIT_PARTS = ("date", "hour", "minute")
"""`x__date`, `x__hour` and `x__minute` columns come back as one column `x`."""


@dataclass(frozen=True)
class RowShape:
    """How one result's rows are reshaped: which columns to trim, which to join."""

    columns: tuple[str, ...]
    text_positions: tuple[int, ...]
    joins: tuple[tuple[int, int, int, int], ...]
    """(position of the joined column, of its date, of its hour, of its minute)."""
    keep: tuple[int, ...]
    """Source positions of the plain columns, in output order (-1: a joined column)."""


def plan_shape(columns: Sequence[str], text_columns: Sequence[bool]) -> RowShape:
    """Plan the reshaping of a result with these (lower-case) column names."""
    split: dict[str, dict[str, int]] = {}
    for i, name in enumerate(columns):
        base, sep, part = name.rpartition("__")
        if sep and base and part in SPLIT_PARTS:
            split.setdefault(base, {})[part] = i
    incomplete = [base for base, parts in split.items() if "date" not in parts]
    if incomplete:
        raise ValueError(f"split column {incomplete[0]}__hour/__minute needs "
                         f"{incomplete[0]}__date")
    out_columns: list[str] = []
    keep: list[int] = []
    joins: list[tuple[int, int, int, int]] = []
    split_positions = {i for parts in split.values() for i in parts.values()}
    for i, name in enumerate(columns):
        if i in split_positions:
            base = name.rpartition("__")[0]
            if split[base]["date"] != i:
                continue
            parts = split[base]
            joins.append((len(out_columns), i, parts.get("hour", -1), parts.get("minute", -1)))
            out_columns.append(base)
            keep.append(-1)
            continue
        out_columns.append(name)
        keep.append(i)
    text = tuple(i for i, is_text in enumerate(text_columns) if is_text)
    return RowShape(tuple(out_columns), text, tuple(joins), tuple(keep))


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


def join_split(day: Any, hour: Any, minute: Any) -> datetime | None:
    """A date-time from a date and whole hours and minutes (None hours or minutes are 0)."""
    on = _as_date(day)
    if on is None:
        return None
    return datetime(on.year, on.month, on.day) + timedelta(
        hours=int(hour or 0), minutes=int(minute or 0))


@lru_cache(maxsize=64)
def _shaper(shape: RowShape) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """One straight-line function reshaping a row (generated, as the row converters are:
    a loop over columns costs more than the work itself)."""
    joins = {out: (d, h, m) for out, d, h, m in shape.joins}
    text = set(shape.text_positions)
    parts = []
    for out, source in enumerate(shape.keep):
        if source < 0:
            d, h, m = joins[out]
            parts.append(f"JOIN(row[{d}], {f'row[{h}]' if h >= 0 else 'None'}, "
                         f"{f'row[{m}]' if m >= 0 else 'None'})")
        elif source in text:
            parts.append(f"(v.strip() if (v := row[{source}]).__class__ is str else v)")
        else:
            parts.append(f"row[{source}]")
    namespace: dict[str, Any] = {"JOIN": join_split}
    code = f"def shape(row):\n    return ({', '.join(parts)},)"
    exec(code, namespace)  # noqa: S102 - source built here from column positions only
    function: Callable[[Sequence[Any]], tuple[Any, ...]] = namespace["shape"]
    return function


def shape_rows(shape: RowShape, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Trim fixed-width text and join split date-times, as planned by `plan_shape`."""
    if not shape.text_positions and not shape.joins:
        return [tuple(row) for row in rows]
    shaper = _shaper(shape)
    return [shaper(row) for row in rows]
