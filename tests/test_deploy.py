"""The service files in deploy/: systemd's own checker, and what each file promises.

Windows (WinSW) and Docker cannot run here: their files are checked for what they must say,
and the Docker HEALTHCHECK command itself is run against a real status server.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from tc_sync.commands.diagnosis import extra_privileges
from tc_sync.config import ConnectionSettings, load_settings
from tc_sync.observability.http import StatusServer
from tc_sync.observability.metrics import Metrics

from .conftest import unavailable

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "tc-sync.service"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _seconds(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)\s*(sec|secs|min|mins|)", text.strip()).groups()
    return int(number) * (60 if unit.startswith("min") else 1)


@pytest.fixture
def runnable_unit(tmp_path: Path) -> Path:
    """A copy of the unit whose ExecStart names a program that exists (verify checks it)."""
    program = tmp_path / "tc-sync"
    program.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    program.chmod(0o755)
    text = UNIT.read_text(encoding="utf-8").replace(
        "ExecStart=/opt/tc-sync/venv/bin/tc-sync", f"ExecStart={program}")
    copy = tmp_path / "tc-sync.service"
    copy.write_text(text, encoding="utf-8")
    return copy


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        unavailable("systemd-analyze is not installed")
    return str(found)


def test_the_systemd_unit_passes_systemd_analyze_verify_without_a_warning(runnable_unit):
    done = subprocess.run([systemd_analyze(), "verify", str(runnable_unit)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "tc-sync.service" in line] == []


def test_the_systemd_unit_rates_ok_in_systemd_s_security_review(runnable_unit):
    done = subprocess.run([systemd_analyze(), "security", "--offline=true", "--no-pager",
                           str(runnable_unit)],
                          capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"Overall exposure level for tc-sync.service: ([\d.]+) (\w+)",
                      done.stdout)
    assert match is not None, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.0 and match.group(2) == "OK"


def test_the_systemd_unit_runs_hardened_with_its_own_folders_and_credentials():
    unit = unit_settings()
    for key, value in {"DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "NoNewPrivileges": "yes",
                       "StateDirectory": "tc-sync", "ConfigurationDirectory": "tc-sync",
                       "LogsDirectory": "tc-sync", "Restart": "on-failure",
                       "KillSignal": "SIGTERM"}.items():
        assert unit[key] == [value], key
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "@system-service" in unit["SystemCallFilter"]
    # A stop waits for the PMS statement in flight: longer than its read timeout.
    assert int(unit["TimeoutStopSec"][0]) > ConnectionSettings().read_timeout
    # The credential is the secret the example configuration names.
    example = (ROOT / "config" / "example.yaml").read_text(encoding="utf-8")
    (credential,) = unit["LoadCredential"]
    assert f"secret:{credential.split(':')[0]}" in example
    assert unit["Environment"][0] == "TC_SYNC_CONFIG=/etc/tc-sync/tc-sync.yaml"


def test_the_windows_service_runs_as_a_virtual_account_restarts_and_rolls_its_logs():
    service = ElementTree.parse(DEPLOY / "windows" / "tc-sync-service.xml").getroot()
    assert service.tag == "service" and service.findtext("id") == "tc-sync"
    assert service.findtext("serviceaccount/username") == "NT SERVICE\\tc-sync"
    assert service.find("serviceaccount/password") is None
    assert service.findtext("arguments") == "-m tc_sync run"
    env = {e.get("name"): e.get("value") for e in service.findall("env")}
    assert env["TC_SYNC_CONFIG"] == "%ProgramData%\\tc-sync\\tc-sync.yaml"
    assert {f.get("action") for f in service.findall("onfailure")} == {"restart"}
    assert _seconds(service.findtext("stoptimeout") or "") == int(
        unit_settings()["TimeoutStopSec"][0])
    log = service.find("log")
    assert log is not None and log.get("mode") == "roll-by-size"
    assert int(log.findtext("keepFiles") or 0) >= 2


def dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n\s*", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in logical.splitlines() if line.strip() and not line.startswith("#")]


def test_the_docker_image_is_slim_runs_as_a_user_and_keeps_the_ledger_on_a_volume():
    instructions = dockerfile()
    bases = [value.split()[0] for kind, value in instructions if kind == "FROM"]
    assert bases == ["python:3.11-slim", "python:3.11-slim"]
    users = [value for kind, value in instructions if kind == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any("/var/lib/tc-sync" in value for kind, value in instructions if kind == "VOLUME")
    copied = [source for kind, value in instructions
              if kind == "COPY" and not value.startswith("--from")
              for source in value.split()[:-1]]
    assert all((ROOT / path).exists() for path in copied)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {*wheel["packages"], *wheel["force-include"], "pyproject.toml",
              project["project"]["readme"]}
    assert needed <= set(copied), "the image build must get every file the package needs"


def test_the_docker_healthcheck_command_passes_on_200_and_fails_on_503():
    (healthcheck,) = [value for kind, value in dockerfile() if kind == "HEALTHCHECK"]
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3:].strip())
    assert command[0] == "python" and "/healthz" in command[-1]
    answers = iter([(200, {"status": "ok"}), (503, {"status": "failing"})])
    server = StatusServer("127.0.0.1", 0, lambda: next(answers), Metrics())
    server.start()
    try:
        env = {"TC_SYNC_HTTP__PORT": str(server.port), "PATH": ""}
        runs = [subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True,
                               check=False, timeout=30) for _ in range(2)]
    finally:
        server.stop()
    assert [run.returncode == 0 for run in runs] == [True, False]


def test_the_compose_stack_reads_the_practice_with_a_read_only_user(monkeypatch):
    compose = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"mariadb", "postgres", "tc-sync"} <= set(services)
    tc_sync = services["tc-sync"]
    assert tc_sync["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert tc_sync["stop_grace_period"] == "3m"
    for name, value in tc_sync["environment"].items():
        monkeypatch.setenv(name, str(value))
    config = DEPLOY / "docker" / tc_sync["volumes"][0].split(":")[0]
    settings = load_settings(config)
    assert settings.ledger.url.startswith("postgresql+psycopg://")
    source = settings.sources["main"].connection
    assert source.password is not None
    init = (DEPLOY / "docker" / "dev" / "mariadb-init.sql").read_text(encoding="utf-8")
    grants = [line for line in init.splitlines() if line.startswith("GRANT")]
    assert grants and extra_privileges(grants) == []
    assert f"'{source.user}'@'%' IDENTIFIED BY '{source.password.get_secret_value()}'" in init
    practice = services["practice"]
    loader = [*practice["entrypoint"], *practice["command"]]
    assert "tc_sync.demo.practice" in shlex.join(loader)


def test_the_systemd_unit_lets_the_service_write_the_coordinators_shared_folder():
    unit = unit_settings()
    install = (ROOT / "docs" / "INSTALL.md").read_text(encoding="utf-8")
    assert unit["ReadWritePaths"] == ["-/srv/tc-sync"]
    (group,) = unit["SupplementaryGroups"]
    assert f"groupadd {group}" in install and f"group: {group}" in install
    assert "queues: {folder: /srv/tc-sync/queues" in install


def test_every_install_section_the_deploy_files_point_at_exists():
    headings = {line.lstrip("#").strip() for line in
                (ROOT / "docs" / "INSTALL.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    pointers = [name for path in (DEPLOY / "windows" / "tc-sync-service.xml", UNIT)
                for name in re.findall(r'INSTALL\.md, "([^"]+)"', path.read_text("utf-8"))]
    assert "Folders and permissions" in pointers
    assert set(pointers) <= headings
