"""Configuration: every settings model and the loading of the YAML file that fills them.

The rest of tc-sync imports this package; it imports none of the rest. One file
(`config/example.yaml`), overridable by TC_SYNC_* environment variables:

- `settings`: `Settings`, the whole configuration, and its precedence;
- `sources`, `sections`, `push`, `reports`, `observability`: one module per part of the file;
- `loading`: reading the file, resolving ``secret:NAME`` values, and `ConfigError`, whose
  every line names file, line, column and field; a caller may add a `SettingsCheck` (the
  adapters' check that each source's kind names an adapter folder);
- `yamlfile`: YAML with line marks, shared by the mappings and the adapters' overrides.
"""

from tc_sync.config.loading import (
    CONFIG_ENV,
    ConfigError,
    SettingsCheck,
    config_path,
    load_settings,
    settings_from_mapping,
)
from tc_sync.config.sections import (
    QUEUE_FORMATS,
    HealthSettings,
    LedgerSettings,
    QueueFormat,
    QueuesSettings,
    RetentionSettings,
    SyncSettings,
)
from tc_sync.config.settings import Settings
from tc_sync.config.sources import (
    ConnectionSettings,
    OdbcSettings,
    ScheduleSettings,
    SourceSettings,
    TlsSettings,
)

__all__ = [
    "CONFIG_ENV", "QUEUE_FORMATS", "ConfigError", "ConnectionSettings", "HealthSettings",
    "LedgerSettings", "OdbcSettings", "QueueFormat", "QueuesSettings", "RetentionSettings",
    "ScheduleSettings", "Settings", "SettingsCheck", "SourceSettings", "SyncSettings",
    "TlsSettings", "config_path", "load_settings", "settings_from_mapping",
]
