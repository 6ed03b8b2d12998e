"""A group's work queues: every practice's open follow-ups together, from the one ledger.

`tc-sync queues build --group` writes, in an `All-practices` folder inside the queues folder,
the queues of every enabled source of the configuration with the builder a practice's own
queues use (`build.build_queues`): the Practice column first, per clinic when
`queues.per_clinic`. Beside them, `practices.csv` and `practices.html` give each practice's
open items, due, escalated and dollars per queue, and the group's total. A patient belongs to
one practice, so a dollar counts once per practice and the group's total is the practices' sum.
These two files hold ids, counts and dollars only (no patient's data).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.ledger.db import reading
from tc_sync.queues.atomic import group_id, write_atomic
from tc_sync.queues.build import QueueBuild, build_queues, queues_folder
from tc_sync.queues.labels import known_queues
from tc_sync.queues.patients import dollars_once, per_patient
from tc_sync.queues.reasons import whole_dollars
from tc_sync.queues.rows import QueueRow, by_queue, load_rows
from tc_sync.queues.snapshot import Tally, is_due

GROUP_FOLDER = "All-practices"
"""The group's folder inside the queues folder (source ids are lower-case: no clash)."""
TOTALS_CSV = "practices.csv"
TOTALS_PAGE = "practices.html"
ALL_QUEUES = "All queues"
ALL_PRACTICES = "All practices"


@dataclass(frozen=True)
class PracticeTotal:
    """One practice's (or the group's) open follow-ups in one queue (or all of them)."""

    practice: str
    queue: str
    tally: Tally


@dataclass
class GroupBuild:
    """What a group build wrote: the queue files, and the per-practice totals."""

    queues: QueueBuild
    totals: list[PracticeTotal]
    files: list[Path]


def group_settings(settings: Settings) -> Settings:
    """The configuration narrowed to its enabled sources: the group's practices."""
    return settings.model_copy(update={"sources": {
        source_id: source for source_id, source in settings.sources.items() if source.enabled}})


def group_folder(settings: Settings) -> Path:
    """`All-practices` inside the queues folder of the whole configuration."""
    return queues_folder(settings) / GROUP_FOLDER


def tally(rows: Sequence[QueueRow], today: date) -> Tally:
    """Counts and dollars of some queue rows, each dollar once (as a queue's summary)."""
    parts = [part for row in rows for part in row.parts or (row,)]
    return Tally(len(parts), sum(1 for part in parts if is_due(part, today)),
                 sum(1 for part in parts if part.escalated), dollars_once(rows), len(rows))


def practice_totals(rows: Iterable[QueueRow], queues: Sequence[str], practices: Sequence[str],
                    today: date) -> list[PracticeTotal]:
    """Per practice (in the order given) each queue and all queues, then the group's total.

    `rows` are queue rows already made one per patient (`per_patient`): a patient's treatment
    dollars count once in their practice, and the group's amount is the practices' sum.
    """
    mine: dict[str, list[QueueRow]] = {practice: [] for practice in practices}
    for row in rows:
        mine.setdefault(row.source_id, []).append(row)
    totals: list[PracticeTotal] = []
    for practice, practice_rows in mine.items():
        per_queue = by_queue(practice_rows, queues)
        totals += [PracticeTotal(practice, queue, tally(queue_rows, today))
                   for queue, queue_rows in per_queue.items()]
        totals.append(PracticeTotal(practice, ALL_QUEUES, tally(practice_rows, today)))
    whole = [total.tally for total in totals if total.queue == ALL_QUEUES]
    totals.append(PracticeTotal(ALL_PRACTICES, ALL_QUEUES, Tally(
        sum(t.items for t in whole), sum(t.due for t in whole),
        sum(t.escalated for t in whole), sum((t.amount for t in whole), start=Decimal(0)),
        sum(t.rows for t in whole))))
    return totals


def totals_csv(totals: Sequence[PracticeTotal]) -> bytes:
    """The totals as CSV (UTF-8 with a byte-order mark, for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Practice", "Queue", "Open items", "Rows", "Due now", "Escalated",
                     "Amount"])
    for total in totals:
        t = total.tally
        writer.writerow([total.practice, total.queue, t.items, t.rows, t.due, t.escalated,
                         f"{t.amount:.2f}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_STYLE = ("body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:1.5em auto;"
          "max-width:60em;color:#222}table{border-collapse:collapse}th,td{border:1px solid "
          "#ccc;padding:.25em .6em}th{background:#305496;color:#fff}td.n{text-align:right}"
          "tr.all td{font-weight:bold;background:#eef}")


def totals_page(totals: Sequence[PracticeTotal], built_at: datetime, site_id: str) -> bytes:
    """The totals as one small self-contained HTML page (no script)."""
    head = "".join(f"<th>{h}</th>" for h in ("Practice", "Queue", "Open items", "Due now",
                                             "Escalated", "Amount"))
    body = []
    for total in totals:
        t = total.tally
        css = ' class="all"' if total.queue == ALL_QUEUES else ""
        numbers = "".join(f'<td class="n">{v}</td>' for v in (
            f"{t.items:,}", f"{t.due:,}", f"{t.escalated:,}", escape(whole_dollars(t.amount))))
        body.append(f"<tr{css}><td>{escape(total.practice)}</td><td>{escape(total.queue)}</td>"
                    f"{numbers}</tr>")
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>"
            f"{escape(site_id)}: open follow-ups per practice</title><style>{_STYLE}</style>"
            f"</head><body><h1>Open follow-ups per practice</h1><p>Built "
            f"{built_at:%Y-%m-%d %H:%M %Z}. Each dollar counts once per practice; the "
            f"queues themselves are in queues.html and queues.xlsx beside this page.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</body></html>").encode()


def build_group_queues(engine: sa.Engine, settings: Settings, *, folder: Path | None = None,
                       today: date | None = None, now: datetime | None = None,
                       force: bool = False) -> GroupBuild:
    """Write the group's queues and its per-practice totals (see the module's docstring)."""
    group = group_settings(settings)
    target = folder or group_folder(settings)
    zone = ZoneInfo(settings.timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    day = today or practice_today(settings, moment)
    queues = build_queues(engine, group, folder=target, today=day, now=moment, force=force)
    practices = list(group.sources)
    with reading(engine) as connection:
        rows = per_patient(load_rows(connection, practices, day))
        names = known_queues(connection, practices)
    totals = practice_totals(rows, names, practices, day)
    gid = group_id(settings.queues.group)
    files = [target / TOTALS_CSV, target / TOTALS_PAGE]
    write_atomic(files[0], totals_csv(totals), group=gid)
    write_atomic(files[1], totals_page(totals, moment, settings.site_id), group=gid)
    return GroupBuild(queues, totals, files)
