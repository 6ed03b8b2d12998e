"""The whole configuration (`Settings`): every section, and how the YAML file feeds it.

Precedence, highest first: environment (``TC_SYNC_LEDGER__URL``, ``TC_SYNC_SOURCES__MAIN__
CONNECTION__PASSWORD``; ``__`` nests), then the YAML file being loaded (`loading`).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tc_sync.config.observability import HttpSettings, LoggingSettings, SentrySettings
from tc_sync.config.push import PushSettings
from tc_sync.config.reports import ReportsSettings, digest_problems
from tc_sync.config.sections import (
    HealthSettings,
    LedgerSettings,
    QueuesSettings,
    RetentionSettings,
    SyncSettings,
)
from tc_sync.config.sources import SourceSettings
from tc_sync.config.yamlfile import YamlDocument

_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
document_being_loaded: ContextVar[YamlDocument | None] = ContextVar(
    "tc_sync_config_document", default=None)
"""The YAML file `loading` is validating, read by `Settings` as its lowest-precedence source."""



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
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    """How long run history and delivered outbox rows are kept."""
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    sentry: SentrySettings = Field(default_factory=SentrySettings)
    practice_day_file: Path | None = None
    """A file holding the practice's day (YYYY-MM-DD) in place of the clock: the demo's,
    moved on by `tc-sync demo --advance`. Unset at a practice."""
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
        return self   # whether its PMS takes tasks is its adapter's (tc_sync.adapter.registry)

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
        document = document_being_loaded.get()
        data = document.data if document and isinstance(document.data, dict) else {}
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        document = document_being_loaded.get()
        if document is None or not isinstance(document.data, dict):
            return {}
        return dict(document.data)


