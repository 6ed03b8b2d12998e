"""The queues' totals (tabs, the summary, the workbook's summary sheet) counted a run of rows
at a time and kept from one build to the next: a build counts only the runs whose rows
changed, and its totals are those of counting every row (issue 17)."""

from __future__ import annotations

import random
from dataclasses import astuple, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tc_sync.items.model import ItemKind
from tc_sync.queues import snapshot as snapshot_module
from tc_sync.queues.rows import QueueRow
from tc_sync.queues.runs import FileRuns
from tc_sync.queues.snapshot import Snapshot

TODAY = date(2026, 3, 2)
KINDS = [ItemKind.UNSCHEDULED_TREATMENT, ItemKind.PREDETERMINATION_PENDING,
         ItemKind.BROKEN_APPOINTMENT]


def a_row(number: int, generator: random.Random) -> QueueRow:
    """A synthetic row; every fourth patient's procedures are priced by two of its rows."""
    patient = number // 2 if number % 4 < 2 else number
    priced = (tuple((procedure, Decimal(50 + procedure * 37 % 850)) for procedure in
                    range(patient * 10, patient * 10 + generator.randrange(1, 4)))
              if generator.random() < 0.6 else None)
    blank = {field.name: None for field in fields(QueueRow) if field.init}
    return QueueRow(**blank | {
        "item_key": f"item-{number}", "source_id": "main", "kind": generator.choice(KINDS),
        "queue": "treatment", "priority": generator.random(), "patient_id": patient,
        "next_follow_up": TODAY + timedelta(days=generator.randrange(-5, 5)),
        "escalated": generator.random() < 0.1, "parts": (), "reasons": (),
        "amount": (sum(dollars for _, dollars in priced) if priced
                   else Decimal(generator.randrange(0, 300))),
        "priced": priced})


def snapshot_of(rows: list[QueueRow], counted: FileRuns | None) -> Snapshot:
    return Snapshot(site_id="site", scope="All clinics", built_at=datetime(2026, 3, 2, tzinfo=UTC),
                    today=TODAY, queues={"treatment": rows, "aged": rows[:40]}, freshness=[],
                    amber_after_minutes=30, red_after_minutes=120, clinics=False, sources=False,
                    counted=counted)


def totals(snapshot: Snapshot) -> list[object]:
    return [astuple(snapshot.queue_tally()),
            *[(queue, astuple(snapshot.queue_tally(queue)),
               [(label, astuple(tally)) for label, tally in snapshot.by_kind(queue)])
              for queue in snapshot.queues]]


def by_hand(rows: list[QueueRow], worked: bool) -> tuple[int, int, int, Decimal]:
    """A queue's open items, due, escalated and dollars, each procedure's dollars once."""
    procedures = {(row.source_id, procedure): dollars for row in rows if row.priced
                  for procedure, dollars in row.priced}
    return (len(rows), sum(worked and row.next_follow_up <= TODAY for row in rows),
            sum(row.escalated for row in rows),
            sum(procedures.values(), Decimal(0)) + sum(
                (row.amount for row in rows if row.priced is None), Decimal(0)))


def test_a_build_counts_only_the_runs_that_changed_and_totals_as_counting_every_row(
        monkeypatch):
    generator = random.Random(5)
    rows = [a_row(number, generator) for number in range(2000)]
    counted = FileRuns()
    first = snapshot_of(rows, counted)
    assert totals(first) == totals(snapshot_of(rows, None))
    treatment, aged = first.queue_tally("treatment"), first.queue_tally("aged")
    assert astuple(treatment)[:4] == by_hand(rows, worked=True)
    assert astuple(aged)[:4] == by_hand(rows[:40], worked=False)
    assert treatment.due and treatment.escalated and treatment.due != treatment.escalated
    assert first.counted_now
    counted.keep()

    changed = list(rows)
    changed[700] = replace(rows[700], escalated=not rows[700].escalated,
                           amount=Decimal("1234.56"), priced=((7001, Decimal("1234.56")),))
    del changed[1500]
    calls: list[int] = []
    real = snapshot_module._counted
    monkeypatch.setattr(snapshot_module, "_counted",
                        lambda rows, today: calls.append(len(rows)) or real(rows, today))
    second = snapshot_of(changed, counted)
    again = totals(second)
    monkeypatch.undo()
    assert again == totals(snapshot_of(changed, None))
    assert astuple(second.queue_tally("treatment"))[:4] == by_hand(changed, worked=True)
    assert again != totals(first)
    # the runs around the two changes, in the whole queue (the aged one's 40 rows unchanged)
    assert 1 <= len(calls) <= 4 and sum(calls) < 200

