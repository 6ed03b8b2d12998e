"""Turn PMS rows into canonical record values: coerce, map codes, validate.

Pure functions, no I/O. A `RowConverter` is compiled once per stream from the record type, the
adapter's code maps and its conventions; converting a row returns the record's field values in
declaration order, or raises `RowError` naming the field (never the value: it may be PHI).
Values that already have the right type pass without a call: this runs for every row.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from tc_sync.records import Cents

_MAX_CENTS = 10**12
_MAX_INT = 2**63   # the ledger's BIGINT


class RowError(ValueError):
    """A PMS row that cannot become a canonical record; names the field and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field '{field}': {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Conventions:
    """How a PMS encodes "nothing": an adapter manifest sets these."""

    zero_id_is_none: bool = True
    none_before_year: int = 1880


Coerce = Callable[[Any], Any]


def _type_name(value: object) -> str:
    return type(value).__name__


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def to_int(value: Any) -> int:
    number = _whole(value)
    if not -_MAX_INT <= number < _MAX_INT:
        raise TypeError("whole number out of range")
    return number


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        try:   # range first: int(Decimal('1E+999999')) would take minutes
            if -_MAX_INT < value < _MAX_INT and value == int(value):
                return int(value)
        except ArithmeticError:   # Decimal NaN
            pass
    if isinstance(value, str | bytes):
        try:
            return int(_as_text(value).strip())
        except ValueError:
            pass
    raise TypeError(f"not a whole number (got {_type_name(value)})")


def to_str(value: Any) -> str:
    text = _to_str(value)
    if "\x00" in text:   # a PostgreSQL ledger cannot store it: the whole batch would fail
        raise TypeError("text holds a NUL character")
    return text


def _to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return _as_text(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise TypeError(f"not text (got {_type_name(value)})")


def to_cents(value: Any) -> int:
    """An amount in whole cents; None (an absent amount) is zero."""
    if value is None:
        return 0
    if isinstance(value, float):
        cents = round(value * 100)
    else:
        try:
            amount = value if isinstance(value, Decimal) else Decimal(_as_text(value))
            if not abs(amount) * 100 < _MAX_CENTS:   # before int(): 1E+900000 takes minutes
                raise TypeError("amount out of range")
            cents = int((amount * 100).to_integral_value(ROUND_HALF_UP))
        except (ArithmeticError, ValueError):   # InvalidOperation, Overflow ('1E+999999')
            raise TypeError(f"not an amount (got {_type_name(value)})") from None
    if abs(cents) >= _MAX_CENTS:
        raise TypeError("amount out of range")
    return cents


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, bytes) and value in (b"\x00", b"\x01"):
        return value == b"\x01"
    raise TypeError(f"not a yes/no flag (got {_type_name(value)})")


def date_coercer(none_before_year: int) -> Coerce:
    """Dates; placeholders ('0000-00-00', '0001-01-01', any year before the cut-off) are None.

    Drivers hand temporal values over as ISO text (parsed here in C, far cheaper than a
    driver's own conversion) or as date objects.
    """
    cutoff = f"{none_before_year:04d}"

    def to_date(value: Any) -> date | None:
        if type(value) is bytes:
            value = value.decode("ascii", errors="replace")
        if type(value) is str:
            if value < cutoff:
                return None
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                raise TypeError("not a date") from None
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.date()
        elif not isinstance(value, date):
            raise TypeError(f"not a date (got {_type_name(value)})")
        return None if value.year < none_before_year else value

    return to_date


def datetime_coercer(none_before_year: int) -> Coerce:
    """Date-times; placeholders as for dates. Times stay naive PMS-local time."""
    cutoff = f"{none_before_year:04d}"

    def to_datetime(value: Any) -> datetime | None:
        if type(value) is bytes:
            value = value.decode("ascii", errors="replace")
        if type(value) is str:
            if value < cutoff:
                return None
            try:
                value = datetime.fromisoformat(value)   # may hold an offset: dropped below
            except ValueError:
                raise TypeError("not a date and time") from None
        if value is None:
            return None
        if isinstance(value, datetime):
            result = value
        elif isinstance(value, date):
            result = datetime(value.year, value.month, value.day)
        else:
            raise TypeError(f"not a date and time (got {_type_name(value)})")
        if result.year < none_before_year:
            return None
        return result.replace(tzinfo=None)

    return to_datetime


def _optional(coerce: Coerce) -> Coerce:
    def optional(value: Any) -> Any:
        return None if value is None else coerce(value)

    return optional


def _optional_id(value: Any) -> int | None:
    if value is None:
        return None
    number = to_int(value)
    return None if number == 0 else number


def _enum_coercer(enum: type[StrEnum], code_map: Mapping[str, str] | None, label: str) -> Coerce:
    if code_map is None:
        members = {member.value: member for member in enum}

        def by_value(value: Any) -> StrEnum:
            try:
                return members[_as_text(value)]
            except KeyError:
                raise TypeError(f"'{_as_text(value)}' is not a {enum.__name__} value") from None

        return by_value
    resolved = {code: enum(target) for code, target in code_map.items()}
    # "*" maps every code the map does not list: only for lists a practice defines itself.
    other = resolved.pop("*", None)

    def by_code(value: Any) -> StrEnum:
        code = "" if value is None else _as_text(value)
        try:
            return resolved[code]
        except KeyError:
            if other is not None:
                return other
            raise TypeError(f"code '{code}' is not in the code map {label}") from None

    return by_code


def _partial_map(code_map: Mapping[str, Any], coerce: Coerce) -> Coerce:
    def mapped(value: Any) -> Any:
        key = "" if value is None else _as_text(value)
        return coerce(code_map[key]) if key in code_map else coerce(value)

    return mapped


@dataclass(frozen=True)
class FieldPlan:
    """How one field is converted: the exact coercion, and a shortcut for the common case.

    `shortcut` names an inline test the compiled converter makes before calling `coerce`
    (e.g. "int": a value that already is an int is taken as it is); `lookup` is the code map
    of an enum field, keyed by the PMS's raw codes.
    """

    name: str
    coerce: Coerce
    shortcut: str | None = None
    lookup: Mapping[Any, Any] | None = None


def _enum_lookup(enum: type[StrEnum], code_map: Mapping[str, str]) -> dict[Any, StrEnum]:
    lookup: dict[Any, StrEnum] = {}
    for code, target in code_map.items():
        lookup[code] = enum(target)
        if code.lstrip("-").isdigit():
            lookup[int(code)] = enum(target)
    return lookup


def _field_plan(  # noqa: PLR0911 - one return per kind of field reads best
    name: str, annotation: Any, conventions: Conventions,
    code_map: Mapping[str, Any] | None, label: str,
) -> FieldPlan:
    """How to convert one field of a record, given its annotation and code map."""
    if annotation is Cents:
        return FieldPlan(name, to_cents, "cents")
    optional = False
    base = annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        base = members[0]
    if isinstance(base, type) and issubclass(base, StrEnum):
        coerce = _enum_coercer(base, code_map, label)
        if optional:
            return FieldPlan(name, _optional(coerce))
        return FieldPlan(name, coerce, "enum" if code_map else None,
                         _enum_lookup(base, code_map) if code_map else None)
    if code_map is not None:
        plain = _field_plan(name, annotation, conventions, None, label)
        return FieldPlan(name, _partial_map(code_map, plain.coerce))
    if base is date:
        return FieldPlan(name, date_coercer(conventions.none_before_year), "date")
    if base is datetime:
        return FieldPlan(name, datetime_coercer(conventions.none_before_year), "datetime")
    if base is bool:
        return FieldPlan(name, to_bool)
    if base is str:
        return FieldPlan(name, _optional(to_str), "opt_str") if optional else FieldPlan(
            name, to_str, "str")
    if optional and name.endswith("_id") and conventions.zero_id_is_none:
        return FieldPlan(name, _optional_id, "id")
    return FieldPlan(name, _optional(to_int), "opt_int") if optional else FieldPlan(
        name, to_int, "int")


_SHORTCUTS = {
    # An expression of the raw value `r` that converts it when it has the common shape, and
    # otherwise calls the field's exact coercion C (which raises on bad input).
    "int": "r if type(r) is int else C(r)",
    "str": "r if type(r) is str and NUL not in r else C(r)",
    "opt_int": "r if r is None or type(r) is int else C(r)",
    "opt_str": "r if r is None or (type(r) is str and NUL not in r) else C(r)",
    "id": "(r or None) if type(r) is int else C(r)",
    "cents": "round(r * 100) if type(r) is float and -MAX_DOLLARS < r < MAX_DOLLARS else C(r)",
    # MySQL hands dates over as ISO text; ODBC drivers as date objects.
    "date": "DATE(r) if type(r) is str and len(r) == 10 and r >= CUTOFF else "
            "(r if type(r) is DATE_T and r.year >= YEAR else C(r))",
    # 19 characters with ':' at 13 and 16 is YYYY-MM-DD HH:MM:SS, never one with an offset.
    "datetime": "DATETIME(r) if type(r) is str and len(r) == 19 and r[13] == r[16] == ':' "
                "and r >= CUTOFF else "
                "(r if type(r) is DATETIME_T and r.tzinfo is None and r.year >= YEAR else C(r))",
    "enum": "L[r] if r in L else C(r)",
}

_TEXT_SHORTCUTS = {
    # For a ledger that stores dates and times as ISO text (SQLite): the value is still
    # parsed (which validates it: MySQL can hold '2024-02-31'), but the text is kept, in the
    # exact form the ledger's binder writes a date or datetime object, so either path stores
    # the same text.
    "date": "r if type(r) is str and len(r) == 10 and r >= CUTOFF and DATE(r) else "
            "(r if type(r) is DATE_T and r.year >= YEAR else C(r))",
    "datetime": "r + '.000000' if type(r) is str and len(r) == 19 and r[13] == r[16] == ':' "
                "and r >= CUTOFF and DATETIME(r) else "
                "(r if type(r) is DATETIME_T and r.tzinfo is None and r.year >= YEAR "
                "else C(r))",
}


def _compile(plans: Sequence[FieldPlan], positions: Sequence[int], cutoff_year: int,
             exact: Callable[[Sequence[Any]], tuple[Any, ...]], temporal_as_text: bool,
             ) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """One straight-line function converting a row: the fast path of `RowConverter`.

    Generated (as dataclasses generate __init__) because a loop over fields costs more than
    the conversion itself. Anything unusual falls to the field's exact coercion.
    """
    shortcuts = {**_SHORTCUTS, **_TEXT_SHORTCUTS} if temporal_as_text else _SHORTCUTS
    namespace: dict[str, Any] = {
        "MAX_DOLLARS": _MAX_CENTS / 100, "CUTOFF": f"{cutoff_year:04d}",
        "DATE": date.fromisoformat, "DATETIME": datetime.fromisoformat, "EXACT": exact,
        "DATE_T": date, "DATETIME_T": datetime, "YEAR": cutoff_year, "NUL": "\x00",
        "DOUBT": (TypeError, ValueError, ArithmeticError)}
    lines = ["def convert(row):", "  try:"]
    for i, (plan, position) in enumerate(zip(plans, positions, strict=True)):
        namespace[f"C{i}"] = plan.coerce
        namespace[f"L{i}"] = plan.lookup
        expression = shortcuts[plan.shortcut] if plan.shortcut else "C(r)"
        expression = expression.replace("C(r)", f"C{i}(r)").replace("L[", f"L{i}[").replace(
            "in L", f"in L{i}")
        lines.append(f"    r = row[{int(position)}]")
        lines.append(f"    v{i} = {expression}")
    lines.append(f"    return ({', '.join(f'v{i}' for i in range(len(plans)))},)")
    lines += ["  except DOUBT:", "    return EXACT(row)"]
    exec("\n".join(lines), namespace)  # noqa: S102 - source built here from fixed templates
    function: Callable[[Sequence[Any]], tuple[Any, ...]] = namespace["convert"]
    return function


@dataclass(frozen=True)
class RowConverter:
    """Converts one stream's rows into its record's field values, in field order."""

    record: type
    plans: tuple[FieldPlan, ...]
    cutoff_year: int
    _compiled: dict[tuple[tuple[int, ...], bool],
                    Callable[[Sequence[Any]], tuple[Any, ...]]] = field(
        default_factory=dict, repr=False, compare=False)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(plan.name for plan in self.plans)

    def positions(self, columns: Sequence[str]) -> tuple[int, ...]:
        """Where each field sits in a result with these column names; raises KeyError."""
        index = {name.lower(): i for i, name in enumerate(columns)}
        missing = [plan.name for plan in self.plans if plan.name not in index]
        if missing:
            raise KeyError(", ".join(missing))
        return tuple(index[plan.name] for plan in self.plans)

    def for_positions(self, positions: Sequence[int], *, temporal_as_text: bool = False,
                      ) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """A function converting rows whose columns sit at `positions` (compiled once).

        With `temporal_as_text`, a date or datetime that arrives as ISO text (as MySQL sends
        it) is validated and returned as text in the ledger's storage form
        (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS.ffffff`) instead of as an object; a value in any
        other shape still comes back as an object.
        """
        key = tuple(positions)
        compiled = self._compiled.get((key, temporal_as_text))
        if compiled is None:
            compiled = self._compiled[key, temporal_as_text] = _compile(
                self.plans, key, self.cutoff_year,
                lambda row: self.convert_exactly(row, key), temporal_as_text)
        return compiled

    def convert(self, row: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
        """The record's values from one PMS row; raises RowError naming the bad field."""
        return self.for_positions(positions)(row)

    def convert_exactly(self, row: Sequence[Any], positions: Sequence[int]
                        ) -> tuple[Any, ...]:
        """The same result as `convert`, field by field, with no shortcut."""
        values: list[Any] = []
        for plan, position in zip(self.plans, positions, strict=True):
            try:
                values.append(plan.coerce(row[position]))
            except (TypeError, ValueError, ArithmeticError) as error:
                raise RowError(plan.name, str(error)) from None
        return tuple(values)


def build_converter(
    record: type, code_maps: Mapping[str, Mapping[str, Any]], conventions: Conventions,
    stream: str,
) -> RowConverter:
    """Compile the converter of `stream`, whose rows become `record`s."""
    hints = typing.get_type_hints(record)
    names = [field.name for field in dataclasses.fields(record)]
    if names[0] != "pms_id":
        raise TypeError(f"record {record.__name__} must begin with its pms_id")
    plans = tuple(_field_plan(name, hints[name], conventions, code_maps.get(name),
                              f"{stream}.{name}") for name in names)
    return RowConverter(record, plans, conventions.none_before_year)
