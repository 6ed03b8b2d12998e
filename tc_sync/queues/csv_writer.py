"""One queue as CSV: UTF-8 with a byte-order mark (so Excel reads accents), ISO dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from tc_sync.queues.columns import Format, each_once
from tc_sync.queues.snapshot import Snapshot

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text a spreadsheet shows rather than runs: one starting like a formula gets a quote."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def plain(value: Any, kind: Format) -> str:
    """A value as CSV text: dollars with two decimals and no sign, dates as YYYY-MM-DD."""
    if value is None or value == "":
        text = ""
    elif kind == Format.MONEY and isinstance(value, Decimal):
        text = f"{value:.2f}"
    elif kind == Format.PRIORITY:
        text = f"{float(value):.2f}"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, int):
        text = str(value)
    else:
        text = safe_text(str(value))
    return text


_ROWS_AT_ONCE = 2000


def queue_csv(snapshot: Snapshot, queue: str) -> Iterator[bytes]:
    """The queue's rows (in the order to work them) under a header row, a couple of thousand
    rows at a time (a large queue's file is never whole in memory)."""
    columns = snapshot.columns(queue)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    # A column at a time, _ROWS_AT_ONCE rows at a time: a whole large queue's texts held
    # tens of MB at once (issue 17).
    table = [(partial(plain, kind=column.format), values)
             for column, values in zip(columns, snapshot.values(queue), strict=True)]
    for start in range(0, len(snapshot.queues[queue]), _ROWS_AT_ONCE):
        end = start + _ROWS_AT_ONCE
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(zip(*(each_once(write, values[start:end]) for write, values in table),
                             strict=True))
        yield buffer.getvalue().encode("utf-8")
