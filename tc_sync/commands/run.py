"""`tc-sync run`: the daemon, until stopped."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

from tc_sync.config import Settings
from tc_sync.config.mappings_file import MappingsKeeper
from tc_sync.ledger.upgrade import open_ledger_apart
from tc_sync.memory import share_one_arena
from tc_sync.observability import logs
from tc_sync.observability.sentry import flush_sentry, init_sentry
from tc_sync.push.health_alerts import health_alerter
from tc_sync.runtime.daemon import Daemon, stop_on_signals
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock
from tc_sync.runtime.selection import SelectionError, select_sources


def run_daemon(settings: Settings, only: Sequence[str] | None = None) -> int:
    """Sync the enabled sources of `settings` (or the `only` ones) on schedule until stopped;
    the exit code."""
    whole = settings
    if only:
        try:
            settings = select_sources(settings, only)
        except SelectionError as error:
            print(f"tc-sync: {error}", file=sys.stderr)
            return 2
    syncing = [source_id for source_id, source in settings.sources.items() if source.enabled]
    if not syncing:
        print("tc-sync: the configuration has no enabled sources to sync", file=sys.stderr)
        return 2
    share_one_arena()       # before the first thread: see tc_sync/memory.py
    _observe(settings)
    stop = threading.Event()   # a stop while the lease is taken or the daemon made still counts
    stop_on_signals(stop)
    mappings = MappingsKeeper(settings.mappings_file)
    engine = open_ledger_apart(settings.ledger.url, settings.ledger.connections)
    daemons: list[Daemon] = []
    lost: list[str] = []

    def give_up(sources: list[str]) -> None:   # another daemon took them: stop syncing at once
        lost.extend(sources)
        for daemon in daemons:
            daemon.request_stop()

    try:
        with DaemonLock(engine, syncing, lease_seconds=settings.ledger.lease_seconds,
                        on_lost=give_up):
            status = (f"; status at http://{settings.http.host}:{settings.http.port}/healthz"
                      if settings.http.enabled else "")
            print(f"tc-sync: running {len(syncing)} source(s) ({', '.join(syncing)}){status}; "
                  "stop with Ctrl+C or SIGTERM", flush=True)
            daemons.append(Daemon(engine, settings, mappings,
                                  on_health_change=health_alerter(engine, settings),
                                  group=whole, stop=stop))
            daemons[0].run(install_signals=False)
    except AlreadyRunning as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
        flush_sentry()
    if lost:
        print(f"tc-sync: stopped: another daemon took source(s) {', '.join(lost)} after this "
              "one could not renew its lease in time", file=sys.stderr)
        return 1
    print("tc-sync: stopped", flush=True)
    return 0


def _observe(settings: Settings) -> None:
    """The JSON log file and Sentry; a problem with either is said once and syncing goes on."""
    path = logs.default_log_file(settings)
    try:
        logs.log_to_file(path, settings.logging)
        print(f"tc-sync: logging to {path}", flush=True)
    except OSError as error:
        print(f"tc-sync: cannot write the log file {path} ({error.strerror}); set logging.file "
              "to a folder this account may write; logging to the console only",
              file=sys.stderr)
    try:
        init_sentry(settings)
    except Exception as error:  # sentry_sdk raises its own BadDsn for a malformed DSN
        print(f"tc-sync: the Sentry DSN cannot be used ({type(error).__name__}); going on "
              "without Sentry", file=sys.stderr)
