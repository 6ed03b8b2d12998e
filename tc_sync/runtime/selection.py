"""One daemon's share of a group's configuration (`tc-sync run --source ID`): its sources, and
the log file, folders and status port derived from them where the configuration sets none.

Derivation, for the sources chosen (in the file's order) joined with '+' as KEY:
- log file: `tc-sync-KEY.log` in the folder the log would otherwise go to;
- work queues and reports: a KEY folder inside the folders they would otherwise go to;
- status port: 9464 plus the position of the first chosen source among the file's sources
  (the first source 9465, the fifth 9469), so daemons on one server never share a port.
A value set in the file or the environment is used as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from tc_sync.config import Settings
from tc_sync.observability import logs
from tc_sync.queues.build import queues_folder
from tc_sync.reports.folder import reports_folder

BASE_PORT = 9464


class SelectionError(Exception):
    """`--source` names a source the configuration does not have, or one it disables."""


def select_sources(settings: Settings, chosen: Sequence[str]) -> Settings:
    """The settings of a daemon that runs only the `chosen` sources of `settings`."""
    known = list(settings.sources)
    for source_id in chosen:
        if source_id not in settings.sources:
            raise SelectionError(f"no source '{source_id}' in the configuration (sources: "
                                 f"{', '.join(known) or 'none'})")
        if not settings.sources[source_id].enabled:
            raise SelectionError(f"source '{source_id}' is disabled in the configuration "
                                 "(set enabled: true to sync it)")
    ordered = [source_id for source_id in known if source_id in chosen]
    key = "+".join(ordered)
    targets = {name: target for name, target in settings.push.targets.items()
               if getattr(target, "source", None) in (None, *ordered)}
    updates = {
        "sources": {source_id: settings.sources[source_id] for source_id in ordered},
        "push": settings.push.model_copy(update={"targets": targets}),
    }
    if settings.logging.file is None:
        log_file = logs.default_log_file(settings).with_name(f"tc-sync-{key}.log")
        updates["logging"] = settings.logging.model_copy(update={"file": log_file})
    if settings.queues.folder is None:
        updates["queues"] = settings.queues.model_copy(
            update={"folder": queues_folder(settings) / key})
    if settings.reports.folder is None:
        updates["reports"] = settings.reports.model_copy(
            update={"folder": reports_folder(settings) / key})
    if "port" not in settings.http.model_fields_set:
        updates["http"] = settings.http.model_copy(
            update={"port": BASE_PORT + 1 + known.index(ordered[0])})
    return settings.model_copy(update=updates)
