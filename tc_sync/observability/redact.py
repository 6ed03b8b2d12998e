"""PHI redaction by allowlist: only keys known to carry ids, counts, codes and times keep values.

Every log event, Sentry breadcrumb and Sentry extra passes through `redact`. A key not in
`SAFE_KEYS` keeps its name and loses its value ("[redacted]"), so a new log field shows up,
harmless, until someone who knows it holds no PHI adds it here. Exceptions are reduced to their
class, their MySQL error number and the code locations they passed through: an exception's
message can quote row values (a duplicate key, a bad string, a failed conversion), and frame
locals hold patient rows, so neither is ever written.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from types import TracebackType
from typing import Any

REDACTED = "[redacted]"

SAFE_KEYS = frozenset({
    # added by the logging pipeline itself
    "event", "level", "timestamp", "logger", "exception",
    # where: site, source, stream, job, run
    "site", "source", "sources", "source_id", "stream", "streams", "job", "jobs", "job_id",
    "run_id", "mode", "full", "kind", "kinds", "queue", "queues", "target", "action",
    "action_id", "pms_version", "version", "revision", "driver",
    # keys of PMS rows are opaque numbers, field names are the adapter's
    "keys", "key_count", "fields", "field",
    # counts and durations
    "count", "rows", "rows_read", "quarantined", "patients", "items", "attempt", "attempts",
    "seconds", "sleep", "duration", "statements", "batch_size", "opened", "changed",
    "contacted", "escalated", "resolved", "reopened", "pending", "sent", "dead",
    "actions", "claimed", "found", "retried", "waiting", "cancelled", "recovered", "files",
    "skipped", "folder", "unchanged", "inserted", "updated", "deleted", "rows_per_second",
    "percent", "first", "stages", "longest_statement_ms", "patients_read", "read_all", "quiet",
    "patients_moved", "runs_made", "cpu_seconds",
    "planned",
    # the first line of the adapter SQL that ran longest (its comment or its SELECT), never
    # its parameters
    "longest_statement",
    # outcomes and codes
    "outcome", "status", "reason", "error_class", "error_code", "code", "colour", "from",
    "to", "check_in", "monitor", "port", "host", "http_status", "signal",
})
"""Keys whose values never hold PHI. `reason` carries a health or resolution code written by
tc-sync, `host` the address the status server listens on, `folder` a configured output folder.
A key added here is a promise that no caller ever puts a patient's data under it."""

COUNT_MAPS = frozenset({"queues", "by_queue", "by_kind"})
"""Keys whose value may be a mapping of names tc-sync configured (queues, item kinds) to
numbers: the names and the numbers are kept, anything else under them is redacted. Queue names
come from the mappings file and kinds from tc-sync, never from a patient's row."""

_SHAPED_KEYS = {"error": re.compile(r"^[A-Za-z_][\w.]*( \(\d+\))?\s*$")}
"""Keys allowed only in a fixed shape: `error` as "ClassName (code)"."""

_EVENT_NAME = re.compile(r"^[A-Za-z_][\w.:-]{0,79}$")
_FOREIGN_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrifgexXoc%]")
_SCALARS = (bool, int, float, type(None))


def is_event_name(value: object) -> bool:
    """True for an identifier-like event name (`sync_finished`), never a sentence."""
    return isinstance(value, str) and bool(_EVENT_NAME.match(value))


def _safe_value(value: Any) -> Any:
    if isinstance(value, Enum):
        value = value.value
    result: Any = REDACTED
    if isinstance(value, (*_SCALARS, str)):
        result = value
    elif isinstance(value, datetime | date | time):
        result = value.isoformat()
    elif isinstance(value, timedelta):
        result = value.total_seconds()
    elif isinstance(value, Mapping):
        result = redact(value)
    elif isinstance(value, list | tuple):
        result = [_safe_value(item) for item in value]
    elif isinstance(value, set | frozenset):
        result = [_safe_value(item) for item in sorted(value, key=str)]
    return result


def redact(data: Mapping[Any, Any]) -> dict[str, Any]:
    """A copy of `data` in which only `SAFE_KEYS` keep their values (recursively)."""
    clean: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if name in COUNT_MAPS and isinstance(value, Mapping):
            clean[name] = {str(k): v if isinstance(v, int | float) and not isinstance(v, bool)
                           else REDACTED for k, v in value.items()}
        elif name in SAFE_KEYS:
            clean[name] = _safe_value(value)
        elif name in _SHAPED_KEYS and isinstance(value, str) and _SHAPED_KEYS[name].match(value):
            clean[name] = value
        else:
            clean[name] = REDACTED
    return clean


def foreign_event(template: object) -> str:
    """A third-party log message as its template only (`Job %s raised`): arguments dropped."""
    if not isinstance(template, str):
        return REDACTED
    return _FOREIGN_PLACEHOLDER.sub("…", template)[:200]


def error_code(error: BaseException) -> int | None:
    """A database error's number (MySQL's first argument), or None."""
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    orig = getattr(error, "orig", None)           # SQLAlchemy wraps the driver's error
    if isinstance(orig, BaseException) and orig is not error:
        return error_code(orig)
    return None


def error_chain(error: BaseException) -> list[BaseException]:
    """The error and its causes, oldest first (as Python prints them)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not other for other in seen):
        seen.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__)
    return seen[::-1]


def _frames(tb: TracebackType | None) -> list[str]:
    return [f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(tb)]


def describe_error(error: BaseException) -> dict[str, Any]:
    """Class, code and code locations of an error and its causes; never a message or a local."""
    return {"chain": [{"error_class": _qualified(link), "error_code": error_code(link),
                       "frames": _frames(link.__traceback__)} for link in error_chain(error)]}


def describe_error_text(described: Mapping[str, Any]) -> str:
    """`describe_error`'s result as a traceback-like text for the console."""
    lines: list[str] = []
    for link in described.get("chain", []):
        if lines:
            lines.append("  which led to:")
        lines.append("Exception trace (messages and local variables left out):")
        lines.extend(f"  {frame}" for frame in link["frames"])
        code = link["error_code"]
        lines.append(f"{link['error_class']}{f' ({code})' if code is not None else ''}")
    return "\n".join(lines)


def _qualified(error: BaseException) -> str:
    kind = type(error)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
