"""`tc-sync check` for a Dentrix source over ODBC, as an admin meets it at a new site.

The site's Dentrix spells a column and a view differently from the shipped adapter: the check
names what is missing, the nearest names the server has and the streams therefore off; the
admin writes the site's names in an overrides file, and check and sync then pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tc_sync.config import ConfigError, load_settings

from .odbc_support import PG_DRIVER, PmsDatabase, pms_database, require_odbc_driver

pytestmark = pytest.mark.postgres


@pytest.fixture
def dentrix(postgres_admin) -> Iterator[PmsDatabase]:
    require_odbc_driver(PG_DRIVER)
    with pms_database(postgres_admin, "dentrix") as database:
        yield database


def configuration(tmp_path: Path, overrides: Path | None = None) -> Path:
    config = tmp_path / "tc-sync.yaml"
    config.write_text(f"""\
site_id: test-site
ledger:
  url: sqlite:///{tmp_path / 'ledger.db'}
sources:
  office:
    kind: dentrix
    connection:
      driver: odbc
      connect_timeout: 5
      odbc:
        connection_string: secret:dentrix_odbc
""" + (f"    overrides: {overrides}\n" if overrides else ""), encoding="utf-8")
    return config


def tc_sync(config: Path, dentrix: PmsDatabase, *arguments: str):
    env = {**os.environ, "TC_SYNC_SECRET_DENTRIX_ODBC": dentrix.connection_string()}
    return subprocess.run([sys.executable, "-m", "tc_sync", "--config", str(config),
                           *arguments], capture_output=True, text=True, check=False, env=env)


def test_check_finds_every_configured_name_on_the_shipped_schema(dentrix, tmp_path):
    checked = tc_sync(configuration(tmp_path), dentrix, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "office: catalog: all" in checked.stdout
    assert "office: Dentrix 17.2.0 via odbc (PostgreSQL)" in checked.stdout
    assert "admin.fullproclog" in checked.stdout
    # Kinds whose data Dentrix does not give are off, said once each.
    assert checked.stdout.count("lab_case_not_ready is off on Dentrix") == 1
    assert "insurance_not_verified is off on Dentrix: it reads no insurance_verification" \
        in checked.stdout


def test_names_this_site_spells_differently_are_reported_and_fixed_by_overrides(
        dentrix, tmp_path):
    dentrix.execute("ALTER TABLE admin.claim RENAME COLUMN datesent TO sentdate")
    dentrix.execute("ALTER VIEW admin.v_patient_insurance RENAME TO v_patient_ins")
    checked = tc_sync(configuration(tmp_path), dentrix, "check")
    assert checked.returncode == 1
    out = checked.stdout
    assert "office: catalog: 2 configured name(s) missing" in out
    assert ("PROBLEM: column admin.claim.datesent does not exist (nearest: sentdate); "
            "needed by claims") in out
    assert ("PROBLEM: table admin.v_patient_insurance does not exist (nearest: "
            "admin.v_patient_ins") in out
    assert "streams off: claims, coverages" in out
    assert "  claims            off: names missing (above)" in out
    assert "admin.v_appt" in out                       # the other streams are still read

    overrides = tmp_path / "office-overrides.yaml"
    overrides.write_text("tables:\n  v_patient_insurance: admin.v_patient_ins\n"
                         "columns:\n  claim.datesent: sentdate\n", encoding="utf-8")
    config = configuration(tmp_path, overrides)
    checked = tc_sync(config, dentrix, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    synced = tc_sync(config, dentrix, "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "office: ok" in synced.stdout


def test_a_vendor_password_written_into_the_configuration_is_refused(tmp_path):
    config = tmp_path / "tc-sync.yaml"
    config.write_text("""\
sources:
  office:
    kind: eaglesoft
    connection:
      driver: odbc
      user: PDBA
      password: the-practice-password
      odbc:
        dsn: DENTAL
""", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert f"{config}:7:17: sources.office.connection.password: holds a vendor credential" in (
        str(raised.value))
    assert "the-practice-password" not in str(raised.value)
