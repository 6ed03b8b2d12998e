"""The work queues as installed: one cycle everywhere, written only when changed, 0640 files
given the coordinators' group, an unwritable folder caught by doctor and /healthz, and a first
sync that /healthz calls in progress. Real SQLite practice files and ledgers, no mocks."""

from __future__ import annotations

import grp
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
import yaml

from tc_sync.cli import main
from tc_sync.commands.demo import build_practice
from tc_sync.config import load_settings
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.progress import StreamProgress
from tc_sync.runtime.daemon import Daemon

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and groups are POSIX")


@pytest.fixture(scope="module")
def practice_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("practice")
    build_practice(folder, fresh=True)
    return folder / "practice.db"


def a_group() -> grp.struct_group:
    """A group of this machine other than root's, for queues.group."""
    return next(g for g in grp.getgrall() if g.gr_gid != 0)


def configure(folder: Path, practice: Path, **queues: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "practice.db").write_bytes(practice.read_bytes())   # the test's own copy
    config = folder / "tc-sync.yaml"
    config.write_text(yaml.safe_dump({
        "ledger": {"url": f"sqlite:///{folder / 'ledger.db'}"},
        "sources": {"demo": {"kind": "opendental", "connection": {
            "driver": "sqlite", "path": str(folder / "practice.db")}}},
        "http": {"enabled": False},
        "queues": {"folder": str(folder / "share" / "queues"), **queues}}))
    return config


def modes(folder: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def rename_a_patient_with_an_open_item(practice: Path) -> None:
    """What the front desk does in Open Dental: the row and its DateTStamp change."""
    connection = sqlite3.connect(practice)
    with connection:
        connection.execute(
            "UPDATE patient SET LName = 'Renamed', DateTStamp = datetime('now', 'localtime') "
            "WHERE PatNum = (SELECT MIN(PatNum) FROM procedurelog WHERE ProcStatus = 1)")
    connection.close()


def test_sync_once_writes_the_queues_then_rewrites_only_what_changed(practice_file, tmp_path,
                                                                    capsys):
    group = a_group()
    config = configure(tmp_path, practice_file, group=group.gr_name)
    queues = tmp_path / "share" / "queues"
    assert main(["--config", str(config), "sync", "--once"]) == 0
    out = capsys.readouterr().out
    assert f"work queues: {queues}" in out and "files written: " in out
    files = {path.name: path.stat() for path in queues.iterdir()}
    assert {"queues.xlsx", "queues.html", "treatment.csv"} <= set(files)
    assert set(modes(queues).values()) == {0o640}
    assert {info.st_gid for info in files.values()} == {group.gr_gid}
    assert stat.S_IMODE(queues.stat().st_mode) == 0o2750      # made by tc-sync: the group's

    assert main(["--config", str(config), "sync", "--once"]) == 0     # nothing changed
    assert "file(s) unchanged since the last build" in capsys.readouterr().out
    assert {path.name: path.stat().st_mtime_ns for path in queues.iterdir()} == {
        name: info.st_mtime_ns for name, info in files.items()}

    rename_a_patient_with_an_open_item(tmp_path / "practice.db")
    assert main(["--config", str(config), "sync", "--once"]) == 0
    rewritten = {path.name for path in queues.iterdir()
                 if path.stat().st_mtime_ns != files[path.name].st_mtime_ns}
    assert {"queues.xlsx", "queues.html", "treatment.csv"} <= rewritten
    assert "Renamed" in (queues / "treatment.csv").read_text("utf-8-sig")
    assert set(modes(queues).values()) == {0o640}


def test_a_file_left_world_readable_by_an_older_tc_sync_loses_that_when_replaced(tmp_path):
    from tc_sync.queues.atomic import write_atomic

    old = tmp_path / "queues.csv"
    old.write_bytes(b"old")
    old.chmod(0o644)
    write_atomic(old, b"new")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640


def unwritable(tmp_path: Path) -> Path:
    """A queues folder nobody can create, root included: its parent is a file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the share should be")
    return blocker / "queues"


def test_doctor_fails_an_unwritable_queues_folder_and_warns_a_world_readable_one(
        practice_file, tmp_path, capsys):
    config = configure(tmp_path, practice_file)
    settings = yaml.safe_load(config.read_text())
    settings["queues"]["folder"] = str(unwritable(tmp_path))
    config.write_text(yaml.safe_dump(settings))
    assert main(["--config", str(config), "doctor"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if "queues folder" in x)
    assert "FAIL" in line and "not-a-folder is a file, not a folder" in line

    open_folder = tmp_path / "open"
    open_folder.mkdir(mode=0o755)
    open_folder.chmod(0o755)
    settings["queues"]["folder"] = str(open_folder)
    config.write_text(yaml.safe_dump(settings))
    main(["--config", str(config), "doctor"])
    out = capsys.readouterr().out
    assert "WARN  queues folder" in out and "open to every account on this machine" in out
    assert f"chmod -R o-rwx {open_folder}" in out


def test_doctor_exits_2_for_a_configuration_error_like_every_command(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.delenv("TC_SYNC_CONFIG", raising=False)
    config = tmp_path / "tc-sync.yaml"
    config.write_text("sources: {main: {kind: opendental, connection: {port: many}}}\n")
    assert main(["--config", str(config), "doctor"]) == 2
    assert main(["doctor"]) == 2                                       # no file at all
    config.write_text(yaml.safe_dump({"queues": {"group": "no-such-group-here"}, "sources": {
        "main": {"kind": "opendental", "connection": {"driver": "sqlite",
                                                      "path": str(tmp_path / "x.db")}}}}))
    assert main(["--config", str(config), "doctor"]) == 2
    assert "there is no group 'no-such-group-here'" in capsys.readouterr().out


def test_a_queue_build_that_fails_turns_the_source_amber_with_the_reason_in_healthz(
        practice_file, tmp_path):
    config = configure(tmp_path, practice_file)
    settings = load_settings(config)
    settings = settings.model_copy(update={"queues": settings.queues.model_copy(
        update={"folder": unwritable(tmp_path)})})
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper())
    daemon.scheduler.start(paused=True)
    try:
        daemon.run_job("demo", False)
        code, body = daemon.healthz()
        assert (code, body["status"]) == (200, "degraded")
        [source] = body["sources"]
        assert source["colour"] == "amber"
        assert "the work queues could not be written to" in source["reason"]
        assert [c.current.value for c in daemon.health.check()] == ["amber"]

        daemon.settings = settings.model_copy(update={"queues": settings.queues.model_copy(
            update={"folder": tmp_path / "share"})})           # the admin fixes the folder
        daemon.run_job("demo", False)
        assert daemon.healthz()[1]["sources"][0]["colour"] == "green"
    finally:
        daemon.scheduler.shutdown(wait=False)
        daemon.engine.dispose()


def test_healthz_says_first_sync_in_progress_and_not_failing_until_it_ends(practice_file,
                                                                           tmp_path):
    settings = load_settings(configure(tmp_path, practice_file))
    daemon = Daemon(open_ledger(settings.ledger.url), settings, MappingsKeeper())
    daemon.scheduler.start(paused=True)
    midway, go_on = threading.Event(), threading.Event()
    seen: list[StreamProgress] = []

    def slow_progress(event: StreamProgress) -> None:     # holds the pull after a batch
        seen.append(event)
        if not midway.is_set():
            midway.set()
            go_on.wait(30)

    daemon.progress = slow_progress
    job = threading.Thread(target=daemon.run_job, args=("demo", False))
    job.start()
    try:
        assert midway.wait(30)
        code, body = daemon.healthz()
        assert (code, body["status"]) == (200, "starting")
        assert body["sources"][0]["colour"] == "amber"
        assert body["sources"][0]["reason"].startswith("first sync in progress")
        assert daemon.health.check() == []           # nothing to alert anyone about
    finally:
        go_on.set()
        job.join(60)
    assert daemon.healthz()[1]["sources"][0]["colour"] == "green"
    assert any(e.done and e.fraction == 1.0 for e in seen)
    daemon.scheduler.shutdown(wait=False)
    daemon.engine.dispose()
