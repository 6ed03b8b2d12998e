"""The daily digest's words: who gets which items, and the plain-text and HTML parts.

Rows come from the work queues' own row building (`tc_sync.queues.rows`), so a digest shows
the same items, amounts and order as the queue files. Pure functions: no I/O.

How much of a patient a digest names is `detail`: `minimum` (the default) gives initials, PMS
ids and amounts, the minimum necessary to find the item in the PMS; `full` adds the name,
contact, treatment and carrier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from html import escape
from typing import Literal

from tc_sync.config.mappings import AGED_QUEUE
from tc_sync.config.reports import DigestSettings
from tc_sync.queues.html import money
from tc_sync.queues.patients import dollars_once
from tc_sync.queues.rows import QueueRow, queue_order, sort_rows

Detail = Literal["minimum", "full"]


@dataclass(frozen=True)
class Scope:
    """What one digest covers: items of these owners, items in these queues (empty: all)."""

    owners: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()

    def covers(self, row: QueueRow) -> bool:
        if not self.owners and not self.queues:
            return True
        return row.owner in self.owners or row.queue in self.queues

    @property
    def label(self) -> str:
        """`dana; queue insurance`, or `the whole practice`."""
        parts = sorted(self.owners) + [f"queue {q}" for q in sorted(self.queues)]
        return "; ".join(parts) or "the whole practice"


@dataclass(frozen=True)
class Digest:
    """One message: to whom, and what it says."""

    to: tuple[str, ...]
    scope: Scope
    subject: str
    text: str
    html: str
    items: int
    overdue: int


def plan(settings: DigestSettings, fallback_to: Sequence[str]) -> list[tuple[tuple[str, ...],
                                                                            Scope]]:
    """Who receives which scope. An address mapped to several owners or queues gets one
    digest covering them all; addresses with the same scope share a message. With no mapping,
    the email target's own recipients get the whole practice's digest."""
    if settings.recipients.empty():
        return [(tuple(fallback_to), Scope())] if fallback_to else []
    owners: dict[str, set[str]] = defaultdict(set)
    queues: dict[str, set[str]] = defaultdict(set)
    for owner, addresses in settings.recipients.owners.items():
        for address in addresses:
            owners[address.lower()].add(owner)
    for queue, addresses in settings.recipients.queues.items():
        for address in addresses:
            queues[address.lower()].add(queue)
    by_scope: dict[Scope, list[str]] = defaultdict(list)
    for address in sorted(set(owners) | set(queues)):
        by_scope[Scope(frozenset(owners[address]), frozenset(queues[address]))].append(address)
    return [(tuple(addresses), scope) for scope, addresses in
            sorted(by_scope.items(), key=lambda pair: pair[1])]


def initials(name: str) -> str:
    """`J.D.` from the queue rows' "Last, First"; `?` when the patient is not in the ledger."""
    if name.startswith("(patient "):
        return "?"
    last, _, first = name.partition(", ")
    letters = [part.strip()[:1].upper() for part in (first, last) if part.strip()]
    return "".join(f"{letter}." for letter in letters) or "?"


def _who(row: QueueRow, detail: Detail) -> str:
    if detail == "full":
        preferred = f" ({row.preferred_name})" if row.preferred_name else ""
        return f"{row.patient}{preferred}, patient #{row.patient_id}"
    return f"{initials(row.patient)}, patient #{row.patient_id}"


def _when(row: QueueRow, today: date) -> str:
    late = (today - row.next_follow_up).days
    if late > 0:
        return f"due {row.next_follow_up} ({late} days overdue)"
    return "due today" if late == 0 else f"due {row.next_follow_up}"


def per_patient_lines(rows: Iterable[QueueRow]) -> list[QueueRow]:
    """One line per patient, in the order of each patient's most pressing item: that item,
    with the patient's other items as its parts and the dollars counted once (a lab case and
    an insurance check for one appointment name the same procedures)."""
    patients: dict[tuple[str, int], list[QueueRow]] = {}
    for row in rows:
        patients.setdefault((row.source_id, row.patient_id), []).append(row)
    return [group[0] if len(group) == 1 else
            replace(group[0], amount=dollars_once(group), parts=tuple(group),
                    escalated=any(row.escalated for row in group))
            for group in patients.values()]


def item_fields(row: QueueRow, detail: Detail, today: date) -> list[str]:
    """What a digest says about one item (or a patient's items, `per_patient_lines`), in
    order; `minimum` detail: initials, ids, amounts."""
    others = [part for part in row.parts if part.item_key != row.item_key]
    what = row.what + (f" (also: {', '.join(part.what for part in others)})" if others else "")
    fields = [what, _who(row, detail)]
    if row.claim_id is not None:
        fields.append(f"claim #{row.claim_id}")
    if row.appointment_id is not None:
        fields.append(f"appointment #{row.appointment_id}")
    if row.amount is not None:
        fields.append(money(row.amount))
    if detail == "full":
        if row.contact:
            fields.append(f"{row.contact_by}: {row.contact}" if row.contact_by else row.contact)
        if row.treatment:
            fields.append(f"{' '.join(row.codes)} {row.treatment}".strip())
        if row.carrier:
            fields.append(row.carrier)
    fields += [_when(row, today)]
    if row.reasons:     # amounts, dates and days: no name, phone or note
        fields.append("why: " + "; ".join(row.reasons))
    fields += [f"priority {row.priority:g}",
               ", ".join([row.item_key, *(part.item_key for part in others)])]
    return fields


@dataclass(frozen=True)
class QueueCount:
    """One queue's line in the digest."""

    queue: str
    open: int
    overdue: int
    due_today: int
    escalated: int
    amount: Decimal


def queue_counts(rows: Iterable[QueueRow], today: date) -> list[QueueCount]:
    """Open, overdue (next follow-up before today), due today, escalated and dollars per queue
    (a planned procedure counted once, however many of a patient's follow-ups name it). The
    aged queue is reported, not worked day by day: nothing in it counts as overdue or due."""
    grouped: dict[str, list[QueueRow]] = defaultdict(list)
    for row in rows:
        grouped[row.queue].append(row)
    return [_count(queue, found, today)
            for queue, found in sorted(grouped.items(), key=lambda pair: queue_order(pair[0]))]


def _count(queue: str, rows: list[QueueRow], today: date) -> QueueCount:
    due = [] if queue == AGED_QUEUE else rows
    return QueueCount(queue, len(rows), sum(1 for r in due if r.next_follow_up < today),
                      sum(1 for r in due if r.next_follow_up == today),
                      sum(1 for r in rows if r.escalated), dollars_once(rows))


def compose(rows: Sequence[QueueRow], to: tuple[str, ...], scope: Scope, *, site_id: str,
            today: date, detail: Detail, top: int, overdue_limit: int) -> Digest:
    """One digest from the open items (as queue rows) of its scope."""
    mine = sort_rows(row for row in rows if scope.covers(row))
    counts = queue_counts(mine, today)
    mine = [row for row in mine if row.queue != AGED_QUEUE]  # reported, not the day's work
    late = sorted((row for row in mine if row.next_follow_up < today),
                  key=lambda row: (row.next_follow_up, -row.priority, row.item_key))
    subject = (f"tc-sync daily digest, {site_id}, {today}: {len(late)} overdue of "
               f"{len(mine)} open")
    lists = _Lists(per_patient_lines(late), len(late), per_patient_lines(mine))
    return Digest(to, scope, subject,
                  _text(counts, lists, scope, today, detail, top, overdue_limit),
                  _html(counts, lists, scope, today, detail, top, overdue_limit),
                  len(mine), len(late))


@dataclass(frozen=True)
class _Lists:
    """The digest's two lists, a line per patient: overdue (and how many items), and all."""

    late: list[QueueRow]
    late_items: int
    top: list[QueueRow]

    def late_heading(self) -> str:
        if len(self.late) == self.late_items:
            return f"Overdue ({self.late_items})"
        return f"Overdue ({self.late_items} items, {len(self.late)} patients)"

    def top_heading(self, top: int) -> str:
        shown = min(top, len(self.top))
        return f"Top {shown} {'patient' if shown == 1 else 'patients'} by priority"


def _text(counts: list[QueueCount], lists: _Lists, scope: Scope, today: date, detail: Detail,
          top: int, overdue_limit: int) -> str:
    late = lists.late
    lines = [f"Follow-ups for {scope.label}, {today}.", "",
             f"{'Queue':<20} {'Open':>6} {'Overdue':>8} {'Today':>6} {'Escalated':>10} "
             f"{'Amount':>14}"]
    lines += [f"{c.queue:<20} {c.open:>6} {c.overdue:>8} {c.due_today:>6} {c.escalated:>10} "
              f"{money(c.amount):>14}" for c in counts] or ["(no open items)"]
    lines += ["", f"{lists.late_heading()}:"]
    lines += [f"- {' | '.join(item_fields(row, detail, today))}" for row in late[:overdue_limit]]
    if len(late) > overdue_limit:
        lines.append(f"... and {len(late) - overdue_limit} more in the work queues")
    lines += ["", f"{lists.top_heading(top)}:"]
    lines += [f"- {' | '.join(item_fields(row, detail, today))}" for row in lists.top[:top]]
    lines += ["", "Work them from the work queues; `tc-sync items show <item>` shows an item's "
              "history.", "-- tc-sync"]
    return "\n".join(lines) + "\n"


def _rows_html(rows: Sequence[QueueRow], detail: Detail, today: date) -> str:
    items = "".join(f"<li>{' &middot; '.join(escape(f) for f in item_fields(row, detail, today))}"
                    "</li>" for row in rows)
    return f"<ul>{items}</ul>" if items else "<p>None.</p>"


def _html(counts: list[QueueCount], lists: _Lists, scope: Scope, today: date, detail: Detail,
          top: int, overdue_limit: int) -> str:
    late = lists.late
    header = "".join(f"<th>{h}</th>" for h in
                     ("Queue", "Open", "Overdue", "Due today", "Escalated", "Amount"))
    body = "".join(
        f"<tr><td>{escape(c.queue)}</td><td>{c.open}</td><td>{c.overdue}</td>"
        f"<td>{c.due_today}</td><td>{c.escalated}</td><td>{escape(money(c.amount))}</td></tr>"
        for c in counts)
    more = (f"<p>... and {len(late) - overdue_limit} more in the work queues.</p>"
            if len(late) > overdue_limit else "")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family: Arial, sans-serif">'
        f"<h2>Follow-ups for {escape(scope.label)}, {today}</h2>"
        f'<table border="1" cellpadding="4" cellspacing="0"><tr>{header}</tr>{body}</table>'
        f"<h3>{lists.late_heading()}</h3>{_rows_html(late[:overdue_limit], detail, today)}{more}"
        f"<h3>{lists.top_heading(top)}</h3>{_rows_html(lists.top[:top], detail, today)}"
        "<p>Work them from the work queues; <code>tc-sync items show &lt;item&gt;</code> "
        "shows an item's history.</p></body></html>")
