"""Configuration: YAML plus environment overrides and secrets; every mistake named precisely."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.registry import configuration_problems, default_adapters_dir
from tc_sync.cli import EXIT_CONFIG, main
from tc_sync.config import ConfigError, load_settings

GOOD = """\
site_id: smile-dental
timezone: America/Chicago
ledger:
  url: sqlite:///var/lib/tc-sync/ledger.db
sources:
  main:
    kind: opendental
    connection:
      host: od-server
      user: tc_sync_ro
      password: secret:od_password
    schedule:
      interval_seconds: 120
  north:
    kind: opendental
    connection:
      host: north-server
"""


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "od_password").write_text("s3cret-from-file\n")
    monkeypatch.setenv("TC_SYNC_SECRETS_DIR", str(folder))
    return folder


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tc-sync.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.problems


def test_several_sources_with_a_secret_read_from_the_secrets_directory(tmp_path, secrets):
    settings = load_settings(write(tmp_path, GOOD))
    main = settings.sources["main"]
    assert list(settings.sources) == ["main", "north"]
    assert main.connection.password is not None
    assert main.connection.password.get_secret_value() == "s3cret-from-file"
    assert "s3cret" not in repr(settings)
    assert main.schedule.interval_seconds == 120


def test_environment_overrides_a_nested_value(tmp_path, secrets, monkeypatch):
    monkeypatch.setenv("TC_SYNC_SOURCES__MAIN__CONNECTION__PORT", "3307")
    monkeypatch.setenv("TC_SYNC_LEDGER__URL", "postgresql+psycopg://tc@db/ledger")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.sources["main"].connection.port == 3307
    assert settings.sources["main"].connection.host == "od-server"
    assert settings.ledger.url.startswith("postgresql")


def test_a_missing_secret_names_file_line_column_and_field(tmp_path, monkeypatch):
    monkeypatch.delenv("TC_SYNC_SECRETS_DIR", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = write(tmp_path, GOOD)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:11:17: sources.main.connection.password: missing secret")
    assert "TC_SYNC_SECRET_OD_PASSWORD" in problem


def test_a_wrong_type_and_an_unknown_key_are_both_reported_where_they_are(tmp_path, secrets):
    path = write(tmp_path, GOOD.replace("interval_seconds: 120", "interval_secs: 120")
                 .replace("host: north-server", "host: north-server\n      port: three"))
    found = problems_of(path)
    assert len(found) == 2
    assert found[0].startswith(f"{path}:13:7: sources.main.schedule.interval_secs: unknown key")
    assert found[1].startswith(f"{path}:18:13: sources.north.connection.port: Input should be")


def test_a_line_separator_inside_a_value_does_not_shift_the_line_reported(tmp_path, secrets):
    # YAML also breaks lines at U+2028; an editor, and the administrator, count only newlines.
    path = write(tmp_path, GOOD.replace("interval_seconds: 120", "interval_secs: 120")
                 .replace("host: od-server", 'host: "od-server\u2028"'))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:13:7: sources.main.schedule.interval_secs: unknown key")


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "sources:\n  main:\n    kind: [opendental\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:4:")
    assert "not valid YAML" in problem


def test_a_source_id_must_be_a_plain_name(tmp_path, secrets):
    path = write(tmp_path, "sources:\n  Main Office:\n    kind: opendental\n")
    [problem] = problems_of(path)
    assert "source id 'Main Office'" in problem


def test_the_command_line_reports_bad_configuration_with_exit_code_2_and_no_traceback(tmp_path):
    path = write(tmp_path, "sources:\n  main:\n    kind: opendentl\n")
    done = subprocess.run([sys.executable, "-m", "tc_sync", "--config", str(path), "check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{path}:3:11: sources.main.kind:" in done.stderr


def test_the_example_configurations_are_valid(monkeypatch, tmp_path):
    monkeypatch.setenv("TC_SYNC_SECRET_OD_PASSWORD", "example")
    for example in sorted(Path(__file__).parent.parent.joinpath("config").glob("*.yaml")):
        load_settings(example)


# ---- a source's kind is an adapter folder ----------------------------------------------------

def checked_problems_of(path: Path) -> list[str]:
    """What the command line reports: the file, then the adapters' check of it."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path, check=configuration_problems)
    return caught.value.problems


DENTRIX = ("  dx:\n    kind: dentrix\n    connection:\n      driver: odbc\n"
           "      odbc: {dsn: DENTAL}\n")


def test_an_unknown_kind_is_reported_where_it_is_written_listing_the_adapters(tmp_path,
                                                                              capsys):
    path = write(tmp_path, "sources:\n  main:\n    kind: opendentl\n")
    [problem] = checked_problems_of(path)
    assert problem.startswith(f"{path}:3:11: sources.main.kind: no adapter 'opendentl'")
    assert problem.endswith("the adapters are: dentrix (Dentrix), eaglesoft (Eaglesoft), "
                            "opendental (Open Dental)")
    assert str(default_adapters_dir()) in problem
    assert main(["--config", str(path), "status"]) == EXIT_CONFIG
    assert problem in capsys.readouterr().err


def test_a_driver_that_does_not_run_the_adapters_sql_is_named_with_the_pms_title(tmp_path):
    path = write(tmp_path, "sources:\n  dx:\n    kind: dentrix\n    connection:\n"
                           "      host: dentrix-server\n  od:\n    kind: opendental\n"
                           "    connection:\n      driver: odbc\n      odbc: {dsn: OD}\n")
    assert checked_problems_of(path) == [
        f"{path}:5:7: sources.dx.connection.driver: Dentrix is read with connection.driver "
        "odbc",
        f"{path}:9:15: sources.od.connection.driver: Open Dental is read with "
        "connection.driver auto (MySQL), pymysql, mysqlclient or sqlite"]


def test_tasks_go_only_to_a_pms_whose_adapter_takes_them(tmp_path):
    targets = ("push:\n  targets:\n    od-api:\n      kind: opendental_api\n"
               "      source: dx\n      base_url: http://od:30223/api/v1\n"
               "      developer_key: d\n      customer_key: c\n")
    path = write(tmp_path, "sources:\n" + DENTRIX + targets)
    [problem] = checked_problems_of(path)
    assert problem == (f"{path}:11:15: push.targets.od-api.source: source 'dx' is Dentrix, "
                       "which is read-only: only Open Dental takes tasks (use email or webhook "
                       "targets)")
    fine = write(tmp_path, "sources:\n  dx:\n    kind: opendental\n" + targets)
    assert load_settings(fine, check=configuration_problems).push.targets["od-api"]


def test_a_site_adapter_folder_is_a_new_kind_named_by_its_title(tmp_path):
    site = tmp_path / "site-adapters"
    shutil.copytree(default_adapters_dir() / "opendental", site / "od-patched")
    manifest = site / "od-patched" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("title: Open Dental", "title: OD patched")
                        .replace("capabilities: [tasks]", "capabilities: []"))
    path = write(tmp_path, f"adapters_dir: {site}\nsources:\n  main:\n    kind: od-patched\n"
                           "  north:\n    kind: opendental\n" + DENTRIX.replace("  dx", "  d"))
    settings = load_settings(path, check=configuration_problems)
    assert [source.kind for source in settings.sources.values()] == [
        "od-patched", "opendental", "dentrix"]       # the shipped folders are still there
    assert load_adapter("od-patched", site).manifest.title == "OD patched"
    assert load_adapter("opendental", site).folder == default_adapters_dir() / "opendental"
    path.write_text(path.read_text() + "push:\n  targets:\n    od-api: {kind: opendental_api, "
                    "source: main, base_url: 'http://od/api/v1', developer_key: d, "
                    "customer_key: c}\n")
    [problem] = checked_problems_of(path)
    assert "source 'main' is OD patched, which is read-only" in problem
    path.write_text(path.read_text().replace("kind: od-patched", "kind: od-other"))
    [problem] = checked_problems_of(path)     # its task target waits for a known kind
    assert f"in {site} or {default_adapters_dir()}" in problem
    assert "od-patched (OD patched), opendental (Open Dental)" in problem
