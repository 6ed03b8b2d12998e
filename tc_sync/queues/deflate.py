"""The fastest deflate installed: ISA-L's (the `isal` package, in the `fast` extra), else zlib.

Both have zlib's interface and formats. ISA-L's level 1 deflates about three times as fast as
zlib's, to much the same size, and inflates about twice as fast: the workbook's ZIP is written
with it (the runs kept between builds are LZ4, `tc_sync.queues.runs`).
"""

from __future__ import annotations

import zlib
from types import ModuleType


def fastest_deflate() -> ModuleType:
    """ISA-L's deflate (`isal.isal_zlib`) if installed, else zlib."""
    try:
        from isal import isal_zlib
    except ImportError:     # the `fast` extra is not installed
        return zlib
    return isal_zlib


DEFLATE = fastest_deflate()
