"""Sentry: error reports scrubbed down to classes and codes, and a cron monitor per source and job.

Nothing leaves this machine that the log allowlist would not write: no local variables, no
request bodies, no default PII, no exception messages (a database error quotes row values),
breadcrumbs and extras through `redact`. Sentry's logging, HTTP and argv integrations are off:
our own events reach Sentry through `forward_to_sentry`, after redaction. The check-ins are a
dead man's switch: Sentry alerts when a source's cycle stops checking in (server off, service
stopped, antivirus), which no error report can. The SDK is loaded only once a DSN is set: a
daemon without one does not carry it (about 20 MB with what it loads).
"""

from __future__ import annotations

import inspect
import re
import sys
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from structlog.typing import EventDict, WrappedLogger

from tc_sync import __version__
from tc_sync.observability import logs
from tc_sync.observability.redact import REDACTED, error_chain, error_code, is_event_name, redact

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint, MonitorConfig

    from tc_sync.config import Settings

_KEPT_CONTEXTS = ("runtime", "trace", "os", "monitor")
_FRAME_KEYS = ("filename", "abs_path", "function", "module", "lineno", "colno", "in_app")
_BREADCRUMB_KEYS = ("type", "category", "level", "timestamp")
_TAGGED = ("source", "job", "stream", "run_id", "error_class", "outcome")
_SLUG_LENGTH = 50


def init_sentry(settings: Settings) -> bool:
    """Start Sentry when `sentry.dsn` is set; True when it is on."""
    if settings.sentry.dsn is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.argv import ArgvIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.stdlib import StdlibIntegration

    sentry_sdk.init(  # raises BadDsn for a DSN that is not one
        dsn=settings.sentry.dsn.get_secret_value(),
        release=f"tc-sync@{__version__}",
        environment=settings.sentry.environment,
        server_name=settings.site_id,
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        **_no_default_pii(),
        attach_stacktrace=False,
        auto_enabling_integrations=False,
        disabled_integrations=[LoggingIntegration, StdlibIntegration, ArgvIntegration],
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        max_breadcrumbs=50,
        shutdown_timeout=2,
    )
    sentry_sdk.set_tag("site", settings.site_id)
    logs.add_processor(forward_to_sentry)
    return True


_COLLECT_NOTHING = {
    "user_info": False, "cookies": {"mode": "off"}, "http_headers": {"request": {"mode": "off"}},
    "http_bodies": [], "url_query_params": {"mode": "off"}, "database_query_data": False,
    "queues": False, "stack_frame_variables": False, "frame_context_lines": 0,
}


def _no_default_pii() -> dict[str, Any]:
    """`send_default_pii=False`, said the way the installed SDK understands it: releases that
    have `data_collection` (2.7x on) deprecate the flag, so there every category is off."""
    from sentry_sdk.consts import ClientConstructor

    if "data_collection" in inspect.signature(ClientConstructor.__init__).parameters:
        return {"data_collection": dict(_COLLECT_NOTHING)}
    return {"send_default_pii": False}


def flush_sentry() -> None:
    """Send what is queued (at a stop); quick no-op when Sentry is off."""
    if "sentry_sdk" not in sys.modules:
        return                                  # never started: nothing queued
    import sentry_sdk

    if sentry_sdk.get_client().is_active():
        sentry_sdk.flush(timeout=2)


def _scrub_exception(values: list[dict[str, Any]], error: BaseException | None) -> None:
    chain = error_chain(error) if error is not None else []
    for value in values:
        match = next((link for link in chain if type(link).__name__ == value.get("type")), None)
        if match is not None:
            chain.remove(match)
        code = error_code(match) if match is not None else None
        value["value"] = f"({code}) {REDACTED}" if code is not None else REDACTED
        _keep_code_locations(value)


def _keep_code_locations(holder: dict[str, Any]) -> None:
    """Frames keep file, function and line: no variables, no source lines."""
    stacktrace = holder.get("stacktrace") or {}
    stacktrace["frames"] = [{key: frame[key] for key in _FRAME_KEYS if key in frame}
                            for frame in stacktrace.get("frames") or []]


def _safe_message(value: Any) -> str:
    return value if is_event_name(value) else REDACTED


def scrub_event(event: Event, hint: Hint) -> Event:
    """before_send: exception values to class and code, messages to event names, the rest
    through the allowlist. Check-ins pass with their monitor fields."""
    exc_info = hint.get("exc_info") if hint else None
    error = exc_info[1] if exc_info else None
    _scrub_exception((event.get("exception") or {}).get("values") or [], error)
    for thread in (event.get("threads") or {}).get("values") or []:
        _keep_code_locations(thread)
    if "message" in event:
        event["message"] = _safe_message(event["message"])
    if "logentry" in event:
        message = _safe_message(event["logentry"].get("message"))
        event["logentry"] = {"message": message, "formatted": message}
    crumbs: Any = event.get("breadcrumbs") or {}
    values = crumbs.get("values") if isinstance(crumbs, Mapping) else crumbs
    event["breadcrumbs"] = {"values": [
        scrubbed for crumb in values or []
        if (scrubbed := scrub_breadcrumb(crumb, {})) is not None]}
    if "extra" in event:
        event["extra"] = redact(event["extra"])
    if "tags" in event:
        event["tags"] = redact(event["tags"])
    contexts = event.get("contexts") or {}
    event["contexts"] = {name: contexts[name] for name in _KEPT_CONTEXTS if name in contexts}
    for key in ("request", "user", "transaction"):
        event.pop(key, None)                    # type: ignore[misc]
    return event


def scrub_breadcrumb(crumb: Any, _hint: Any) -> Any:
    """before_breadcrumb: kind, level and time; message as an event name; data allowlisted."""
    if not isinstance(crumb, Mapping):
        return None
    clean: dict[str, Any] = {key: crumb[key] for key in _BREADCRUMB_KEYS if key in crumb}
    if "message" in crumb:
        clean["message"] = _safe_message(crumb["message"])
    if isinstance(crumb.get("data"), Mapping):
        clean["data"] = redact(crumb["data"])
    return clean


def forward_to_sentry(_: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """structlog processor (after redaction): errors become Sentry events, the rest
    breadcrumbs. Does nothing while Sentry is off."""
    import sentry_sdk  # loaded: `init_sentry` added this processor

    if not sentry_sdk.get_client().is_active():
        return event_dict
    level = str(event_dict.get("level", method))
    name = _safe_message(event_dict.get("event"))
    data = {key: value for key, value in event_dict.items()
            if key not in ("event", "level", "timestamp", "exc_info", "logger")}
    if level not in ("error", "critical", "exception"):
        sentry_sdk.add_breadcrumb(category="tc_sync", message=name, level=level, data=data)
        return event_dict
    with sentry_sdk.new_scope() as scope:
        for key in _TAGGED:
            if key in data:
                scope.set_tag(key, str(data[key]))
        for key, value in data.items():
            scope.set_extra(key, value)
        error = event_dict.get("exc_info")
        if isinstance(error, BaseException):
            scope.fingerprint = ["{{ default }}", name]
            sentry_sdk.capture_exception(error)
        else:
            sentry_sdk.capture_message(name, level="error")
    return event_dict


def monitor_slug(site_id: str, source_id: str, job: str) -> str:
    """`tc-sync-<site>-<source>-<job>`, lower-case, at most 50 characters (Sentry's limit)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", f"tc-sync-{site_id}-{source_id}-{job}".lower())
    if len(slug) <= _SLUG_LENGTH:
        return slug
    digest = f"{zlib.crc32(slug.encode()):08x}"
    return f"{slug[:_SLUG_LENGTH - 9]}-{digest}"


def monitor_config(settings: Settings, source_id: str, job: str) -> MonitorConfig:
    """The monitor's schedule as the daemon runs it: an interval for cycles, a crontab for
    the nightly sweep, in the practice's time zone."""
    schedule = settings.sources[source_id].schedule
    options = settings.sentry
    config: MonitorConfig = {
        "timezone": settings.timezone,
        "checkin_margin": options.checkin_margin_minutes,
        "max_runtime": options.max_runtime_minutes,
        "failure_issue_threshold": 2,
        "recovery_threshold": 1,
    }
    if job == "sweep":
        hour, minute = (int(part) for part in schedule.full_sweep_at.split(":"))
        config["schedule"] = {"type": "crontab", "value": f"{minute} {hour} * * *"}
    else:
        minutes = max(1, -(-schedule.interval_seconds // 60))
        config["schedule"] = {"type": "interval", "value": minutes, "unit": "minute"}
    return config


class CheckIn:
    """One job's check-ins: in progress when it starts, then ok or error with its duration.
    A job that had nothing to do (a quiet window) checks in ok at once."""

    def __init__(self, settings: Settings, source_id: str, job: str) -> None:
        self.enabled = settings.sentry.monitors and settings.sentry.dsn is not None
        self.slug = monitor_slug(settings.site_id, source_id, job)
        self.config = monitor_config(settings, source_id, job) if self.enabled else None
        self._id: str | None = None

    def started(self) -> None:
        if self.enabled:
            from sentry_sdk.crons import MonitorStatus, capture_checkin

            self._id = capture_checkin(monitor_slug=self.slug, status=MonitorStatus.IN_PROGRESS,
                                       monitor_config=self.config)

    def finished(self, ok: bool, seconds: float | None = None) -> None:
        if self.enabled:
            from sentry_sdk.crons import MonitorStatus, capture_checkin

            capture_checkin(monitor_slug=self.slug, check_in_id=self._id,
                            status=MonitorStatus.OK if ok else MonitorStatus.ERROR,
                            duration=seconds, monitor_config=self.config)
