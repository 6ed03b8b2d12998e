"""Alerts by email (a real SMTP server, aiosmtpd) and chat webhooks (a real local HTTP server).

Webhooks leave the practice: they must carry ids, kinds and counts, never an amount or a name.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tc_sync.config import Settings, settings_from_mapping
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import outbox
from tc_sync.push.dispatcher import Dispatcher
from tc_sync.push.plan import enqueue_alert

ESCALATION = {"item_key": "claim_outstanding:main:4711", "kind": "claim_outstanding",
              "amount": 245_000, "attempts": 4, "queue": "insurance", "owner": "dana"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Hook:
    """A local webhook receiver that answers with `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/abc"
    server.shutdown()
    server.server_close()


def settings_with(tmp_path: Path, targets: dict[str, Any]) -> Settings:
    return settings_from_mapping({
        "site_id": "smile-dental",
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental", "connection": {"host": "pms"}}},
        "push": {"first_retry_seconds": 1, "targets": targets},
    }, label="test.yaml")


def raise_alerts(engine: sa.Engine, settings: Settings) -> None:
    with engine.begin() as connection:
        enqueue_alert(connection, settings.push, "escalated", source_id="main",
                      key="claim_outstanding:main:4711:1", payload=ESCALATION,
                      item_key=ESCALATION["item_key"])
        enqueue_alert(connection, settings.push, "health", source_id="main",
                      key="main:red:1", payload={"colour": "red", "previous": "amber"})


def statuses(engine: sa.Engine) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for target, status in connection.execute(
                sa.select(outbox.c.target, outbox.c.status).order_by(outbox.c.action_id)):
            found.setdefault(target, []).append(status)
    return found


def test_alerts_go_out_as_one_email_with_ids_and_amounts(smtp, tmp_path):
    inbox, port = smtp
    settings = settings_with(tmp_path, {"office": {
        "kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
        "sender": "tc-sync@smile.example", "to": ["tc@smile.example", "dr@smile.example"]}})
    engine = open_ledger(settings.ledger.url)
    raise_alerts(engine, settings)
    with Dispatcher(engine, settings) as dispatcher:
        assert dispatcher.run_once().sent == 2
        assert dispatcher.run_once().claimed == 0          # once
    ((recipients, raw),) = inbox.messages
    assert recipients == ["tc@smile.example", "dr@smile.example"]
    message = message_from_bytes(raw)
    assert message["Subject"] == ("tc-sync at smile-dental: 1 item(s) escalated, "
                                  "1 sync health change(s)")
    body = message.get_payload(decode=True).decode()
    assert "escalated: claim_outstanding:main:4711 (claim_outstanding) after 4 attempts" in body
    assert "$2,450" in body
    assert "sync health of source main: amber -> red" in body


def test_email_over_starttls_with_login_and_a_refused_login_retries(tmp_path):
    authority = trustme.CA()
    server_context = authority.issue_cert("127.0.0.1").configure_cert
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = data.login == b"alerts" and data.password == b"right-password"
        return AuthResult(success=ok, handled=False)

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticator,
                            auth_require_tls=True)
    controller.start()
    try:
        for password, delivered in (("wrong", 0), ("right-password", 1)):
            settings = settings_with(tmp_path, {"office": {
                "kind": "email", "host": "127.0.0.1", "port": port, "security": "starttls",
                "ca_file": str(ca_file), "username": "alerts", "password": password,
                "sender": "tc-sync@smile.example", "to": ["tc@smile.example"]}})
            engine = open_ledger(settings.ledger.url)
            if password == "wrong":
                raise_alerts(engine, settings)
            else:
                with engine.begin() as connection:
                    connection.execute(outbox.update().values(next_attempt_at=sa.func.now()))
            with Dispatcher(engine, settings) as dispatcher:
                totals = dispatcher.run_once()
            assert len(inbox.messages) == delivered
            if password == "wrong":
                assert totals.retried == 2 and totals.dead == 0
                with engine.connect() as connection:
                    errors = set(connection.execute(sa.select(outbox.c.last_error)).scalars())
                assert errors == {"smtp-535: the mail server refused the login: check the "
                                  "username and password"}
            engine.dispose()
    finally:
        controller.stop()


@pytest.mark.reliability("PHI: webhooks carry ids, kinds and counts only",
                         figure="tests; Slack, Teams and JSON bodies checked")
@pytest.mark.parametrize("flavor", ["slack", "teams", "json"])
def test_webhooks_carry_ids_and_counts_but_never_amounts(hook, tmp_path, flavor):
    state, url = hook
    settings = settings_with(tmp_path, {"chat": {"kind": "webhook", "url": url,
                                                 "flavor": flavor}})
    engine = open_ledger(settings.ledger.url)
    raise_alerts(engine, settings)
    with Dispatcher(engine, settings) as dispatcher:
        assert dispatcher.run_once().sent == 2
    (body,) = state.bodies
    text = json.dumps(body)
    assert "claim_outstanding:main:4711" in text
    assert "2450" not in text and "245000" not in text and "amount" not in text
    assert "dana" not in text                               # staff names stay inside too
    if flavor == "slack":
        assert body["text"].startswith("*tc-sync at smile-dental: 1 item(s) escalated")
    elif flavor == "teams":
        assert body["attachments"][0]["content"]["type"] == "AdaptiveCard"
    else:
        assert {alert["event"] for alert in body["alerts"]} == {"escalated", "health"}


def test_a_webhook_that_rejects_alerts_makes_a_dead_letter_emailed_not_looped(
        hook, smtp, tmp_path):
    state, url = hook
    inbox, port = smtp
    state.status = 400
    settings = settings_with(tmp_path, {
        "chat": {"kind": "webhook", "url": url, "events": ["escalated"]},
        "office": {"kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
                   "sender": "tc-sync@smile.example", "to": ["tc@smile.example"],
                   "events": ["dead_letter"]}})
    engine = open_ledger(settings.ledger.url)
    raise_alerts(engine, settings)
    with Dispatcher(engine, settings) as dispatcher:
        first = dispatcher.run_once()
        dispatcher.run_once()
    assert first.dead == 1
    assert statuses(engine) == {"chat": ["dead"], "office": ["sent"]}   # health: nobody wants
    (_, raw), = inbox.messages
    body = message_from_bytes(raw).get_payload(decode=True).decode()
    assert "failed for good: action 1 (alert to chat), error 400" in body


def test_a_webhook_that_is_down_is_retried_later_without_losing_the_alert(hook, tmp_path):
    state, url = hook
    state.status = 503
    settings = settings_with(tmp_path, {"chat": {"kind": "webhook", "url": url}})
    engine = open_ledger(settings.ledger.url)
    raise_alerts(engine, settings)
    with Dispatcher(engine, settings) as dispatcher:
        assert dispatcher.run_once().retried == 2
        state.status = 200
        with engine.begin() as connection:     # the retry falls due
            connection.execute(outbox.update().values(next_attempt_at=sa.func.now()))
        assert dispatcher.run_once().sent == 2
    assert len(state.bodies) == 2              # one refused, one delivered


def test_the_daemon_pushes_on_its_own_job_and_a_health_change_becomes_an_alert(hook, tmp_path):
    from tc_sync.config.mappings_file import MappingsKeeper
    from tc_sync.push.health_alerts import health_alerter
    from tc_sync.runtime.daemon import Daemon

    state, url = hook
    settings = settings_with(tmp_path, {"chat": {"kind": "webhook", "url": url,
                                                 "events": ["health"]}})
    engine = open_ledger(settings.ledger.url)
    daemon = Daemon(engine, settings, MappingsKeeper(),
                    on_health_change=health_alerter(engine, settings))
    daemon.build_jobs()
    assert "push" in {job.id for job in daemon.scheduler.get_jobs()}
    daemon.check_health()                  # never synced: red, from nothing
    daemon.check_health()                  # still red: no second alert
    daemon.push()
    (body,) = state.bodies
    assert body["alerts"] == [{"event": "health", "source": "main", "colour": "red",
                               "previous": "none"}]
    assert daemon.dispatcher is not None
    daemon.dispatcher.close()
    engine.dispose()


def test_email_over_implicit_tls(tmp_path):
    import ssl

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        settings = settings_with(tmp_path, {"office": {
            "kind": "email", "host": "127.0.0.1", "port": port, "security": "tls",
            "ca_file": str(ca_file), "sender": "tc-sync@smile.example",
            "to": ["tc@smile.example"]}})
        engine = open_ledger(settings.ledger.url)
        raise_alerts(engine, settings)
        with Dispatcher(engine, settings) as dispatcher:
            assert dispatcher.run_once().sent == 2
        assert len(inbox.messages) == 1
        engine.dispose()
    finally:
        controller.stop()
