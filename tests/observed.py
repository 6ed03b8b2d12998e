"""Helpers for tests that switch on the daemon's logging or Sentry (both are process-wide)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import sentry_sdk

from tc_sync.observability import logs


def reset() -> None:
    """Back to console-only logging and no Sentry client, as a fresh process starts."""
    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)
    logs.configure(0)


def json_lines(folder: Path) -> list[dict[str, Any]]:
    """Every event in every log file of a folder (rotated ones too); each line must be JSON."""
    events: list[dict[str, Any]] = []
    for path in sorted(folder.glob("tc-sync.log*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            events.append(json.loads(line))
    return events


def log_text(folder: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8")
                     for path in sorted(folder.glob("tc-sync.log*")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
