"""Logging set-up: readable lines on the console and, for the daemon, a rotating JSON-lines file.

Every event, ours or a library's, passes the PHI allowlist (`tc_sync.observability.redact`)
before any handler sees it: only known-safe keys keep their values, an event name is an
identifier (never a sentence with data in it), a library's message is kept as its template
without arguments, and an exception is written as its class, error number and code locations,
without its message or local variables.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from tc_sync.observability.redact import (
    REDACTED,
    describe_error,
    describe_error_text,
    foreign_event,
    is_event_name,
    redact,
)

if TYPE_CHECKING:
    from tc_sync.config import Settings
    from tc_sync.config.observability import LoggingSettings

LOG_FILE_NAME = "tc-sync.log"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_QUIET_LIBRARIES = ("apscheduler", "alembic", "sqlalchemy", "sentry_sdk", "urllib3", "httpx",
                    "httpcore")
_MARKER = "_tc_sync_handler"
"""Set on the handlers tc-sync installs, so a new configuration replaces only those."""


@dataclass
class _Setup:
    console_level: int = logging.WARNING
    file: Path | None = None
    file_level: int = logging.INFO
    max_bytes: int = 10 * 1024 * 1024
    backups: int = 10
    extra: list[Processor] = field(default_factory=list)


_setup = _Setup()


def configure(verbosity: int = 0) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv (no file)."""
    global _setup  # noqa: PLW0603 - logging is process-wide by nature
    _setup = _Setup(console_level={0: logging.WARNING, 1: logging.INFO}.get(
        verbosity, logging.DEBUG))
    _apply()


def log_to_file(path: Path, settings: LoggingSettings) -> None:
    """Also write JSON lines to `path`, rotated at `settings.max_bytes`; raises OSError when
    the file cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8"):
        pass
    _setup.file = path
    _setup.file_level = _LEVELS[settings.level]
    _setup.max_bytes = settings.max_bytes
    _setup.backups = settings.backups
    _apply()


def add_processor(processor: Processor) -> None:
    """Run `processor` on every (already redacted) event of ours, e.g. to forward to Sentry."""
    if processor not in _setup.extra:
        _setup.extra.append(processor)
        _apply()


def default_log_file(settings: Settings) -> Path:
    """Where the daemon's log file goes when `logging.file` is not set."""
    if settings.logging.file is not None:
        return settings.logging.file
    if os.environ.get("LOGS_DIRECTORY"):            # systemd LogsDirectory=
        return Path(os.environ["LOGS_DIRECTORY"].split(":")[0]) / LOG_FILE_NAME
    url = settings.ledger.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).resolve().parent / "logs" / LOG_FILE_NAME
    if os.environ.get("STATE_DIRECTORY"):           # systemd StateDirectory=
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0]) / "logs" / LOG_FILE_NAME
    return Path.cwd() / "logs" / LOG_FILE_NAME


def redact_phi(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the allowlist, applied to one event."""
    exc_info = event_dict.pop("exc_info", None)
    event_dict.pop("stack_info", None)             # tc-sync does not use it
    record = event_dict.pop("_record", None)
    from_structlog = event_dict.pop("_from_structlog", True)
    event_dict.pop("positional_args", None)
    clean = redact(event_dict)
    if not from_structlog and record is not None:
        clean["event"] = foreign_event(record.msg)
    elif not is_event_name(clean.get("event")):
        clean["event"] = REDACTED
    if record is not None:
        clean["_record"] = record
        clean["_from_structlog"] = from_structlog
    error = _error(exc_info)
    if error is not None:
        clean["exc_info"] = error                   # resolved now, while it is being handled
    return clean


def _error(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1],
                                                                           BaseException):
        return exc_info[1]
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def render_exception(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: `exc_info` becomes `exception`, a dict of classes, codes and
    places (so no handler ever holds the exception object, or its message)."""
    error = _error(event_dict.pop("exc_info", None))
    if error is not None:
        event_dict["exception"] = describe_error(error)
    return event_dict


def _exception_as_text(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    if isinstance(event_dict.get("exception"), dict):
        event_dict["exception"] = describe_error_text(event_dict["exception"])
    return event_dict


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_phi,
    ]


def _formatter(*renderer: Processor) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(), render_exception], use_get_message=False,
        pass_foreign_args=False,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer])


_FIRST = ("timestamp", "level", "event", "logger")
_json = structlog.processors.JSONRenderer()


def _json_line(logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
    """One JSON object per line, the time, level and event first."""
    ordered = {key: event_dict.pop(key) for key in _FIRST if key in event_dict}
    ordered.update(event_dict)
    return str(_json(logger, name, ordered))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is written (a test may have swapped it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The JSON log file. When it cannot be written (its disk full, its folder gone), this says
    so once on stderr, instead of a traceback for every line, drops lines until it can write
    again, then says that too; a line cut short by the full disk is removed."""

    failing = False
    _failed_now = False

    def emit(self, record: logging.LogRecord) -> None:
        self._failed_now = False
        super().emit(record)
        if self.failing and not self._failed_now:
            self.failing = False
            sys.stderr.write(f"tc-sync: the log file {self.baseFilename} is written again\n")

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        self._failed_now = True
        stream, self.stream = self.stream, None      # reopened (appending) at the next line
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
        if not self.failing:
            self.failing = True
            sys.stderr.write(f"tc-sync: cannot write the log file {self.baseFilename} "
                             f"({error.strerror or type(error).__name__}); its lines are "
                             "dropped until it can be written again\n")

    def _open(self) -> Any:
        self._drop_cut_line()
        return super()._open()

    def _drop_cut_line(self) -> None:
        """Remove a last line the full disk cut short, so that every line stays whole JSON."""
        with contextlib.suppress(OSError), open(self.baseFilename, "r+b") as written:
            size = written.seek(0, os.SEEK_END)
            tail = min(size, 1 << 16)
            written.seek(size - tail)
            chunk = written.read(tail)
            if chunk.endswith(b"\n") or not chunk:
                return
            cut = chunk.rfind(b"\n")
            if cut >= 0 or tail == size:
                written.truncate(size - tail + cut + 1)


def _apply() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARKER, False):
            root.removeHandler(handler)
            handler.close()
    console = _StderrHandler()
    console.setLevel(_setup.console_level)
    console.setFormatter(_formatter(_exception_as_text,
                                    structlog.dev.ConsoleRenderer(colors=False)))
    handlers: list[logging.Handler] = [console]
    if _setup.file is not None:
        file = _LogFile(
            _setup.file, maxBytes=_setup.max_bytes, backupCount=_setup.backups,
            encoding="utf-8", delay=True)
        file.setLevel(_setup.file_level)
        file.setFormatter(_formatter(_json_line))
        handlers.append(file)
    for handler in handlers:
        setattr(handler, _MARKER, True)
        root.addHandler(handler)
    lowest = min(handler.level for handler in handlers)
    root.setLevel(lowest)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(lowest, logging.WARNING))
    structlog.configure(
        processors=[*_shared(), *_setup.extra, render_exception,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(lowest),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
