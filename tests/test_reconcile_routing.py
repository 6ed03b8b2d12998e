"""Round robin shares new items by the owners' open items in the ledger, counting those opened
by earlier reconciles, whatever chunk the new items fall in. Real SQLite practice and ledger."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa

from tc_sync.config.mappings import Route
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items import reconcile
from tc_sync.items.followup import OpenPerOwner
from tc_sync.ledger.schema import items, replica
from tc_sync.records import Patient
from tests.demo_ledger import synced_ledger

TODAY = date(2026, 11, 20)


def _open_per_owner(engine: sa.Engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(owner for (owner,) in connection.execute(
            sa.select(items.c.owner).where(items.c.status == "open")))


def test_round_robin_counts_the_items_earlier_reconciles_gave_out(tmp_path, monkeypatch):
    engine = synced_ledger(tmp_path, TODAY)
    with engine.connect() as connection:
        patients = sorted(connection.execute(sa.select(replica[Patient].c.pms_id)).scalars())
    first, rest = patients[:30], patients[30:]
    monkeypatch.setattr(reconcile, "_CHUNK", 20)     # several chunks, each its own read
    mappings = load_mappings()

    alone = mappings.model_copy(update={"routing": [Route(queue="front", owners=["ana"])]})
    reconcile.Reconciler(engine, "main", alone, TODAY, may_resolve=False, run_id=None).run(first)
    head_start = _open_per_owner(engine)["ana"]
    assert head_start > 0, "the first patients opened no items: the test proves nothing"

    shared = mappings.model_copy(update={"routing": [
        Route(queue="front", owners=["ana", "ben"], assign="round_robin")]})
    reconcile.Reconciler(engine, "main", shared, TODAY, may_resolve=False, run_id=None).run(rest)
    owned = _open_per_owner(engine)
    assert owned["ben"] >= head_start, "ben never caught up: ana's earlier items were not counted"
    assert abs(owned["ana"] - owned["ben"]) <= 1, owned


def test_round_robin_counts_items_a_fixed_route_gave_out_earlier_in_the_same_transaction(
        tmp_path, monkeypatch):
    engine = synced_ledger(tmp_path, TODAY)
    with engine.connect() as connection:
        patients = sorted(connection.execute(sa.select(replica[Patient].c.pms_id)).scalars())
    monkeypatch.setattr(reconcile, "_WRITE_SECONDS", 3600)     # one transaction per chunk
    routes = load_mappings().model_copy(update={"routing": [
        Route(kinds=["unscheduled_treatment"], queue="front", owners=["ana"]),
        Route(queue="front", owners=["ana", "ben"], assign="round_robin")]})
    reconcile.Reconciler(engine, "main", routes, TODAY, may_resolve=False,
                         run_id=None).run(patients)
    with engine.connect() as connection:
        fixed = connection.execute(sa.select(sa.func.count()).where(
            items.c.kind == "unscheduled_treatment")).scalar_one()
    owned = _open_per_owner(engine)
    assert fixed > 1, "no treatment items: the test proves nothing"
    assert abs(owned["ana"] - owned["ben"]) <= 1, (owned, fixed)


def test_owner_counts_are_read_only_when_a_route_asks_for_them():
    reads = []
    counts = OpenPerOwner(lambda: reads.append(1) or {"ana": 2})
    counts.given("ana")                    # unread: the read will find this item itself
    assert not counts.read and reads == []
    assert counts.get("ben", 0) == 0 and counts["ana"] == 2 and reads == [1]
    counts.given("ana")
    assert counts["ana"] == 3 and len(counts) == 1 and reads == [1]
