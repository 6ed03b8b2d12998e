"""Give memory the process freed back to the system (glibc only; elsewhere these do nothing).

A daemon's cycles run on scheduler threads, and glibc gives each thread that allocates at
once its own arena, which keeps what it freed for that thread: a 60,000-patient practice's
daemon held ~85 MB more than the same cycle run once (issue 17). `share_one_arena` makes the
threads share one (they take turns on the GIL anyway); `trim` hands back the free pages inside
the heap after a stage of a cycle, so the next stage starts from what is live.

`settle` keeps the garbage collector off what lives long: the queue rows a daemon keeps between
builds (a million objects at 60,000 patients) made every full collection cost ~0.4 s, about
every other build and during looks (issue 17).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import cache

_M_ARENA_MAX = -8
"""mallopt's parameter number for the most arenas (glibc's malloc.h)."""


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):    # musl (Alpine) has neither function
        return None
    return libc


def share_one_arena() -> bool:
    """Before any thread starts: every thread allocates from one arena. True if set."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, 1))


def trim() -> None:
    """Return the free pages of every arena to the system (a few ms)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def settle() -> None:
    """Collect every generation, then leave what is alive out of later collections (it is
    still freed when nothing refers to it). Called after a build that read every queue row
    (the first, hourly, a new day's): each call first puts back what the last one left out,
    so a cycle among those objects is found within the hour."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
