"""What `tc-sync doctor` concludes from what it measured: pure functions, each a finding.

A finding is ok, warn or fail, with a sentence saying what was found and, unless ok, a
plain-language fix an IT person can carry out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["ok", "warn", "fail"]

READ_ONLY_PRIVILEGES = frozenset({"SELECT", "SHOW VIEW", "USAGE"})
CLOCK_TOLERANCE = timedelta(minutes=1)
DISK_WARN_BYTES = 2 * 1024**3
DISK_FAIL_BYTES = 256 * 1024**2

_GRANT = re.compile(r"^\s*GRANT\s+(?P<privileges>.+?)\s+ON\s+(?P<target>.+?)\s+TO\s+",
                    re.IGNORECASE | re.DOTALL)
_GRANT_OPTION = re.compile(r"\bWITH\b.*\bGRANT\s+OPTION\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    area: str
    status: Status
    summary: str
    fix: str | None = None


def extra_privileges(grants: list[str]) -> list[str]:
    """From SHOW GRANTS lines, each privilege beyond reading, as 'PRIVILEGE on target'.

    Column lists (`SELECT (a, b)`) are read as the privilege alone; a role granted to the user
    (`GRANT role TO user`) has no ON clause: its own privileges are listed by SHOW GRANTS too.
    """
    extra: list[str] = []
    for line in grants:
        match = _GRANT.match(line)
        if match is None:
            continue
        target = match.group("target").strip()
        privileges = re.sub(r"\([^)]*\)", "", match.group("privileges"))
        for privilege in privileges.split(","):
            name = " ".join(privilege.split()).upper()
            if name and name not in READ_ONLY_PRIVILEGES:
                extra.append(f"{name} on {target}")
        if _GRANT_OPTION.search(line):
            extra.append(f"GRANT OPTION on {target}")
    return extra


def grants_finding(area: str, user: str, database: str, grants: list[str]) -> Finding:
    """Whether the PMS user can only read."""
    extra = extra_privileges(grants)
    if not extra:
        return Finding(area, "ok", f"the user {user} can only read")
    shown = ", ".join(extra[:6]) + (f" and {len(extra) - 6} more" if len(extra) > 6 else "")
    return Finding(
        area, "warn", f"the user {user} can do more than read: {shown}",
        "tc-sync only reads the PMS database. Give it a user that cannot change anything: as "
        "a MySQL administrator run  CREATE USER 'tc_sync_ro'@'%' IDENTIFIED BY '<new "
        f"password>';  GRANT SELECT, SHOW VIEW ON `{database}`.* TO 'tc_sync_ro'@'%';  then "
        "put that user in connection.user and its password in the secret. (Until then "
        "tc-sync's own sessions are still read-only.)")


def clock_finding(area: str, server_utc: datetime, local_utc: datetime) -> Finding:
    """Whether the PMS server's clock and this machine's agree within a minute."""
    skew = server_utc - local_utc
    seconds = abs(skew.total_seconds())
    if abs(skew) <= CLOCK_TOLERANCE:
        return Finding(area, "ok", f"the PMS server's clock and this machine's agree "
                                   f"(within {max(1, round(seconds))} s)")
    ahead = "ahead of" if skew > timedelta(0) else "behind"
    return Finding(
        area, "warn", f"the PMS server's clock is {_duration(seconds)} {ahead} this machine's",
        "turn on automatic time synchronisation on both machines (Windows: Settings > Time & "
        "language > Set time automatically, or `w32tm /resync` as administrator; Linux: "
        "`timedatectl set-ntp true`). tc-sync compares PMS times only with the PMS clock, but "
        "health colours and alerts use this machine's.")


def zone_finding(area: str, server_offset: timedelta, practice_offset: timedelta,
                 zone: str) -> Finding | None:
    """A warning when the PMS server's local time is not the configured time zone's."""
    difference = server_offset - practice_offset
    if abs(difference) < timedelta(minutes=15):
        return None
    hours = difference.total_seconds() / 3600
    return Finding(
        area, "warn", f"the PMS server's local time is {hours:+g} h from {zone}, the time zone "
        "in the configuration",
        "set `timezone` in the configuration to the practice's zone (the one the PMS server's "
        "clock shows), e.g. America/Chicago; due dates and \"today\" follow it")


def disk_finding(area: str, folder: str, free_bytes: int, writable: bool) -> Finding:
    """Whether a folder tc-sync writes to has room and may be written."""
    free = _size(free_bytes)
    if not writable:
        return Finding(area, "fail", f"{folder} cannot be written by this account",
                       "give the account tc-sync runs as write access to that folder, or point "
                       "the setting at a folder it owns")
    if free_bytes < DISK_FAIL_BYTES:
        return Finding(area, "fail", f"only {free} free for {folder}",
                       "free disk space now: tc-sync stops writing when the disk is full")
    if free_bytes < DISK_WARN_BYTES:
        return Finding(area, "warn", f"{free} free for {folder}",
                       "free some disk space or move the folder to a larger disk; a full sync "
                       "of a large practice needs a few GB")
    return Finding(area, "ok", f"{free} free for {folder}")


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    return f"{count / 1024**2:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def share_finding(area: str, folder: str, *, problem: str | None, others_mode: int | None,
                  exposed_files: int, windows: bool) -> Finding:
    """Whether the folder the coordinators open can be written, and is closed to other users.

    `problem` is why a file could not be written there (None: it could); `others_mode` the
    folder's permission bits for other users (None: the folder is not there yet, or Windows).
    """
    if problem is not None:
        return Finding(area, "fail", f"{folder} cannot be written: {problem}",
                       "create the folder and give the account tc-sync runs as write access "
                       "(docs/INSTALL.md, 'Folders and permissions'), or set queues.folder to "
                       "one it may write")
    if windows:
        return Finding(area, "ok", f"{folder} is writable; who may read it is the folder's ACL "
                       "(docs/INSTALL.md, 'Folders and permissions')")
    if others_mode or exposed_files:
        what = (f"{folder} is open to every account on this machine" if others_mode else
                f"{exposed_files} file(s) in {folder} are readable by every account")
        return Finding(area, "warn", f"{what}: the queues hold patients' names and phones",
                       f"chmod -R o-rwx {folder}; give the coordinators a group instead "
                       "(queues.group, docs/INSTALL.md 'Folders and permissions')")
    return Finding(area, "ok", f"{folder} is writable and closed to other users")
