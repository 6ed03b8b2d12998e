"""One queue as CSV: UTF-8 with a byte-order mark (so Excel reads accents), ISO dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from tc_sync.queues.columns import Format, each_once
from tc_sync.queues.runs import FileRuns, Run, batched, run_key
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


def queue_csv(snapshot: Snapshot, queue: str, kept: FileRuns | None = None) -> Iterator[bytes]:
    """The queue's rows (in the order to work them) under a header row, a run of rows at a
    time (a large queue's file is never whole in memory); the runs `kept` from the file's
    last build are copied, not made again."""
    columns = snapshot.columns(queue)
    kept = kept if kept is not None else FileRuns()
    yield "\ufeff".encode() + _lines([[column.header for column in columns]])
    formats = [partial(plain, kind=column.format) for column in columns]
    context = repr(("csv", [column.key for column in columns])).encode("utf-8")

    def made(run: Run) -> str:
        values = snapshot.values(queue, run)
        return _lines(zip(*(each_once(write, column_values)
                             for write, column_values in zip(formats, values, strict=True)),
                          strict=True)).decode("utf-8")

    yield from batched(kept.text(run_key(context, run), partial(made, run))
                       for run in snapshot.runs(queue))


def _lines(rows: Iterable[Iterable[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
