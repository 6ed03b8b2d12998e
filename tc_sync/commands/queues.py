"""`tc-sync queues build [--group]`: write the coordinators' work queues from the open items
now (with --group: every practice of the configuration together)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from tc_sync.config import Settings
from tc_sync.ledger.db import open_ledger
from tc_sync.queues.atomic import GroupError
from tc_sync.queues.build import PAGE, QueueBuild, build_queues, queues_folder
from tc_sync.queues.group import ALL_QUEUES, build_group_queues, group_folder

T = TypeVar("T")


def print_build(result: QueueBuild) -> None:
    """Where the queues are, what is in them, and any file left as it was."""
    print(f"work queues: {result.folder.resolve()}")
    for queue, count in result.queues.items():
        print(f"  {queue:<24} {count:>6,} open")
    top = sorted(p.name for p in result.written if p.parent == result.folder)
    elsewhere = sum(1 for p in result.written if p.parent != result.folder)
    more = f" (and {elsewhere} in the clinics' folders)" if elsewhere else ""
    if top or not result.unchanged:
        print(f"  files written: {', '.join(top) or 'none'}{more}")
    if result.unchanged:
        print(f"  {len(result.unchanged)} file(s) unchanged since the last build, left as they "
              "were")
    page = result.folder / PAGE
    if page in result.written or page in result.unchanged:
        print(f"  open in a browser: {page.resolve().as_uri()}")
    for path, why in result.skipped.items():
        print(f"  not written: {path.relative_to(result.folder)}: {why}")


def _made(settings: Settings, target: Path, what: str, make: Callable[[sa.Engine], T]
          ) -> tuple[T | None, int]:
    """`make`'s result, or None and the exit code (2: queues.group names no group; 1: a file
    could not be written) after saying why."""
    engine = open_ledger(settings.ledger.url)
    try:
        return make(engine), 0
    except GroupError as error:
        print(f"tc-sync: {error}", file=sys.stderr)
        return None, 2
    except OSError as error:
        print(f"tc-sync: cannot write {what} to {target}: "
              f"{error.strerror or type(error).__name__}; check queues.folder and that this "
              "account may write there", file=sys.stderr)
        return None, 1
    finally:
        engine.dispose()


def build(settings: Settings, folder: Path | None = None) -> int:
    """Write every configured format now (even unchanged files); 1 if a file could not be
    replaced, 2 if queues.group names no group."""
    target = folder or queues_folder(settings)
    result, code = _made(settings, target, "the work queues", lambda engine: build_queues(
        engine, settings, folder=target, force=True))
    if result is None:
        return code
    print_build(result)
    return 1 if result.skipped else 0


def build_group(settings: Settings, folder: Path | None = None) -> int:
    """Write the group's queues (every enabled source) and per-practice totals now; exit codes
    as `build`."""
    target = folder or group_folder(settings)
    result, code = _made(settings, target, "the group's work queues",
                         lambda engine: build_group_queues(engine, settings, folder=target,
                                                           force=True))
    if result is None:
        return code
    print_build(result.queues)
    print("  per practice (open items, amount; each dollar once per practice):")
    for total in result.totals:
        if total.queue == ALL_QUEUES:
            print(f"    {total.practice:<22} {total.tally.items:>7,} open  "
                  f"${total.tally.amount:>12,.2f}")
    print(f"  totals: {', '.join(path.name for path in result.files)}")
    return 1 if result.queues.skipped else 0
