"""Drivers and push targets are found through registries: a name in the configuration, a class.

Every `connection.driver` and every push target `kind` the configuration accepts has its class;
the class is imported only when a source or target uses it (pyodbc stays optional). What a PMS
can take is a capability its manifest claims (the configuration's checks: test_config.py).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import AdapterError
from tc_sync.adapter.registry import default_adapters_dir
from tc_sync.config import ConnectionSettings, SourceSettings, settings_from_mapping
from tc_sync.config.push import Target
from tc_sync.drivers.base import DriverError
from tc_sync.drivers.registry import DRIVERS, drivers_running, open_driver
from tc_sync.drivers.sqlite import SqliteDriver
from tc_sync.ledger.db import open_ledger
from tc_sync.push.dispatcher import build_targets
from tc_sync.push.targets.registry import TARGETS


def test_every_driver_the_configuration_accepts_has_a_class():
    accepted = typing.get_args(ConnectionSettings.model_fields["driver"].annotation)
    assert sorted(accepted) == sorted(DRIVERS)
    assert {DRIVERS[name].load().__name__ for name in accepted} == {
        "MysqlDriver", "SqliteDriver", "OdbcDriver"}


def test_the_drivers_that_run_an_adapter_are_named_by_its_family():
    assert drivers_running("odbc") == ["odbc"]
    assert drivers_running("mysql") == ["auto (MySQL)", "pymysql", "mysqlclient", "sqlite"]


def test_a_sqlite_source_is_opened_with_the_sqlite_driver(tmp_path: Path):
    practice = tmp_path / "practice.db"
    with sqlite3.connect(practice) as connection:
        connection.execute("CREATE TABLE preference (ValueString TEXT)")
        connection.execute("INSERT INTO preference VALUES ('24.3.10.0')")
    connection.close()
    source = SourceSettings(kind="opendental", connection=ConnectionSettings(
        driver="sqlite", path=practice))
    with open_driver(source) as driver:
        assert isinstance(driver, SqliteDriver)
        assert driver.scalar("SELECT GREATEST(ValueString, '1') FROM preference") == "24.3.10.0"
    missing = source.model_copy(update={"connection": source.connection.model_copy(
        update={"path": tmp_path / "gone.db"})})
    with pytest.raises(DriverError, match="no such database file"):
        open_driver(missing)


def test_the_pull_does_not_load_the_odbc_driver_until_a_source_uses_it():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, tc_sync.pull.run, tc_sync.commands.check; "
         "print(sorted(m for m in sys.modules if 'odbc' in m or m == 'MySQLdb'))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_every_push_target_kind_the_configuration_accepts_has_a_class():
    union = typing.get_args(typing.get_args(Target)[0])
    kinds = {typing.get_args(member.model_fields["kind"].annotation)[0] for member in union}
    assert kinds == set(TARGETS)


def test_targets_are_built_from_their_settings(tmp_path: Path):
    settings = settings_from_mapping({
        "site_id": "registry",
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "sources": {"main": {"kind": "opendental"}},
        "push": {"targets": {
            "office": {"kind": "email", "host": "127.0.0.1", "sender": "tc@example.test",
                       "to": ["desk@example.test"], "security": "none"},
            "chat": {"kind": "webhook", "url": "http://127.0.0.1:9/hook", "flavor": "slack"},
            "od-api": {"kind": "opendental_api", "source": "main",
                       "base_url": "http://127.0.0.1:9/api/v1", "developer_key": "d",
                       "customer_key": "c"},
        }},
    })
    engine = open_ledger(settings.ledger.url)
    try:
        built = build_targets(engine, settings)
        assert {name: type(target).__name__ for name, target in built.items()} == {
            "office": "EmailAlerts", "chat": "WebhookAlerts", "od-api": "OpenDentalApi"}
        assert built["office"].site_id == "registry"
        assert built["od-api"]._pms_version() is None      # no sync yet: version unknown
        for target in built.values():
            getattr(target, "close", lambda: None)()
    finally:
        engine.dispose()


def test_a_manifest_may_only_claim_capabilities_tc_sync_knows(tmp_path: Path):
    shutil.copytree(default_adapters_dir() / "opendental", tmp_path / "od")
    manifest = tmp_path / "od" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("capabilities: [tasks]",
                                                     "capabilities: [tasks, payments]"))
    with pytest.raises(AdapterError, match=r"manifest.yaml:\d+:\d+: capabilities\[1\]: Input "
                                           r"should be 'tasks'"):
        load_adapter("od", tmp_path)
