"""`tc-sync items list --format json|csv`: the items as scripts read them, field for field."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest

from tc_sync.cli import main
from tc_sync.items.listing import FIELDS
from tc_sync.ledger.items import encode, insert_item

OPENED = datetime(2026, 11, 2, 14, 3, 5, 123456)


def add_item(ledger, key: str, *, queue: str = "insurance", status: str = "open",
             amount: int | None = 125000, owner: str | None = None, priority: float = 5.0,
             **fields) -> None:
    kind, source, subject = key.split(":")
    values = {
        "source_id": source, "kind": kind, "status": status, "patient_id": 7,
        "claim_id": int(subject) if kind.startswith("claim") else None,
        "appointment_id": None, "clinic_id": None, "provider_id": None, "amount": amount,
        "codes": ("D2740",), "details": {"carrier": "Delta", "bucket": "31-60"},
        "owed_since": date(2026, 10, 1), "next_follow_up": date(2026, 11, 28), "attempts": 2,
        "last_contact_at": None, "escalated": False, "priority": priority, "queue": queue,
        "owner": owner, "opened_at": OPENED, "episode": 1, **fields}
    with ledger.begin() as connection:
        insert_item(connection, key, encode(values))


@pytest.fixture
def config(ledger, ledger_url, tmp_path):
    add_item(ledger, "claim_outstanding:main:50", owner="dana", priority=9.456)
    add_item(ledger, "claim_unsent:main:51", amount=None, priority=3)
    add_item(ledger, "broken_appointment:north:9", queue="scheduling", amount=-1234,
             appointment_id=9, patient_id=8, escalated=True, details={})
    add_item(ledger, "claim_denied:main:52", status="resolved")
    path = tmp_path / "tc-sync.yaml"
    path.write_text(f"ledger:\n  url: {ledger_url}\n")
    return str(path)


def listing(capsys, config: str, *arguments: str) -> str:
    assert main(["--config", config, "items", "list", *arguments]) == 0
    return capsys.readouterr().out


def test_json_is_one_array_of_objects_with_the_documented_fields(capsys, config):
    records = json.loads(listing(capsys, config, "--format", "json"))
    assert [r["key"] for r in records] == [
        "claim_outstanding:main:50", "broken_appointment:north:9", "claim_unsent:main:51"]
    assert all(list(r) == list(FIELDS) for r in records)
    first = records[0]
    assert first == {
        "key": "claim_outstanding:main:50", "kind": "claim_outstanding", "queue": "insurance",
        "status": "open", "owner": "dana", "patient_id": 7, "claim_id": 50,
        "appointment_id": None, "amount": 1250.0, "opened_at": "2026-11-02T14:03:05Z",
        "owed_since": "2026-10-01", "next_follow_up": "2026-11-28", "attempts": 2,
        "escalated": False, "priority": 9.46,
        "details": {"carrier": "Delta", "bucket": "31-60"}}
    assert records[1]["amount"] == -12.34 and records[1]["escalated"] is True
    assert records[1]["appointment_id"] == 9 and records[1]["details"] == {}
    assert records[2]["amount"] is None


def test_json_amounts_are_dollars_written_with_two_decimals(capsys, config):
    text = listing(capsys, config, "--format", "json")
    assert '"amount": 1250.00,' in text and '"amount": -12.34,' in text
    assert '"amount": null,' in text


def test_csv_has_a_header_of_the_field_names_and_details_as_a_json_string(capsys, config):
    rows = list(csv.DictReader(io.StringIO(listing(capsys, config, "--format", "csv"))))
    assert len(rows) == 3 and list(rows[0]) == list(FIELDS)
    assert rows[0]["amount"] == "1250.00" and rows[1]["amount"] == "-12.34"
    assert rows[2]["amount"] == "" and rows[2]["owner"] == ""
    assert rows[0]["escalated"] == "false" and rows[1]["escalated"] == "true"
    assert json.loads(rows[0]["details"]) == {"bucket": "31-60", "carrier": "Delta"}
    assert rows[0]["opened_at"] == "2026-11-02T14:03:05Z"


def test_the_table_stays_the_default(capsys, config):
    text = listing(capsys, config)
    assert text.splitlines()[0].startswith("item ")
    assert "claim_outstanding:main:50" in text and "$1,250.00" in text
    assert text.rstrip().endswith("3 open item(s)")


def test_filters_and_resolved_apply_to_every_format(capsys, config):
    resolved = json.loads(listing(capsys, config, "--resolved", "--format", "json"))
    assert [(r["key"], r["status"]) for r in resolved] == [("claim_denied:main:52", "resolved")]
    north = json.loads(listing(capsys, config, "--source", "north", "--format", "json"))
    assert [r["key"] for r in north] == ["broken_appointment:north:9"]
    unsent = list(csv.DictReader(io.StringIO(listing(
        capsys, config, "--kind", "claim_unsent", "--format", "csv"))))
    assert [r["key"] for r in unsent] == ["claim_unsent:main:51"]
    assert json.loads(listing(capsys, config, "--queue", "treatment", "--format", "json")) == []
    empty = listing(capsys, config, "--queue", "treatment", "--format", "csv")
    assert empty.splitlines() == [",".join(FIELDS)]
