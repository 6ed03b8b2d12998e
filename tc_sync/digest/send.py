"""Make the day's digests from the ledger and send them through the configured email target.

The connection is the push email target's own (`smtp_session`): same server, security, login
and sender. Full patient detail is refused on a connection without encryption, here as well as
at configuration load. Logs carry counts and error classes, never an address or a name.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.config.push import EmailTarget
from tc_sync.config.reports import digest_target
from tc_sync.digest.compose import Digest, compose, plan
from tc_sync.ledger.db import reading
from tc_sync.push.targets.email import smtp_session
from tc_sync.queues.rows import load_rows

log = structlog.get_logger(__name__)


class DigestError(Exception):
    """The digest cannot be sent; the message says why and what to change."""


@dataclass(frozen=True)
class DigestRun:
    """What a send did."""

    digests: list[Digest]
    sent: int


def make_digests(engine: sa.Engine, settings: Settings, today: date | None = None
                 ) -> list[Digest]:
    """Every digest due today: one per group of recipients sharing a scope."""
    digest = settings.reports.digest
    day = today or practice_today(settings)
    target = digest_target(settings.reports, settings.push.targets)
    with reading(engine) as connection:
        rows = load_rows(connection, list(settings.sources), day)
    return [compose(rows, to, scope, site_id=settings.site_id, today=day, detail=digest.detail,
                    top=digest.top, overdue_limit=digest.overdue_limit)
            for to, scope in plan(digest, target.to if target else [])]


def message(digest: Digest, sender: str) -> EmailMessage:
    """The digest as an email: plain text, with the HTML as the alternative."""
    mail = EmailMessage()
    mail["Subject"] = digest.subject
    mail["From"] = sender
    mail["To"] = ", ".join(digest.to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="tc-sync")
    mail.set_content(digest.text)
    mail.add_alternative(digest.html, subtype="html")
    return mail


def _target(settings: Settings) -> EmailTarget:
    name = settings.reports.digest.email_target
    target = digest_target(settings.reports, settings.push.targets)
    if target is None:
        raise DigestError("no email target for the digest: set reports.digest.email_target to "
                          f"the name of an email target under push.targets (now: {name!r})")
    if settings.reports.digest.detail == "full" and target.security == "none":
        raise DigestError(f"refusing to send full patient detail over a connection without "
                          f"encryption: email target '{name}' has security: none; set it to "
                          "starttls or tls, or set reports.digest.detail: minimum")
    return target


def send_digests(engine: sa.Engine, settings: Settings, *, today: date | None = None,
                 tls_context: ssl.SSLContext | None = None) -> DigestRun:
    """Compose and send the day's digests in one SMTP session; raise DigestError on failure."""
    target = _target(settings)
    digests = make_digests(engine, settings, today)
    sent = 0
    try:
        with smtp_session(target, tls_context) as smtp:
            for digest in digests:
                smtp.send_message(message(digest, target.sender))
                sent += 1
    except (OSError, smtplib.SMTPException) as error:
        # info: the command prints the sentence, the daemon's job logs the error
        log.info("digest_not_sent", error_class=type(error).__name__, sent=sent,
                 count=len(digests))
        raise DigestError(_why(error, target, sent, len(digests))) from None
    log.info("digest_sent", sent=sent, items=sum(d.items for d in digests))
    return DigestRun(digests, sent)


def _why(error: Exception, target: EmailTarget, sent: int, total: int) -> str:
    """A sentence for a failed send: what happened and what to check."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "the mail server refused the login: check the email target's username and password"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return ("the mail server does not offer STARTTLS: use security: tls if it listens for "
                "TLS, or another server")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return (f"the mail server refused the recipients of digest {sent + 1} of {total}: check "
                "reports.digest.recipients")
    return (f"cannot send the digest through {target.host}:{target.port} "
            f"({type(error).__name__}); {sent} of {total} sent")
