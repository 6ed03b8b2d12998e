"""Items as scripts read them: one flat record per item, written as a table, JSON or CSV.

The field names are a stable interface (docs/QUEUES.md, "items list for scripts"): add fields,
never rename or drop one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

FIELDS = ("key", "kind", "queue", "status", "owner", "patient_id", "claim_id",
          "appointment_id", "amount", "opened_at", "owed_since", "next_follow_up", "attempts",
          "escalated", "priority", "details")
"""Every record's fields, in this order."""

Format = Literal["table", "json", "csv"]


def dollars(cents: int | None) -> Decimal | None:
    """Whole cents as dollars with two decimals (None stays None)."""
    return None if cents is None else Decimal(cents).scaleb(-2)


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):     # the ledger keeps its own times in naive UTC
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def item_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One items-table row as the documented record."""
    return {
        "key": row["item_key"], "kind": row["kind"], "queue": row["queue"],
        "status": row["status"], "owner": row["owner"], "patient_id": row["patient_id"],
        "claim_id": row["claim_id"], "appointment_id": row["appointment_id"],
        "amount": dollars(row["amount"]), "opened_at": _iso(row["opened_at"]),
        "owed_since": _iso(row["owed_since"]), "next_follow_up": _iso(row["next_follow_up"]),
        "attempts": row["attempts"], "escalated": bool(row["escalated"]),
        "priority": round(float(row["priority"]), 2), "details": json.loads(row["details"]),
    }


def _json_value(value: Any) -> str:
    # Amounts keep their two decimals (1250.00), which json.dumps would write as 1250.0.
    return str(value) if isinstance(value, Decimal) else json.dumps(value, sort_keys=True)


def write_json(records: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """One JSON array, one object per line."""
    out.write("[")
    for i, record in enumerate(records):
        fields = ", ".join(f"{json.dumps(name)}: {_json_value(record[name])}" for name in FIELDS)
        out.write(f"{',' if i else ''}\n  {{{fields}}}")
    out.write("\n]\n" if records else "]\n")


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_csv(records: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """A header row of the field names, then one row per record (details as a JSON string)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow([_csv_value(record[name]) for name in FIELDS])


def write_table(rows: Sequence[Mapping[str, Any]], out: TextIO, *, resolved: bool) -> None:
    """The human-readable listing (its layout may change; scripts use JSON or CSV)."""
    out.write(f"{'item':<44} {'queue':<11} {'owner':<8} {'amount':>11} {'next':<10} "
              f"{'tries':>5}  codes\n")
    for row in rows:
        amount = f"${row['amount'] / 100:,.2f}" if row["amount"] is not None else ""
        out.write(f"{row['item_key']:<44} {row['queue']:<11} {row['owner'] or '':<8} "
                  f"{amount:>11} {row['next_follow_up']:%Y-%m-%d} {row['attempts']:>5}  "
                  f"{row['codes']}\n")
    out.write(f"{len(rows):,} {'resolved' if resolved else 'open'} item(s)\n")
