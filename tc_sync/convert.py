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
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from tc_sync.records import Cents

_MAX_CENTS = 10**12


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
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str | bytes):
        try:
            return int(_as_text(value).strip())
        except ValueError:
            pass
    raise TypeError(f"not a whole number (got {_type_name(value)})")


def to_str(value: Any) -> str:
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
            cents = int((amount * 100).to_integral_value(ROUND_HALF_UP))
        except (InvalidOperation, ValueError):
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
                return datetime.fromisoformat(value)
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

    def by_code(value: Any) -> StrEnum:
        code = "" if value is None else _as_text(value)
        try:
            return resolved[code]
        except KeyError:
            raise TypeError(f"code '{code}' is not in the code map {label}") from None

    return by_code


def _partial_map(code_map: Mapping[str, Any], coerce: Coerce) -> Coerce:
    def mapped(value: Any) -> Any:
        key = "" if value is None else _as_text(value)
        return coerce(code_map[key]) if key in code_map else coerce(value)

    return mapped


def _field_coercer(
    name: str, annotation: Any, conventions: Conventions,
    code_map: Mapping[str, Any] | None, label: str,
) -> tuple[Coerce, type | None]:
    """How to coerce one field, and the type a value may already have to need no coercion."""
    if annotation is Cents:
        return to_cents, None
    optional = False
    base = annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        base = members[0]
    if isinstance(base, type) and issubclass(base, StrEnum):
        coerce = _enum_coercer(base, code_map, label)
        return (_optional(coerce) if optional else coerce), None
    simple: dict[type, Coerce] = {
        int: to_int, str: to_str, bool: to_bool,
        date: date_coercer(conventions.none_before_year),
        datetime: datetime_coercer(conventions.none_before_year),
    }
    coerce = simple[base]
    fast: type | None = base if base in (int, str) else None
    if base is int and optional:
        zero_is_none = name.endswith("_id") and conventions.zero_id_is_none
        coerce = _optional_id if zero_is_none else _optional(to_int)
        fast = None if zero_is_none else int
    elif optional and base is str:
        coerce = _optional(to_str)
    if code_map is not None:
        coerce, fast = _partial_map(code_map, coerce), None
    return coerce, fast


@dataclass(frozen=True)
class RowConverter:
    """Converts one stream's rows into its record's field values, in field order."""

    record: type
    fields: tuple[str, ...]
    coercers: tuple[Coerce, ...]
    fast_types: tuple[type | None, ...]

    def positions(self, columns: Sequence[str]) -> tuple[int, ...]:
        """Where each field sits in a result with these column names; raises KeyError."""
        index = {name.lower(): i for i, name in enumerate(columns)}
        missing = [field for field in self.fields if field not in index]
        if missing:
            raise KeyError(", ".join(missing))
        return tuple(index[field] for field in self.fields)

    def convert(self, row: Sequence[Any], positions: Sequence[int]) -> tuple[Any, ...]:
        """The record's values from one PMS row; raises RowError."""
        values: list[Any] = []
        append = values.append
        for coerce, fast, position in zip(self.coercers, self.fast_types, positions,
                                          strict=True):
            value = row[position]
            if type(value) is fast:
                append(value)
                continue
            try:
                append(coerce(value))
            except (TypeError, ValueError, OverflowError) as error:
                field = self.fields[len(values)]
                raise RowError(field, str(error)) from None
        return tuple(values)


def build_converter(
    record: type, code_maps: Mapping[str, Mapping[str, Any]], conventions: Conventions,
    stream: str,
) -> RowConverter:
    """Compile the converter of `stream`, whose rows become `record`s."""
    hints = typing.get_type_hints(record)
    fields = tuple(field.name for field in dataclasses.fields(record))
    if fields[0] != "pms_id":
        raise TypeError(f"record {record.__name__} must begin with its pms_id")
    plans = [_field_coercer(name, hints[name], conventions, code_maps.get(name),
                            f"{stream}.{name}") for name in fields]
    return RowConverter(record, fields, tuple(c for c, _ in plans), tuple(f for _, f in plans))
