"""Replace a file in one step, so nobody ever opens a half-written queue on the shared drive."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_PREFIX = ".tc-sync-"
TEMP_SUFFIX = ".tmp"
_NEW_FILE_MODE = 0o644


def write_atomic(path: Path, content: bytes | Iterable[bytes]) -> None:
    """Write `content` (bytes, or pieces of them as they are made) to `path` through a
    temporary file beside it, flushed, then renamed.

    Readers see the old file or the new one, never part of one. The new file keeps the mode of
    the one it replaces (a new file is readable by everyone who can open the folder: the
    folder's own permissions decide who that is).
    """
    descriptor, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.",
                                        suffix=TEMP_SUFFIX, dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                handle.writelines(content)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(_mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _NEW_FILE_MODE


def remove_leftovers(folder: Path, older_than_seconds: float = 3600) -> int:
    """Delete temporary files a crash left in `folder` (only ours, only old ones)."""
    removed = 0
    cutoff = time.time() - older_than_seconds
    for leftover in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
                removed += 1
        except OSError:
            continue    # another process took it, or the share is read-only: harmless
    return removed
