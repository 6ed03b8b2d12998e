"""The queues as one self-contained HTML page: a tab per queue, sortable, filterable.

The rows are rendered here, every value escaped: the default columns as table cells, the others
(a row's detail) as one compact JSON array per row, in a data block after the table, which is
about half the size of the same values as cells. Rows are made a run at a time
(`tc_sync.queues.runs`): a run the page's last build made is copied from it. The page's own
script sorts, filters, switches tabs, shows the chosen columns (the defaults until the
coordinator picks others, remembered in her browser; a column she adds becomes cells from the
data block), opens a row's detail (the columns not shown), narrows to one owner's items, and
keeps the freshness colours ageing while the page stays open. It loads nothing from anywhere:
its Content-Security-Policy allows only its own script, by hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from html import escape
from importlib import resources
from itertools import chain
from typing import Any

from tc_sync.queues.columns import PRIORITY_EXPLAINED, Column, Format, each_once
from tc_sync.queues.patients import money_parts
from tc_sync.queues.rows import QueueRow
from tc_sync.queues.runs import FileRuns, Run, batched, run_key
from tc_sync.queues.snapshot import Freshness, Snapshot, Tally

RELOAD_SECONDS = 300
_CLIPPED = {"treatment", "procedure_ids"}
"""Long columns cut to their width; the whole text shows on hover."""
_WRAPPED = {"what", "why_now", "next_step", "patient", "contact"}
"""Columns whose text wraps, so the default columns fit the screen."""
_NUMERIC = {Format.INTEGER, Format.MONEY, Format.PRIORITY}
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""Compact JSON, with one encoder for the page (json.dumps makes one per call: hundreds of
thousands per large page)."""


def money(value: Decimal | None) -> str:
    """$1,234.50 (and -$12.00; nothing for None)."""
    if value is None:
        return ""
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def display(value: Any, kind: Format) -> str:
    """A value as a coordinator reads it."""
    if value is None or value == "":
        return ""
    if kind == Format.MONEY:
        return money(Decimal(value))
    if kind == Format.PRIORITY:
        return f"{float(value):.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sort_value(value: Any, kind: Format) -> str | None:
    """What the page sorts and compares by, when it is not the text shown."""
    if kind == Format.TEXT:
        return None
    if value is None or value == "":
        return ""
    if kind == Format.MONEY:
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _attrs(**values: str | None) -> str:
    return "".join(f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"'
                   for name, value in values.items() if value is not None)


def _classes(column: Column) -> list[str]:
    return [name for name, applies in (("num", column.format in _NUMERIC),
                                       ("clip", column.key in _CLIPPED),
                                       ("wrap", column.key in _WRAPPED)) if applies]


def _cell_writer(column: Column, today: date) -> Callable[[Any], str]:
    """How a value's cell in this column is written; what is the same on every row (the
    cell's classes, whether it has a sort value or a hover title) is worked out once."""
    classes = _classes(column)
    opening = f'<td{_attrs(class_=" ".join(classes) or None)}'
    due_opening = f'<td{_attrs(class_=" ".join([*classes, "due"]))}'
    marks_due = column.key == "next_follow_up"      # its value is the row's next follow-up
    sorted_by_value = column.format != Format.TEXT
    titled = column.key in _CLIPPED
    kind = column.format

    def cell(value: Any) -> str:
        start = due_opening if marks_due and value <= today else opening
        if sorted_by_value:
            start += f' data-v="{escape(_sort_value(value, kind) or "")}"'
        shown = escape(display(value, kind))
        if titled and shown:
            start += f' title="{shown}"'
        return f"{start}>{shown}</td>"
    return cell


def _detail_writer(column: Column) -> Callable[[Any], str]:
    """A value in a column not shown by default, as JSON for the data block: the text shown,
    or [text shown, sort value] when the page sorts by something else (money, a priority)."""
    kind = column.format

    def detail(value: Any) -> str:
        shown = display(value, kind)
        sort = shown if kind == Format.TEXT else _sort_value(value, kind) or ""
        return _json(shown if sort == shown else [shown, sort])
    return detail


def _details(columns: list[list[str]]) -> str:
    """Rows' detail arrays (their values in `columns`, as JSON), one line each, safe inside a
    script element."""
    text = ",\n".join("[" + ",".join(values) + "]" for values in zip(*columns, strict=True))
    return text.replace("<", "\\u003c")


def _procedures(row: QueueRow) -> frozenset[tuple[str, int]]:
    """The planned procedures a row's dollars are made of (`money_parts`'), by source."""
    return frozenset((part.source_id, procedure) for part in row.parts or (row,)
                     if part.priced is not None for procedure, _ in part.priced)


def _priced(rows: Sequence[QueueRow]) -> list[str]:
    """For each row naming a planned procedure another row of its queue names too: its
    dollars by procedure (`source:procedure:dollars`) and the rest, so that the page's total
    of the rows shown counts each procedure once, as the tab's does; "" for the other rows
    (the page adds their amount). A planned procedure is one patient's, so only rows of a
    patient with several rows pricing procedures are compared."""
    pricing: dict[tuple[str, int], list[int]] = {}
    for index, row in enumerate(rows):
        if row.parts or row.priced is not None:
            pricing.setdefault((row.source_id, row.patient_id), []).append(index)
    attributes = [""] * len(rows)
    for indices in pricing.values():
        if len(indices) < 2:
            continue
        named = [_procedures(rows[index]) for index in indices]
        shared = {procedure for procedure, rows_naming in Counter(chain.from_iterable(named))
                  .items() if rows_naming > 1}
        for index, procedures_named in zip(indices, named, strict=True):
            if not shared.isdisjoint(procedures_named):
                attributes[index] = _priced_attributes(rows[index])
    return attributes


def _row(row: QueueRow, cells: tuple[str, ...], priced: str) -> str:
    escalated = ' class="escalated"' if row.escalated else ""
    amount = f' data-amount="{row.amount:.2f}"' if row.amount is not None else ""
    return (f'<tr{escalated} data-key="{escape(" ".join(row.keys))}"{amount}{priced}>'
            + "".join(cells) + "</tr>")


def _priced_attributes(row: QueueRow) -> str:
    procedures, other = money_parts(row)
    tokens = " ".join(f"{source}:{procedure}:{amount:.2f}"
                      for (source, procedure), amount in procedures.items())
    return f' data-priced="{escape(tokens)}"' + (f' data-other="{other:.2f}"' if other else "")


_FILTER_HELP = ("Type text to keep the rows that contain it; for numbers and dates, "
                "> < >= <= or = and a value (> 500, < 2026-01-31).")


def _table(snapshot: Snapshot, queue: str, kept: FileRuns) -> Iterator[bytes]:
    columns = snapshot.columns(queue)
    heads = "".join(
        f'<th scope="col"{_attrs(data_format=column.format.value, data_key=column.key)}'
        f'{_attrs(data_default="1" if column.default else None, title=column.explain or None)}'
        f'{_attrs(data_class=" ".join(_classes(column)) or None)}'
        f' aria-sort="{"descending" if column.key == "priority" else "none"}">'
        '<button type="button" class="sort">'
        f'{escape(column.header)}<span class="arrow" aria-hidden="true"></span></button></th>'
        for column in columns)
    filters = "".join(
        f'<td><input type="text" class="filter" size="6"'
        f'{_attrs(title=_FILTER_HELP, aria_label=f"Filter {column.header}")}></td>'
        for column in columns)
    rows = snapshot.queues[queue]
    runs = snapshot.runs(queue)
    priced = _priced(rows)
    table_columns = [column.key for column in columns]
    shown_context = repr(("rows", table_columns, snapshot.today)).encode("utf-8")
    details_context = repr(("details", table_columns)).encode("utf-8")
    cells = [(index, _cell_writer(column, snapshot.today))
             for index, column in enumerate(columns) if column.default]
    details = [(index, _detail_writer(column))
               for index, column in enumerate(columns) if not column.default]

    def table_rows(run: Run) -> str:
        values = snapshot.values(queue, run)
        shown = [each_once(write, values[index]) for index, write in cells]
        return "".join([_row(row, row_cells, row_priced) + "\n" for row, row_cells, row_priced
                        in zip(rows[run.start:run.end], zip(*shown, strict=True),
                               priced[run.start:run.end], strict=True)])

    def detail_rows(run: Run) -> str:
        values = snapshot.values(queue, run)
        return _details([each_once(write, values[index]) for index, write in details])

    yield (f'<div class="scroll"><table class="queue"><thead><tr class="heads">{heads}</tr>'
           f'<tr class="filters">{filters}</tr></thead>\n<tbody>\n').encode()
    yield from batched(kept.text(run_key(shown_context, run, *priced[run.start:run.end]),
                                 partial(table_rows, run)) for run in runs)
    yield b'</tbody></table></div>\n<script type="application/json" class="details">[\n'
    yield from batched((b",\n" if index else b"") + kept.text(
        run_key(details_context, run), partial(detail_rows, run))
        for index, run in enumerate(runs))
    yield b"\n]</script>"


def _panel(snapshot: Snapshot, index: int, queue: str, kept: FileRuns) -> Iterator[bytes]:
    label = escape(queue)
    yield (f'<section class="panel" role="tabpanel" id="panel-{index}" '
           f'aria-labelledby="tab-{index}"{_attrs(data_tab=queue)} hidden>'
           f'<div class="toolbar"><label>Search <input type="search" class="search" '
           f'aria-label="Search {label}" title="Rows containing this text, in any column">'
           '</label>'
           '<label class="mine">Owner <select class="owner"></select></label>'
           '<details class="chooser"><summary>Columns</summary><div class="menu"></div>'
           '</details><span class="shown" aria-live="polite"></span>'
           '<button type="button" class="clear">Clear filters</button>'
           f'<span class="order" title="{escape(PRIORITY_EXPLAINED)}">Most pressing first'
           '</span></div>').encode()
    yield from _table(snapshot, queue, kept)
    yield b'<p class="empty" hidden></p></section>\n'


def _tally_cells(tally: Tally) -> str:
    return (f'<td class="num">{tally.items:,}</td><td class="num">{tally.due:,}</td>'
            f'<td class="num">{tally.escalated:,}</td>'
            f'<td class="num">{money(tally.amount)}</td>')


def _summary(snapshot: Snapshot, index: int) -> str:
    heads = "".join(f'<th class="num">{h}</th>'
                    for h in ("Open items", "Due now", "Escalated", "Amount"))
    queues = "".join(f"<tr><td>{escape(queue)}</td>{_tally_cells(snapshot.queue_tally(queue))}"
                     "</tr>" for queue in snapshot.queues)
    kinds = "".join(f"<tr><td>{escape(queue)}</td><td>{escape(label)}</td>"
                    f"{_tally_cells(tally)}</tr>"
                    for queue in snapshot.queues for label, tally in snapshot.by_kind(queue))
    return (f'<section class="panel" role="tabpanel" id="panel-{index}" '
            f'aria-labelledby="tab-{index}" data-tab="" hidden><h2>Queues</h2>'
            f'<table class="summary"><thead><tr><th>Queue</th>{heads}</tr></thead>'
            f'<tbody>{queues}</tbody><tfoot><tr><td>All queues</td>'
            f'{_tally_cells(snapshot.queue_tally())}</tr></tfoot></table>'
            f'<h2>By kind of follow-up</h2><table class="summary"><thead><tr><th>Queue</th>'
            f'<th>What</th>{heads}</tr></thead><tbody>{kinds}</tbody></table></section>')


def _tabs(snapshot: Snapshot) -> str:
    buttons = []
    for index, queue in enumerate(snapshot.queues, start=1):
        tally = snapshot.queue_tally(queue)
        buttons.append(
            f'<button type="button" role="tab" id="tab-{index}" aria-controls="panel-{index}"'
            f'{_attrs(data_tab=queue)} aria-selected="false">{escape(queue)} '
            f'<span class="badge">{tally.items:,}</span>'
            f'<span class="tab-money">{money(tally.amount)}</span></button>')
    summary = len(snapshot.queues) + 1
    buttons.append(f'<button type="button" role="tab" id="tab-{summary}" '
                   f'aria-controls="panel-{summary}" data-tab="" aria-selected="false">'
                   "Summary</button>")
    return f'<nav class="tabs" role="tablist" aria-label="Queues">{"".join(buttons)}</nav>'


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _freshness(source: Freshness) -> str:
    """A source's colour, why, and its last successful sync: its clock time, and how long ago
    as the page is read (the script fills `.ago`). A reason that is only that age, as of the
    build ("synced under a minute ago"), is not shown: it would be stale when read."""
    last = source.last_success_at
    when = (f'last successful sync <time datetime="{_utc(last)}">{last:%Y-%m-%d %H:%M}'
            '</time> <span class="ago"></span>') if last else "never synced successfully"
    reason = "" if source.aged and last else (
        f'<span class="reason">{escape(source.reason)}</span>; ')
    return (f'<li{_attrs(class_=f"fresh {source.colour}", data_colour=source.colour)}'
            f'{_attrs(data_last_success=_utc(last) if last else "")}>'
            '<span class="dot" aria-hidden="true"></span><span>'
            f'<b>{escape(source.source_id)}</b> <span class="colour">{source.colour}</span> '
            f'{reason}{when}</span></li>')


def _header(snapshot: Snapshot) -> str:
    built = snapshot.built_at
    sources = "".join(_freshness(source) for source in snapshot.freshness)
    return (f'<header><div><h1>Work queues<span class="scope">{escape(snapshot.site_id)} '
            f'&middot; {escape(snapshot.scope)}</span></h1></div><div class="meta">'
            f'<span id="built" data-built="{_utc(built)}">Built {built:%Y-%m-%d %H:%M} '
            f'{escape(built.tzname() or "")} <span class="ago"></span></span>'
            f'<ul class="freshness" aria-label="Data freshness">{sources}</ul></div>'
            '<p id="stale" class="stale" role="status" hidden></p></header>')


def _template() -> tuple[str, str]:
    template = resources.files("tc_sync.queues").joinpath("page.html").read_text("utf-8")
    found = re.search(r"<script>(.*?)</script>", template, re.DOTALL)
    assert found is not None, "page.html has lost its script"
    digest = hashlib.sha256(found.group(1).encode("utf-8")).digest()
    return template, "sha256-" + base64.b64encode(digest).decode("ascii")


def page(snapshot: Snapshot) -> bytes:
    """The whole page, as the bytes of an .html file."""
    return b"".join(page_pieces(snapshot))


def page_pieces(snapshot: Snapshot, kept: FileRuns | None = None) -> Iterator[bytes]:
    """The page, piece by piece, to write as it is made (a large queue's page is tens of MB);
    the runs of rows `kept` from the page's last build are copied, not made again."""
    kept = kept if kept is not None else FileRuns()
    template, script_hash = _template()
    config = json.dumps({"amber": snapshot.amber_after_minutes,
                         "red": snapshot.red_after_minutes,
                         "reload_seconds": RELOAD_SECONDS})
    parts = {
        "title": escape(f"Work queues: {snapshot.site_id} ({snapshot.scope})"),
        "script_hash": script_hash,
        "header": _header(snapshot),
        "tabs": _tabs(snapshot),
        "config": config.replace("<", "\\u003c"),
    }
    # One pass over the template: text put in is never read again for placeholders.
    for index, piece in enumerate(re.split(r"\{\{(\w+)\}\}", template)):
        if index % 2 == 0:
            yield piece.encode("utf-8")
        elif piece == "panels":
            for number, queue in enumerate(snapshot.queues, start=1):
                yield from _panel(snapshot, number, queue, kept)
            yield _summary(snapshot, len(snapshot.queues) + 1).encode("utf-8")
        else:
            yield parts[piece].encode("utf-8")
