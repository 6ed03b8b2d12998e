"""`tc-sync digest --print|--send`: show the day's digests (for admins), or send them now."""

from __future__ import annotations

import sys

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.digest.compose import Scope, compose
from tc_sync.digest.send import DigestError, make_digests, send_digests
from tc_sync.ledger.db import open_ledger
from tc_sync.queues.rows import load_rows


def print_digests(settings: Settings) -> int:
    """Print what would be sent: each digest's recipients, subject and plain text. With no
    recipients configured yet, a preview of the whole practice's digest."""
    engine = open_ledger(settings.ledger.url)
    try:
        digests = make_digests(engine, settings)
        if not digests:
            day = practice_today(settings)
            with engine.connect() as connection:
                rows = load_rows(connection, list(settings.sources), day)
            options = settings.reports.digest
            digests = [compose(rows, (), Scope(), site_id=settings.site_id, today=day,
                               detail=options.detail, top=options.top,
                               overdue_limit=options.overdue_limit)]
            print("(a preview: nobody receives this yet; name an email target under "
                  "reports.digest.email_target, and map owners or queues to addresses under "
                  "reports.digest.recipients, to send it)")
    finally:
        engine.dispose()
    for digest in digests:
        print(f"To: {', '.join(digest.to) or '(nobody yet)'}")
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
