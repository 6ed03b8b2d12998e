"""Replace a file in one step, so nobody ever opens a half-written queue on the shared drive.

Files hold patient names, so a new file is readable by its owner and one group only (0640),
never by every account on the machine; `group` (a group id) gives it to the coordinators'
group. On Windows the mode bits mean nothing: the folder's ACL decides (docs/INSTALL.md).
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_PREFIX = ".tc-sync-"
TEMP_SUFFIX = ".tmp"
NEW_FILE_MODE = 0o640
NEW_FOLDER_MODE = 0o750
_NOT_OTHERS = 0o770
_OWNER_WRITES = 0o600


class GroupError(ValueError):
    """A configured group does not exist on this machine; the message says what to do."""


def group_id(name: str | None, setting: str = "queues.group") -> int | None:
    """The id of group `name` (None for none, or on Windows); raises GroupError if unknown."""
    if name is None or os.name == "nt":
        return None
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        if name.isdigit():
            return int(name)
        raise GroupError(f"there is no group '{name}' on this machine: create it (groupadd "
                         f"{name}) and add the coordinators' accounts, or correct {setting}"
                         ) from None


def write_atomic(path: Path, content: bytes | Iterable[bytes], *,
                 group: int | None = None) -> None:
    """Write `content` (bytes, or pieces of them as they are made) to `path` through a
    temporary file beside it, flushed, then renamed.

    Readers see the old file or the new one, never part of one. A new file is 0640; one that
    replaces another keeps its mode, less any permission for other users.
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
        if group is not None:
            os.chown(temporary, -1, group)
        temporary.chmod(_mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def same_content(path: Path, content: bytes) -> bool:
    """True when `path` already holds exactly `content` (so it need not be replaced)."""
    try:
        if path.stat().st_size != len(content):
            return False
        return path.read_bytes() == content
    except OSError:
        return False


def make_folder(folder: Path, group: int | None = None) -> None:
    """Create `folder` (and its parents) if missing: 0750, its group `group` with set-group-id
    so the files made in it stay the group's. An existing folder is left as its admin set it."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "nt":
        return
    mode = NEW_FOLDER_MODE
    if group is not None:
        os.chown(folder, -1, group)
        mode |= stat.S_ISGID
    folder.chmod(mode)


def _mode_for(path: Path) -> int:
    try:
        return (stat.S_IMODE(path.stat().st_mode) & _NOT_OTHERS) | _OWNER_WRITES
    except FileNotFoundError:
        return NEW_FILE_MODE


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
