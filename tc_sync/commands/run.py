"""`tc-sync run`: the daemon, until stopped."""

from __future__ import annotations

import sys

from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.mappings import MappingsKeeper
from tc_sync.runtime.daemon import Daemon
from tc_sync.runtime.lock import AlreadyRunning, DaemonLock


def run_daemon(settings: Settings) -> int:
    if not settings.sources:
        print("tc-sync: the configuration has no sources to sync", file=sys.stderr)
        return 2
    mappings = MappingsKeeper(settings.mappings_file)
    engine = open_ledger(settings.ledger.url)
    try:
        with DaemonLock(engine, list(settings.sources)):
            print(f"tc-sync: running {len(settings.sources)} source(s); stop with Ctrl+C "
                  "or SIGTERM", flush=True)
            Daemon(engine, settings, mappings).run()
    except AlreadyRunning as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print("tc-sync: stopped", flush=True)
    return 0
