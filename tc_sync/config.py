"""Configuration: one YAML file, overridable by TC_SYNC_* environment variables.

Precedence, highest first: environment (``TC_SYNC_LEDGER__URL``, ``TC_SYNC_SOURCES__MAIN__
CONNECTION__PASSWORD``; ``__`` nests), then the YAML file. A value ``secret:NAME`` is read from
the file NAME in the secrets directory (``secrets_dir``, default ``$CREDENTIALS_DIRECTORY`` as
systemd sets it) or from the variable ``TC_SYNC_SECRET_NAME``. Every problem is reported as
``file:line:column: field.path: what is wrong`` (see `ConfigError`).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tc_sync.observability.settings import HttpSettings, LoggingSettings, SentrySettings
from tc_sync.push.settings import PushSettings
from tc_sync.reports.settings import ReportsSettings, digest_problems
from tc_sync.yamlfile import (
    YamlDocument,
    YamlFileError,
    describe_validation_error,
    dotted,
    load_yaml,
    one_line,
)

CONFIG_ENV = "TC_SYNC_CONFIG"
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_document: ContextVar[YamlDocument | None] = ContextVar("tc_sync_config_document", default=None)


class ConfigError(Exception):
    """Configuration that cannot be used. Each line names file, line, column and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TlsSettings(_Section):
    """TLS to the PMS database server."""

    mode: Literal["preferred", "required", "verify", "disabled"] = "preferred"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class OdbcSettings(_Section):
    """How to reach Dentrix or Eaglesoft over ODBC (see docs/ODBC.md)."""

    dsn: str | None = None
    """A data source name set up in the ODBC manager (Eaglesoft's is usually DENTAL); the
    connection's user and password are sent with it."""
    connection_string: SecretStr | None = None
    """A whole ODBC connection string, e.g. the one the Dentrix API hands out. It holds a
    credential, so it must come from a secret (secret:NAME), never the YAML file."""
    dialect: Literal["auto", "ctree", "sqlanywhere", "postgresql", "sqlite"] = "auto"
    """The server's SQL dialect; auto asks the ODBC driver which server it talks to."""
    statement_limit: int = Field(300, ge=1, le=86_400)
    """Hang guard: a statement still running after this many seconds is cancelled and its
    connection abandoned; the stream stops at its last committed batch and is reported."""
    fetch_rows: int = Field(1000, ge=1, le=100_000)
    """Rows fetched from the driver at a time within one statement."""
    session: list[str] = Field(default_factory=list)
    """Statements run after each connect, e.g. Eaglesoft's SET TEMPORARY OPTION
    CONNECTION_AUTHORIZATION (write it as secret:NAME: it holds a credential)."""

    @model_validator(mode="after")
    def _dsn_or_string(self) -> OdbcSettings:
        if (self.dsn is None) == (self.connection_string is None):
            raise ValueError("set exactly one of 'dsn' and 'connection_string'")
        return self


class ConnectionSettings(_Section):
    """How to reach a PMS database. MySQL for Open Dental; `sqlite` for the demo practice;
    ODBC for Dentrix and Eaglesoft (`odbc` holds the rest)."""

    driver: Literal["auto", "pymysql", "mysqlclient", "sqlite", "odbc"] = "auto"
    odbc: OdbcSettings | None = None
    """With driver odbc: the DSN or connection string, dialect and hang guard."""
    host: str = "127.0.0.1"
    port: int = Field(3306, ge=1, le=65535)
    database: str = "opendental"
    user: str = "tc_sync"
    password: SecretStr | None = None
    path: Path | None = None
    """The SQLite file, when driver is sqlite."""
    tls: TlsSettings = Field(default_factory=TlsSettings)
    connect_timeout: int = Field(10, ge=1, le=600)
    read_timeout: int = Field(120, ge=1, le=3600)
    write_timeout: int = Field(60, ge=1, le=3600)
    retries: int = Field(4, ge=0, le=20)
    """Retries of a statement or connection after a transient error (lost connection, server
    gone, lock wait, deadlock), with jittered exponential backoff."""
    retry_max_wait: float = Field(30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _sqlite_needs_path(self) -> ConnectionSettings:
        if self.driver == "sqlite" and self.path is None:
            raise ValueError("driver sqlite needs 'path' (the SQLite file to read)")
        if self.driver == "odbc" and self.odbc is None:
            raise ValueError("driver odbc needs an 'odbc' section (dsn or connection_string)")
        return self


class ScheduleSettings(_Section):
    """When a source is pulled."""

    interval_seconds: int = Field(300, ge=30, le=86_400)
    full_sweep_at: str = Field("02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_windows: list[str] = Field(default_factory=list)
    """Times of day with no pull (the practice's backup): ["01:00-03:00", "22:30-23:00"]."""

    @field_validator("quiet_windows")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            if not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", window):
                raise ValueError(f"'{window}' is not a window like 01:00-03:00")
        return value


class SourceSettings(_Section):
    """One PMS database: a practice, or one location of a group."""

    kind: Literal["opendental", "dentrix", "eaglesoft"]
    connection: ConnectionSettings = Field(default_factory=ConnectionSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    enabled: bool = True
    streams: list[str] | None = None
    """Pull only these streams (default: every stream of the adapter)."""
    overrides: Path | None = None
    """This site's table and column names, codes, values and cursors for its adapter
    (Dentrix, Eaglesoft): a YAML file holding only what differs (docs/ODBC.md)."""

    @model_validator(mode="after")
    def _driver_fits_kind(self) -> SourceSettings:
        odbc = self.connection.driver == "odbc"
        if odbc != (self.kind in ("dentrix", "eaglesoft")):
            raise ValueError(f"{self.kind} is read with connection.driver "
                             f"{'odbc' if not odbc else 'auto (MySQL) or sqlite'}")
        return self


class LedgerSettings(_Section):
    """Where the coordination ledger lives."""

    url: str = "sqlite:///tc-sync-ledger.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///path/to/ledger.db or postgresql+psycopg://...")
        return value


class SyncSettings(_Section):
    """How pulls are cut into statements and batches."""

    batch_size: int = Field(5000, ge=1, le=100_000)
    window_keys: int = Field(50_000, ge=1_000, le=10_000_000)
    """An incremental pull scans at most this many keys per statement."""
    scan_connections: int = Field(2, ge=1, le=8)
    """PMS connections an incremental pull scans key windows on side by side (MySQL only):
    finding changed rows is the PMS server's work, and each connection uses one of its cores.
    1 reads one window at a time."""
    safety_lag_seconds: int = Field(120, ge=0, le=86_400)
    """Re-read rows changed this long before the last pull began (late commits, clock skew)."""
    deletes_each_cycle: bool = True
    """An incremental pull of a table the PMS deletes rows from (the adapter's `hard_deletes`)
    also finds the rows deleted since: key counts per window of `window_keys`, then the keys
    of the windows that differ. False leaves deletes to the nightly full sweep."""


class HealthSettings(_Section):
    """When a source's data counts as stale: green, then amber, then red."""

    amber_after_minutes: int = Field(30, ge=1, le=10_080)
    """Amber when the last successful sync is older than this, or the last run failed."""
    red_after_minutes: int = Field(240, ge=1, le=43_200)
    """Red when the last successful sync is older than this, or there has never been one."""

    @model_validator(mode="after")
    def _ordered(self) -> HealthSettings:
        if self.red_after_minutes <= self.amber_after_minutes:
            raise ValueError("red_after_minutes must be more than amber_after_minutes")
        return self


QueueFormat = Literal["xlsx", "csv", "html"]
QUEUE_FORMATS: tuple[QueueFormat, ...] = ("xlsx", "csv", "html")


class QueuesSettings(_Section):
    """Coordinators' work queues: files rebuilt from the open items after every sync."""

    enabled: bool = True
    folder: Path | None = None
    """Where the files go: a shared folder coordinators open. Default: `queues` beside a
    SQLite ledger, else `./queues`. The files hold patient names, so the folder's own
    permissions decide who may read them."""
    formats: list[QueueFormat] = Field(default_factory=lambda: list(QUEUE_FORMATS))
    group: str | None = Field(None, min_length=1, max_length=64)
    """The group (Linux) given the files, readable by it (0640): the coordinators' group, or
    the one the file share (Samba) reads as. None: the service account's own group. Windows
    ignores it: the folder's ACL decides (docs/INSTALL.md)."""
    per_clinic: bool = False
    """Also write each clinic's queues into a folder of its own, named after the clinic."""

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: list[QueueFormat]) -> list[QueueFormat]:
        if not value:
            raise ValueError("name at least one of xlsx, csv, html (or set enabled: false)")
        if len(set(value)) != len(value):
            raise ValueError("a format is listed twice: name each once")
        return value


class Settings(BaseSettings):
    """The whole configuration of one tc-sync daemon."""

    model_config = SettingsConfigDict(
        env_prefix="TC_SYNC_", env_nested_delimiter="__", extra="forbid",
        case_sensitive=False)

    site_id: str = Field("practice", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    """An opaque id for this site: it names the site in logs and Sentry, never PHI."""
    timezone: str = "UTC"
    secrets_dir: Path | None = None
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    queues: QueuesSettings = Field(default_factory=QueuesSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    """Where follow-up tasks and alerts go (Open Dental, email, chat webhooks)."""
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    """Weekly and monthly reports and the daily digest (docs/REPORTS.md)."""
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    sentry: SentrySettings = Field(default_factory=SentrySettings)
    adapters_dir: Path | None = None
    """A folder of adapter folders, for a site that patches an adapter's SQL."""
    mappings_file: Path | None = None
    """The site's coordination rules, over the shipped mappings/default.yaml."""
    sources: dict[str, SourceSettings] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _source_ids(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        for source_id in value:
            if not _SOURCE_ID.match(source_id):
                raise ValueError(
                    f"source id '{source_id}' must be lower-case letters, digits, - or _")
        return value

    @model_validator(mode="after")
    def _push_targets_name_sources(self) -> Settings:
        for name, target in self.push.targets.items():
            source = getattr(target, "source", None)
            if source is None:
                continue
            if source not in self.sources:
                raise ValueError(f"push target '{name}' names source '{source}', which is not "
                                 f"configured (sources: {', '.join(self.sources) or 'none'})")
            if self.sources[source].kind != "opendental":
                raise ValueError(f"push target '{name}': source '{source}' is "
                                 f"{self.sources[source].kind}, which is read-only; only Open "
                                 "Dental takes tasks (use email or webhook targets)")
        return self

    @model_validator(mode="after")
    def _digest_sends_through_an_email_target(self) -> Settings:
        problems = digest_problems(self.reports, self.push.targets)
        if problems:   # raised at the field's own place, so the error names its line
            raise ValidationError.from_exception_data("Settings", [InitErrorDetails(
                type=PydanticCustomError("reports", message), loc=loc, input=None)
                for loc, message in problems])
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):   # OSError: 'America', 'a' * 300
            raise ValueError(f"unknown time zone '{value}' (e.g. America/Chicago)") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlDocumentSource(settings_cls))


class _YamlDocumentSource(PydanticBaseSettingsSource):
    """The YAML file being loaded (set by `load_settings`), lowest precedence."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        document = _document.get()
        data = document.data if document and isinstance(document.data, dict) else {}
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        document = _document.get()
        if document is None or not isinstance(document.data, dict):
            return {}
        return dict(document.data)


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


def load_settings(path: Path, text: str | None = None) -> Settings:
    """Read, resolve secrets in, and validate a configuration file; raise ConfigError."""
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
    token = _document.set(document)
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(list(describe_validation_error(error, document))) from None
    finally:
        _document.reset(token)


def settings_from_mapping(data: dict[str, Any], label: str = "<built-in>") -> Settings:
    """Settings from a Python mapping (the demo's embedded configuration)."""
    document = YamlDocument(Path(label), data)
    token = _document.set(document)
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(list(describe_validation_error(error, document))) from None
    finally:
        _document.reset(token)
