"""Loading the configuration: one YAML file, its secrets resolved, every problem located.

A value ``secret:NAME`` is read from the file NAME in the secrets directory (``secrets_dir``,
default ``$CREDENTIALS_DIRECTORY`` as systemd sets it) or from the variable
``TC_SYNC_SECRET_NAME``. Every problem is reported as ``file:line:column: field.path: what is
wrong`` (see `ConfigError`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tc_sync.config.settings import Settings, document_being_loaded
from tc_sync.config.yamlfile import (
    YamlDocument,
    YamlFileError,
    describe_validation_error,
    dotted,
    load_yaml,
    one_line,
)

CONFIG_ENV = "TC_SYNC_CONFIG"
SettingsCheck = Callable[[Settings], Iterable[tuple[tuple[str | int, ...], str]]]
"""A check of valid settings by a part of tc-sync this package does not know (the adapters
know which PMS kinds exist): each problem's place in the file, and what is wrong there."""


class ConfigError(Exception):
    """Configuration that cannot be used. Each line names file, line, column and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_SECRET_REF = re.compile(r"^secret:([A-Za-z0-9_.-]+)$")


def _resolve_secrets(data: Any, secrets_dir: Path | None, loc: tuple[str | int, ...],
                     problems: list[tuple[tuple[str | int, ...], str]]) -> Any:
    if isinstance(data, dict):
        return {k: _resolve_secrets(v, secrets_dir, (*loc, k), problems) for k, v in data.items()}
    if isinstance(data, list):
        return [_resolve_secrets(v, secrets_dir, (*loc, i), problems) for i, v in enumerate(data)]
    if isinstance(data, str) and (match := _SECRET_REF.match(data)):
        name = match.group(1)
        env_name = "TC_SYNC_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        if env_name in os.environ:
            return os.environ[env_name]
        try:
            if secrets_dir is not None and (secrets_dir / name).is_file():
                return (secrets_dir / name).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as error:   # never quote the file's content
            why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            problems.append((loc, f"cannot read secret '{name}' in {secrets_dir} ({why})"))
            return data
        where = f"in {secrets_dir}" if secrets_dir else "(no secrets_dir is set)"
        problems.append((loc, f"missing secret '{name}': no file '{name}' {where} and no "
                              f"variable {env_name}"))
    return data


def _secrets_dir(data: Any) -> Path | None:
    configured = os.environ.get("TC_SYNC_SECRETS_DIR") or (
        data.get("secrets_dir") if isinstance(data, dict) else None)
    if configured:
        return Path(str(configured))
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    return Path(credentials) if credentials else None


def _vendor_credentials_in_file(data: dict[str, Any]
                                ) -> list[tuple[tuple[str | int, ...], str]]:
    """Dentrix and Eaglesoft credentials written into the file instead of a secret."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    sources = data.get("sources")
    for source_id, source in (sources.items() if isinstance(sources, dict) else ()):
        connection = source.get("connection") if isinstance(source, dict) else None
        if not isinstance(connection, dict) or connection.get("driver") != "odbc":
            continue
        odbc = connection.get("odbc")
        if not isinstance(odbc, dict):
            odbc = {}
        session = odbc.get("session")
        candidates: list[tuple[tuple[str | int, ...], Any]] = [
            (("connection", "password"), connection.get("password")),
            (("connection", "odbc", "connection_string"), odbc.get("connection_string")),
            *((("connection", "odbc", "session", i), statement)
              for i, statement in enumerate(session if isinstance(session, list) else [])
              if isinstance(statement, str) and "AUTHORIZATION" in statement.upper())]
        for loc, value in candidates:
            if isinstance(value, str) and not _SECRET_REF.match(value) and (
                    loc[-1] != "connection_string" or re.search(r"(PWD|PASSWORD)\s*=", value,
                                                                re.IGNORECASE)):
                problems.append((("sources", source_id, *loc),
                                 "holds a vendor credential: put it in a secret and write "
                                 "secret:NAME here (docs/ODBC.md)"))
    return problems


def config_path(explicit: Path | None) -> Path | None:
    """The configuration file: --config, else $TC_SYNC_CONFIG, else none."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else None


def load_settings(path: Path, text: str | None = None, *,
                  check: SettingsCheck | None = None) -> Settings:
    """Read, resolve secrets in, and validate a configuration file, then run `check` on it
    (the command line passes the adapters' `configuration_problems`); raise ConfigError."""
    try:
        document = load_yaml(path, text)
    except YamlFileError as error:
        raise ConfigError(error.problems) from None
    if () not in document.marks:   # empty, or comments only: surely not the intended file
        raise ConfigError([f"{path}: the file is empty: it needs at least the sources to pull "
                           "(config/example.yaml is a starting point)"])
    if not isinstance(document.data, dict):
        raise ConfigError([f"{document.where(())}: the file must be a mapping of settings"])
    odd_keys = [key for key in document.data if not isinstance(key, str)]
    if odd_keys:
        raise ConfigError([f"{document.where((key,), key=True)}: {key}: unknown key (a setting "
                           "is a name, not a number, date or null)" for key in odd_keys])
    secret_problems: list[tuple[tuple[str | int, ...], str]] = list(
        _vendor_credentials_in_file(document.data))
    document.data = _resolve_secrets(
        document.data, _secrets_dir(document.data), (), secret_problems)
    if secret_problems:
        raise ConfigError([f"{document.where(loc)}: {dotted(loc)}: {one_line(message)}"
                           for loc, message in secret_problems])
    return _settings(document, check)


def settings_from_mapping(data: dict[str, Any], label: str = "<built-in>", *,
                          check: SettingsCheck | None = None) -> Settings:
    """Settings from a Python mapping (the demo's embedded configuration)."""
    return _settings(YamlDocument(Path(label), data), check)


def _settings(document: YamlDocument, check: SettingsCheck | None) -> Settings:
    """Validate the document into Settings, then run `check`; raise ConfigError."""
    token = document_being_loaded.set(document)
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(list(describe_validation_error(error, document))) from None
    finally:
        document_being_loaded.reset(token)
    problems = list(check(settings)) if check is not None else []
    if problems:
        raise ConfigError([f"{document.where(loc)}: {dotted(loc)}: {one_line(message)}"
                           for loc, message in problems])
    return settings

