"""A ZIP file written member by member, each deflated at the fastest level as its pieces
stream in, by the fastest deflate installed (`tc_sync.queues.deflate`).

The workbook is a ZIP of XML. `zipfile` deflates a member opened for writing at zlib's
default level (6) whatever the file's `compresslevel` says, and only with zlib: the 42 MB of
sheet XML of a 60,000-patient workbook took 0.48 s of every build there, and take about
0.05 s here, to a file about a third larger (issue 17). Members are small enough for ZIP's
classic 32-bit sizes; a member that is not raises rather than write a broken file.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

from tc_sync.queues.deflate import DEFLATE

LEVEL = 1
"""The fastest level that still deflates (ISA-L's 0 is faster, at a third more bytes)."""
_LIMIT = 0xFFFFFFFF
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_VERSION = 20           # 2.0: deflate
_DEFLATED = 8
_UTF8_NAME = 0x800


class Output(Protocol):
    """Where a ZIP is written: a binary file, or anything that takes bytes as one does."""

    def write(self, data: bytes, /) -> int: ...

    def writelines(self, lines: Iterable[bytes], /) -> None: ...


@dataclass(frozen=True)
class _Entry:
    name: bytes
    flags: int
    dos_time: int
    dos_date: int
    crc: int
    compressed: int
    size: int
    external_attr: int
    made_by: int
    offset: int


class ZipWriter:
    """Write members one after another into `output`, then `close` to write the directory."""

    def __init__(self, output: Output, deflate: ModuleType | None = None) -> None:
        self._output = output
        self._deflate = deflate or DEFLATE
        self._entries: list[_Entry] = []
        self._offset = 0

    def add(self, name: str, pieces: Iterable[bytes],
            date_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0),
            external_attr: int = 0, create_system: int = 0) -> None:
        """A member holding `pieces` joined, deflated as they come. `external_attr` and
        `create_system` as `zipfile.ZipInfo` has them (3: Unix, its mode in the top bits)."""
        deflate = self._deflate
        compressor = deflate.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        chunks: list[bytes] = []
        crc = size = 0
        for piece in pieces:
            crc = deflate.crc32(piece, crc)
            size += len(piece)
            chunks.append(compressor.compress(piece))
        chunks.append(compressor.flush())
        compressed = sum(map(len, chunks))
        if size >= _LIMIT or compressed >= _LIMIT or self._offset >= _LIMIT:
            raise ValueError(f"{name} is too large for a ZIP without ZIP64")
        encoded, flags = _encoded(name)
        year, month, day, hour, minute, second = date_time
        entry = _Entry(encoded, flags, hour << 11 | minute << 5 | second // 2,
                       (year - 1980) << 9 | month << 5 | day, crc, compressed, size,
                       external_attr, create_system << 8 | _VERSION, self._offset)
        header = _LOCAL.pack(0x04034B50, _VERSION, flags, _DEFLATED, entry.dos_time,
                             entry.dos_date, crc, compressed, size, len(encoded), 0) + encoded
        self._output.write(header)
        self._output.writelines(chunks)
        self._offset += len(header) + compressed
        self._entries.append(entry)

    def close(self) -> None:
        """Write the central directory: the file is whole from here on."""
        start = self._offset
        directory = b"".join(
            _CENTRAL.pack(0x02014B50, entry.made_by, _VERSION, entry.flags, _DEFLATED,
                          entry.dos_time, entry.dos_date, entry.crc, entry.compressed,
                          entry.size, len(entry.name), 0, 0, 0, 0, entry.external_attr,
                          entry.offset) + entry.name
            for entry in self._entries)
        if len(self._entries) > 0xFFFF or start + len(directory) >= _LIMIT:
            raise ValueError("too many members for a ZIP without ZIP64")
        self._output.write(directory)
        self._output.write(_END.pack(0x06054B50, 0, 0, len(self._entries), len(self._entries),
                                     len(directory), start, 0))


def _encoded(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_NAME
