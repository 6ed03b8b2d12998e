"""`tc-sync digest --print|--send`: show the day's digests (for admins), or send them now."""

from __future__ import annotations

import sys

from tc_sync.config import Settings
from tc_sync.digest.send import DigestError, make_digests, send_digests
from tc_sync.ledger.db import open_ledger


def print_digests(settings: Settings) -> int:
    """Print what would be sent: each digest's recipients, subject and plain text."""
    engine = open_ledger(settings.ledger.url)
    try:
        digests = make_digests(engine, settings)
    finally:
        engine.dispose()
    if not digests:
        print("no digest to send: map owners or queues to addresses under "
              "reports.digest.recipients, or name an email target (its `to` gets the whole "
              "practice's digest)")
    for digest in digests:
        print(f"To: {', '.join(digest.to)}")
        print(f"Subject: {digest.subject}")
        print()
        print(digest.text)
    return 0


def send(settings: Settings) -> int:
    """Send the day's digests now; 1 (with the reason) if they cannot be sent."""
    engine = open_ledger(settings.ledger.url)
    try:
        result = send_digests(engine, settings)
    except DigestError as error:
        print(f"tc-sync: digest not sent: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"sent {result.sent} digest(s) covering "
          f"{sum(d.items for d in result.digests)} open item(s)")
    return 0
