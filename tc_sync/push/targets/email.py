"""Alerts by email: one message per batch, plain text, ids, kinds and amounts only.

SMTP with STARTTLS (port 587), implicit TLS (465) or none (a relay on a trusted network), and
login when a username is set. There is no way to ask a mail server whether a message arrived,
so alerts are at least once: the Message-ID is derived from the batch, which lets mail clients
fold a rare repeat.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate

from tc_sync.config.push import EmailTarget
from tc_sync.push.outbox import Action, marker_of
from tc_sync.push.targets.base import Permanent, Retryable, TargetContext, UnknownOutcome
from tc_sync.push.text import alert_lines, alert_subject


def tls_context_for(settings: EmailTarget) -> ssl.SSLContext:
    """The TLS context that checks the server's certificate (against `ca_file` if set)."""
    return ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file else None)


@contextmanager
def smtp_session(settings: EmailTarget,
                 tls_context: ssl.SSLContext | None = None) -> Iterator[smtplib.SMTP]:
    """A connection to the target's server: encrypted as `security` says (STARTTLS is then
    required, never skipped), logged in when a username is set, closed on leaving."""
    context = tls_context or tls_context_for(settings)
    smtp: smtplib.SMTP
    if settings.security == "tls":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port,
                                timeout=settings.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            smtp.login(settings.username, password)
        yield smtp


class EmailAlerts:
    """One SMTP server and its recipients."""

    @classmethod
    def from_settings(cls, name: str, target: EmailTarget, context: TargetContext) -> EmailAlerts:
        return cls(name, target, context.settings.site_id)

    def __init__(self, name: str, settings: EmailTarget, site_id: str,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.settings = settings
        self.site_id = site_id
        self.tls_context = tls_context or tls_context_for(settings)

    def message(self, actions: Sequence[Action]) -> EmailMessage:
        payloads = [action.payload for action in actions]
        message = EmailMessage()
        message["Subject"] = alert_subject(self.site_id, payloads)
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.settings.to)
        message["Date"] = formatdate(localtime=True)
        first = min(action.idempotency_key for action in actions)
        message["Message-ID"] = f"<{marker_of(first)[3:]}.{len(actions)}@tc-sync.{self.site_id}>"
        lines = alert_lines(payloads, with_amounts=True)
        message.set_content(
            "\n".join([*lines, "",
                       "Open the work queues or run `tc-sync items show <item>` for details.",
                       f"-- tc-sync at {self.site_id}"]) + "\n")
        return message

    def send_alerts(self, actions: Sequence[Action]) -> str | None:
        message = self.message(actions)
        try:
            with smtp_session(self.settings, self.tls_context) as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise Retryable(f"smtp-{error.smtp_code}", "the mail server refused the login: "
                            "check the username and password", target_down=True) from None
        except smtplib.SMTPRecipientsRefused as error:
            raise Permanent("smtp-recipients", f"every recipient was refused: "
                            f"{sorted(error.recipients)}") from None
        except smtplib.SMTPResponseException as error:
            code = f"smtp-{error.smtp_code}"
            if 500 <= error.smtp_code < 600:
                raise Permanent(code, "the mail server rejected the message") from None
            raise Retryable(code, "the mail server said try later") from None
        except smtplib.SMTPServerDisconnected:
            raise UnknownOutcome("smtp-disconnected", "the mail server hung up") from None
        except (OSError, smtplib.SMTPException) as error:
            raise Retryable(type(error).__name__, "cannot reach the mail server",
                            target_down=True) from None
        if refused:
            raise Permanent("smtp-recipients", f"refused recipients: {sorted(refused)}")
        return str(message["Message-ID"])
