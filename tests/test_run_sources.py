"""`tc-sync run --source ID`: one daemon per practice from one group configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tc_sync.cli import main
from tc_sync.config import load_settings
from tc_sync.runtime.selection import SelectionError, select_sources

GROUP = """\
ledger:
  url: postgresql+psycopg://tc_sync@ledger.group.example/tc_sync
push:
  targets:
    alerts: {kind: webhook, url: "https://chat.example/hook"}
    downtown-tasks: {kind: opendental_api, source: downtown, base_url: "https://od.example",
                     developer_key: secret:dk,
                     customer_key: secret:ck}
    uptown-tasks: {kind: opendental_api, source: uptown, base_url: "https://od.example",
                   developer_key: secret:dk,
                   customer_key: secret:ck}
sources:
  downtown: {kind: opendental}
  uptown: {kind: opendental}
  harbor: {kind: opendental}
  closed: {kind: opendental, enabled: false}
"""


@pytest.fixture
def group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("LOGS_DIRECTORY", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TC_SYNC_SECRET_DK", "developer")
    monkeypatch.setenv("TC_SYNC_SECRET_CK", "customer")
    config = tmp_path / "group.yaml"
    config.write_text(GROUP, encoding="utf-8")
    return config


def test_each_practice_gets_its_own_log_file_queue_folder_report_folder_and_port(group):
    settings = load_settings(group)

    uptown = select_sources(settings, ["uptown"])
    harbor = select_sources(settings, ["harbor"])

    assert list(uptown.sources) == ["uptown"]
    assert uptown.logging.file == Path.cwd() / "logs" / "tc-sync-uptown.log"
    assert uptown.queues.folder == Path("queues") / "uptown"
    assert uptown.reports.folder == Path("reports") / "uptown"
    assert (uptown.http.port, harbor.http.port) == (9466, 9467)
    assert harbor.logging.file != uptown.logging.file


def test_a_daemon_pushes_only_to_its_own_practices_targets_and_the_shared_ones(group):
    settings = select_sources(load_settings(group), ["uptown"])

    assert sorted(settings.push.targets) == ["alerts", "uptown-tasks"]


def test_several_sources_share_one_daemon_named_after_them_all(group):
    settings = select_sources(load_settings(group), ["harbor", "downtown"])

    assert list(settings.sources) == ["downtown", "harbor"]      # the file's order
    assert settings.logging.file.name == "tc-sync-downtown+harbor.log"
    assert settings.http.port == 9465


def test_what_the_configuration_sets_is_used_as_it_is(group):
    group.write_text(GROUP + "http: {port: 9600}\nqueues: {folder: /srv/queues}\n"
                     "logging: {file: /var/log/tc-sync/group.log}\n", encoding="utf-8")

    settings = select_sources(load_settings(group), ["uptown"])

    assert settings.http.port == 9600
    assert settings.queues.folder == Path("/srv/queues")
    assert settings.logging.file == Path("/var/log/tc-sync/group.log")


@pytest.mark.parametrize(("source", "says"), [
    ("nowhere", "no source 'nowhere' in the configuration (sources: downtown, uptown, harbor, "
                "closed)"),
    ("closed", "source 'closed' is disabled in the configuration"),
])
def test_a_source_that_cannot_be_run_is_a_configuration_error(group, capsys, source, says):
    with pytest.raises(SelectionError, match=says.replace("(", r"\(").replace(")", r"\)")):
        select_sources(load_settings(group), [source])

    assert main(["--config", str(group), "run", "--source", source]) == 2
    assert says in capsys.readouterr().err
