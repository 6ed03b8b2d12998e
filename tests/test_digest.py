"""The daily digest, sent to a real SMTP server (aiosmtpd) started by each test.

Patients carry names that appear nowhere else, so "no name in the message" is a real check:
the default digest (minimum necessary) must carry initials, ids and amounts and never a name;
full detail needs an encrypted connection, refused at configuration load and again at send.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
import trustme
from aiosmtpd.controller import Controller
from structlog.testing import capture_logs

from tc_sync.cli import main
from tc_sync.config import ConfigError, Settings, load_settings
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.digest.compose import Scope, compose, queue_counts
from tc_sync.digest.send import DigestError, send_digests
from tc_sync.items.model import ItemKind
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items, replica
from tc_sync.queues.rows import KIND_LABELS, QueueRow
from tc_sync.queues.snapshot import Snapshot
from tc_sync.records import Patient
from tc_sync.runtime.daemon import Daemon
from tc_sync.runtime.reports import run_digest, run_report
from tests.test_push_alerts import Inbox, free_port
from tests.test_reports import put

TODAY = date(2026, 11, 20)
SEEN = datetime(2026, 11, 20, 12, 0)
PATIENTS = {  # id: (last, first, initials)
    1: ("Quillfeather", "Marigold", "M.Q."),
    2: ("Thornbury", "Evander", "E.T."),
    3: ("Ashcombe", "Philippa", "P.A."),
    4: ("Winterbourne", "Cosima", "C.W."),
}
ITEMS = [  # patient, kind, queue, owner, cents, next follow-up, priority, claim
    (1, "unscheduled_treatment", "treatment", "dana", 245_000, date(2026, 11, 10), 30.0, None),
    (2, "claim_outstanding", "insurance", "lee", 118_000, date(2026, 11, 20), 12.0, 5521),
    (3, "broken_appointment", "scheduling", None, None, date(2026, 11, 25), 2.0, None),
    (4, "unscheduled_treatment", "treatment", "dana", 98_000, date(2026, 11, 1), 50.0, None),
]


def seed(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for pms_id, (last, first, _) in PATIENTS.items():
            put(connection, replica[Patient], source_id="main", pms_id=pms_id, last_name=last,
                first_name=first, preferred_name=first[:3], status="active",
                preferred_contact="mobile_phone", mobile_phone=f"555-01{pms_id:02d}")
        for patient, kind, queue, owner, cents, due, priority, claim in ITEMS:
            subject = claim or patient
            put(connection, items, item_key=f"{kind}:main:{subject}", source_id="main",
                kind=kind, status="open", patient_id=patient, claim_id=claim, queue=queue,
                owner=owner, amount=cents, next_follow_up=due, priority=priority,
                owed_since=date(2026, 10, 1), codes="D2740" if cents else "", details="{}",
                opened_at=SEEN, updated_at=SEEN)


CONFIG = """\
site_id: smile-dental
timezone: America/Chicago
ledger:
  url: sqlite:///{folder}/ledger.db
sources:
  main:
    kind: opendental
push:
  targets:
    office:
      kind: email
      host: 127.0.0.1
      port: {port}
      security: {security}
      sender: tc-sync@smile.example
      to: [frontdesk@smile.example]
{extra}reports:
  digest:
    enabled: true
    email_target: office
    detail: {detail}
    recipients:
      owners:
        dana: [dana@smile.example]
      queues:
        scheduling: [dana@smile.example]
        insurance: [billing@smile.example]
"""


def configure(folder: Path, port: int, *, security: str = "none", detail: str = "minimum",
              extra: str = "") -> Path:
    path = folder / "tc-sync.yaml"
    path.write_text(CONFIG.format(folder=folder, port=port, security=security, detail=detail,
                                  extra=extra))
    return path


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def ledger_folder(tmp_path: Path) -> Path:
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    seed(engine)
    engine.dispose()
    return tmp_path


def parts(raw: bytes) -> tuple[Message, str, str]:
    message = message_from_bytes(raw)
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()
    return message, text, html


def send(settings: Settings, **kwargs: Any) -> Any:
    engine = open_ledger(settings.ledger.url)
    try:
        return send_digests(engine, settings, today=TODAY, **kwargs)
    finally:
        engine.dispose()


def test_each_recipient_gets_one_digest_of_their_owners_and_queues(smtp, ledger_folder):
    inbox, port = smtp
    result = send(load_settings(configure(ledger_folder, port)))
    assert result.sent == 2
    received = {tuple(to): parts(raw) for to, raw in inbox.messages}
    assert set(received) == {("billing@smile.example",), ("dana@smile.example",)}
    _, dana, dana_html = received[("dana@smile.example",)]
    _, billing, _ = received[("billing@smile.example",)]
    # dana: her two items, plus the scheduling queue; billing: the insurance queue only
    for key in ("unscheduled_treatment:main:1", "unscheduled_treatment:main:4",
                "broken_appointment:main:3"):
        assert key in dana and key in dana_html
        assert key not in billing
    assert "claim_outstanding:main:5521" in billing and "claim #5521" in billing
    assert "claim_outstanding:main:5521" not in dana
    # counts per queue: treatment holds two items, both overdue, $3,430 together
    treatment = next(line for line in dana.splitlines() if line.startswith("treatment "))
    assert treatment.split()[:6] == ["treatment", "2", "2", "0", "0", "$3,430.00"]
    overdue = dana.split("Overdue (2):")[1].split("Top ")[0]
    assert overdue.index("unscheduled_treatment:main:4") < overdue.index(
        "unscheduled_treatment:main:1")                         # oldest follow-up first
    assert "(19 days overdue)" in overdue and "(10 days overdue)" in overdue
    top = dana.split("Top 3 patients by priority:")[1]
    assert top.index(":main:4") < top.index(":main:1") < top.index(":main:3")
    assert "due today" in billing


def test_the_default_digest_carries_initials_ids_and_amounts_but_no_names(smtp, ledger_folder):
    inbox, port = smtp
    send(load_settings(configure(ledger_folder, port)))
    everything = b"".join(raw for _, raw in inbox.messages)
    for last, first, _ in PATIENTS.values():
        assert last.encode() not in everything and first.encode() not in everything
        assert first[:3].encode() not in everything              # nor the preferred name
    assert b"555-01" not in everything                           # nor a phone number
    _, dana, html = parts(dict((tuple(t), r) for t, r in inbox.messages)[
        ("dana@smile.example",)])
    for patient in (1, 3, 4):
        initials = PATIENTS[patient][2]
        assert f"{initials}, patient #{patient}" in dana
        assert f"{initials}, patient #{patient}" in html
    assert "$2,450.00" in dana and "$980.00" in dana


def test_full_detail_goes_only_over_starttls_and_then_names_the_patient(
        ledger_folder: Path, tmp_path: Path) -> None:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True)
    controller.start()
    try:
        path = configure(ledger_folder, port, security="starttls", detail="full")
        text = path.read_text().replace("      to: [", f"      ca_file: {ca_file}\n      to: [")
        path.write_text(text)
        assert send(load_settings(path)).sent == 2
    finally:
        controller.stop()
    _, dana, html = parts(dict((tuple(t), r) for t, r in inbox.messages)[
        ("dana@smile.example",)])
    assert "Quillfeather, Marigold (Mar), patient #1" in dana
    assert "Mobile phone: 555-0101" in dana and "Winterbourne, Cosima" in html


def test_full_detail_without_tls_is_a_configuration_error_naming_the_line(tmp_path):
    path = configure(tmp_path, 2525, security="none", detail="full")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:21:13: reports.digest.detail: full patient detail "
                              "needs an encrypted connection")
    assert "security: none" in problem and "use detail: minimum" in problem


def test_full_detail_is_refused_at_send_when_the_target_lost_its_tls(smtp, ledger_folder):
    inbox, port = smtp
    settings = load_settings(configure(ledger_folder, port, security="starttls",
                                       detail="full"))
    settings.push.targets["office"].security = "none"    # type: ignore[union-attr]
    with pytest.raises(DigestError, match="refusing to send full patient detail"):
        send(settings)
    assert inbox.messages == []


@pytest.mark.parametrize(("digest", "message"), [
    ("    email_target: nowhere\n", "no push target named 'nowhere'"),
    ("    email_target: chat\n", "push target 'chat' is not an email target"),
    ("    enabled: true\n", "name the email target under push.targets"),
])
def test_the_digest_must_name_an_email_target(tmp_path, digest, message):
    path = tmp_path / "tc-sync.yaml"
    path.write_text("push:\n  targets:\n    chat:\n      kind: webhook\n"
                    "      url: https://hooks.example/x\nreports:\n  digest:\n" + digest)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [problem] = caught.value.problems
    assert f"{path}:8:" in problem and message in problem


def test_print_shows_what_would_be_sent_and_sends_nothing(smtp, ledger_folder, capsys):
    inbox, port = smtp
    assert main(["--config", str(configure(ledger_folder, port)), "digest", "--print"]) == 0
    printed = capsys.readouterr().out
    assert "To: dana@smile.example" in printed and "To: billing@smile.example" in printed
    assert "Subject: tc-sync daily digest, smile-dental" in printed
    assert "Quillfeather" not in printed and "M.Q., patient #1" in printed
    assert inbox.messages == []


def test_send_command_reports_a_refused_connection_in_a_sentence(ledger_folder, capsys):
    path = configure(ledger_folder, free_port())         # nothing listens there
    assert main(["--config", str(path), "digest", "--send"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("tc-sync: digest not sent: cannot send the digest through "
                            "127.0.0.1:")


def test_without_recipients_the_target_to_gets_the_whole_practice(smtp, ledger_folder):
    inbox, port = smtp
    path = configure(ledger_folder, port)
    text = path.read_text()
    path.write_text(text[:text.index("    recipients:")])
    assert send(load_settings(path)).sent == 1
    ((to, raw),) = inbox.messages
    _, body, _ = parts(raw)
    assert to == ["frontdesk@smile.example"] and "the whole practice" in body
    assert "Overdue (2):" in body and "Top 4 patients by priority:" in body


def test_the_daemon_schedules_digest_and_reports_in_the_practice_time_zone(ledger_folder):
    extra = ""
    path = configure(ledger_folder, 2525, extra=extra)
    text = path.read_text().replace("reports:\n", "reports:\n  weekly: {enabled: true, day: "
                                    "tue, at: '05:15'}\n  monthly: {enabled: true, day: 2}\n")
    path.write_text(text)
    settings = load_settings(path)
    engine = open_ledger(settings.ledger.url)
    daemon = Daemon(engine, settings, MappingsKeeper())
    daemon.build_jobs()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    start = datetime(2026, 11, 20, 12, 0, tzinfo=daemon.zone)      # a Friday
    digest = jobs["digest"].trigger.get_next_fire_time(None, start)
    weekly = jobs["report:weekly"].trigger.get_next_fire_time(None, start)
    monthly = jobs["report:monthly"].trigger.get_next_fire_time(None, start)
    assert (digest.date(), digest.hour, digest.minute) == (date(2026, 11, 21), 7, 0)
    assert (weekly.date(), weekly.hour, weekly.minute) == (date(2026, 11, 24), 5, 15)
    assert (monthly.date(), monthly.hour, monthly.minute) == (date(2026, 12, 2), 6, 0)
    assert {str(t.tzinfo) for t in (digest, weekly, monthly)} == {"America/Chicago"}
    engine.dispose()


def test_failed_jobs_are_logged_without_phi_and_never_raised(ledger_folder):
    settings = load_settings(configure(ledger_folder, free_port()))
    blocked = ledger_folder / "not-a-folder"
    blocked.write_text("a file where the reports folder should be")
    settings.reports.folder = blocked
    engine = open_ledger(settings.ledger.url)
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as logs:
            run_digest(engine, settings)                  # nothing listens: a refused connection
            run_report(engine, settings, "weekly")        # the folder is a file
    finally:
        structlog.configure(**saved)
        engine.dispose()
    failures = {log["event"]: log for log in logs if log["log_level"] == "error"}
    assert failures["digest_job_failed"]["error_class"] == "DigestError"
    assert failures["report_job_failed"]["job"] == "report:weekly"
    text = repr(logs)
    for last, first, _ in PATIENTS.values():
        assert last not in text and first not in text
    assert "smile.example" not in text


def _row(key: str, kind: str, patient: int, amount: str | None, priority: float, *,
         priced: tuple[tuple[int, Decimal], ...] | None = None,
         appointment: int | None = None) -> QueueRow:
    blank = {field.name: None for field in fields(QueueRow) if field.init}
    return QueueRow(**blank | {
        "item_key": key, "source_id": "main", "kind": ItemKind(kind), "queue": "insurance",
        "priority": priority, "next_follow_up": TODAY, "what": KIND_LABELS[ItemKind(kind)],
        "patient": "Quillfeather, Marigold", "patient_id": patient, "appointment_id": appointment,
        "amount": None if amount is None else Decimal(amount), "reasons": (), "parts": (),
        "priced": priced, "escalated": False, "claim_id": None, "owner": ""})


def test_the_digest_names_a_patient_once_and_counts_each_dollar_once():
    # A crown booked tomorrow: its lab case and its insurance check are one conversation
    # about the same $1,575, beside an unpaid claim of $310 for other work.
    crown = ((901, Decimal("1575.00")),)
    rows = [
        _row("lab_case_not_ready:main:7", "lab_case_not_ready", 1, "1575.00", 90.0,
             priced=crown, appointment=44),
        _row("insurance_not_verified:main:44", "insurance_not_verified", 1, "1575.00", 95.0,
             priced=crown, appointment=44),
        _row("claim_outstanding:main:12", "claim_outstanding", 1, "310.00", 20.0),
        _row("claim_outstanding:main:13", "claim_outstanding", 2, "800.00", 40.0),
    ]
    digest = compose(rows, (), Scope(), site_id="site", today=TODAY, detail="minimum",
                     top=10, overdue_limit=10)
    top = digest.text.split("by priority:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "Top 2 patients by priority" in digest.text
    assert len(top) == 2 and "patient #1" in top[0] and "patient #2" in top[1]
    assert top[0].startswith("- Insurance not verified (also: Lab case not back, Claim "
                             "outstanding)")
    assert "$1,885.00" in top[0]          # $1,575 once, plus the claim's $310
    assert "lab_case_not_ready:main:7" in top[0] and "claim_outstanding:main:12" in top[0]
    assert digest.items == 4                # the subject still counts items


def test_the_aged_queue_is_counted_but_nothing_in_it_is_due():
    waiting = [replace(_row(f"claim_outstanding:main:{n}", "claim_outstanding", n, "90.00", 1.0),
                       queue="aged", next_follow_up=TODAY - timedelta(days=n)) for n in range(3)]
    due = _row("claim_outstanding:main:9", "claim_outstanding", 9, "310.00", 5.0)
    counts = {count.queue: count for count in queue_counts([*waiting, due], TODAY)}
    assert (counts["aged"].open, counts["aged"].overdue, counts["aged"].due_today) == (3, 0, 0)
    assert (counts["insurance"].open, counts["insurance"].due_today) == (1, 1)
    files = Snapshot("site", "All clinics", datetime(2026, 11, 26, 9, 0), TODAY,
                     {"insurance": [due], "aged": waiting}, [], 60, 240, False, False)
    assert (files.queue_tally("aged").items, files.queue_tally("aged").due) == (3, 0)
    assert (files.queue_tally().items, files.queue_tally().due) == (4, 1)   # the tabs' "Due now"
