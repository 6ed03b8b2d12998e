"""`tc-sync demo --advance DAYS`: the front desk works in the demo practice, the demo's today
moves on, one cycle runs, and a new user is told what moved. Real SQLite practice and ledger,
the real command line; no mocks."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.cli import main
from tc_sync.commands.demo import CLOCK
from tc_sync.demo.frontdesk import work_days
from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items


def _resolved(folder: Path) -> dict[str, tuple[str, str]]:
    engine = open_ledger(f"sqlite:///{folder / 'ledger.db'}")
    try:
        with engine.connect() as c:
            return {key: (kind, resolution) for key, kind, resolution in c.execute(
                sa.select(items.c.item_key, items.c.kind, items.c.resolution).where(
                    items.c.status == "resolved"))}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def advanced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`demo`, then `demo --advance 3`, the queue file's text before and after each."""
    folder = tmp_path_factory.mktemp("demo")
    out: dict[str, object] = {"folder": folder}
    for step, argv in (("first", []), ("advance", ["--advance", "3"])):
        buffer = io.StringIO()       # capsys is per test; this fixture is per module
        with contextlib.redirect_stdout(buffer):
            assert main(["demo", "--dir", str(folder), *argv]) == 0
        out[step] = buffer.getvalue()
        out[f"{step}_csv"] = (folder / "queues" / "treatment.csv").read_text("utf-8")
        out[f"{step}_resolved"] = _resolved(folder)
    return out


def test_an_advance_resolves_items_with_the_reason_the_pms_shows(advanced):
    assert advanced["first_resolved"] == {}
    resolved = advanced["advance_resolved"]
    by_kind = {(kind, why) for kind, why in resolved.values()}
    assert ("unscheduled_treatment", "scheduled") in by_kind
    assert ("claim_unsent", "sent") in by_kind
    assert ("claim_outstanding", "received") in by_kind
    # the printed words match the ledger: the count of unsent claims sent, with examples
    sent = sum(1 for kind, why in resolved.values() if (kind, why) == ("claim_unsent", "sent"))
    text = advanced["advance"]
    assert f"{sent:>4,} claim_unsent, sent: claim_unsent:demo:" in text
    assert f"items resolved: {len(resolved):,}" in text


def test_an_advance_says_what_the_front_desk_did_and_moves_the_demos_today(advanced):
    text = advanced["advance"]
    built = date.fromisoformat((advanced["folder"] / CLOCK).read_text().strip()) - timedelta(3)
    assert built == date.today()
    assert f"the front desk worked 3 day(s); the demo's today is now {built + timedelta(3)}" in text
    assert "claim(s) sent to the carrier" in text and "booked for their unscheduled" in text
    before, after = text.split("digest: ", 1)[1].split("\n     -> ", 1)
    assert before.split(" open")[0] != after.split(" open")[0]      # the headline moved
    assert "files written:" in text and "treatment.csv" in text.split("files written:")[1]
    assert advanced["advance_csv"] != advanced["first_csv"]


def test_a_second_advance_continues_from_the_advanced_day(advanced, capsys):
    folder = advanced["folder"]
    started = date.fromisoformat((folder / CLOCK).read_text().strip())
    assert main(["demo", "--dir", str(folder), "--advance"]) == 0       # DAYS defaults to 1
    text = capsys.readouterr().out
    assert f"the demo's today is now {started + timedelta(1)}" in text
    assert (folder / CLOCK).read_text().strip() == (started + timedelta(1)).isoformat()
    with closing(sqlite3.connect(folder / "practice.db")) as practice:   # work dated that day
        sent_on = {day for (day,) in practice.execute(
            "SELECT DISTINCT DateSent FROM claim WHERE DateSent > ?", (started.isoformat(),))}
    assert sent_on <= {(started + timedelta(1)).isoformat()}


def test_rerunning_the_demo_without_advance_still_changes_nothing(advanced, capsys):
    folder = advanced["folder"]
    assert main(["demo", "--dir", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "patients evaluated: no change" in text
    assert "file(s) unchanged since the last build" in text and "files written" not in text


def test_the_same_days_do_the_same_work(tmp_path, advanced):
    """Seeded by the day: two copies of one practice, worked the same days, end the same."""
    source = advanced["folder"] / "practice.db"
    copies = []
    for name in ("a.db", "b.db"):
        (tmp_path / name).write_bytes(source.read_bytes())
        copies.append(work_days(tmp_path / name, date(2030, 1, 1), 2))
    assert copies[0] == copies[1] and copies[0].calls > 0
    dumps = []
    for name in ("a.db", "b.db"):
        with closing(sqlite3.connect(tmp_path / name)) as practice:
            dumps.append(practice.execute(
                "SELECT AptNum, AptStatus, AptDateTime, NextAptNum FROM appointment "
                "ORDER BY AptNum").fetchall())
    assert dumps[0] == dumps[1]


def test_advance_takes_one_day_or_more(tmp_path, capsys):
    assert main(["demo", "--dir", str(tmp_path / "d"), "--advance", "0"]) == 2
    assert "--advance takes a number of days, 1 or more" in capsys.readouterr().err


def test_every_command_on_the_demos_configuration_sees_the_demos_day(advanced, capsys):
    # After an advance the demo's day is ahead of the calendar: a digest, a queue build or a
    # snooze run from its configuration must age items at that day, as the demo did.
    folder = advanced["folder"]
    config = str(folder / "tc-sync.yaml")
    day = date.fromisoformat((folder / CLOCK).read_text().strip())
    assert day > date.today()
    assert main(["--config", config, "digest", "--print"]) == 0
    assert f"Subject: tc-sync daily digest, demo-practice, {day}:" in capsys.readouterr().out
    assert main(["--config", config, "sync", "--once"]) == 0
    assert "queues" in capsys.readouterr().out
    key = next(iter(_open_keys(folder)))
    assert main(["--config", config, "items", "snooze", key, "--until",
                 (day - timedelta(1)).isoformat()]) == 2
    assert f"not between today ({day})" in capsys.readouterr().err


def test_a_demo_day_file_that_holds_no_date_is_a_configuration_error(tmp_path, capsys):
    (tmp_path / "day.txt").write_text("next tuesday\n")
    (tmp_path / "tc.yaml").write_text(
        f"practice_day_file: {tmp_path / 'day.txt'}\n"
        f"ledger:\n  url: sqlite:///{tmp_path / 'ledger.db'}\n")
    assert main(["--config", str(tmp_path / "tc.yaml"), "digest", "--print"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'day.txt'}, line 1: practice_day_file must hold a date" in err


def _open_keys(folder: Path) -> list[str]:
    engine = open_ledger(f"sqlite:///{folder / 'ledger.db'}")
    try:
        with engine.connect() as c:
            return list(c.scalars(sa.select(items.c.item_key).where(items.c.status == "open")))
    finally:
        engine.dispose()
