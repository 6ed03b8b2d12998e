"""The workbook's ZIP writer: what it writes reads back, checksums and all, with ISA-L's deflate
and with zlib's (a site without the `fast` extra)."""

from __future__ import annotations

import io
import random
import sys
import zipfile
import zlib
from types import ModuleType

import pytest
from isal import isal_zlib

from tc_sync.queues import zip_writer
from tc_sync.queues.deflate import fastest_deflate
from tc_sync.queues.zip_writer import ZipWriter


def _written(members: dict[str, list[bytes]], deflate: ModuleType) -> bytes:
    output = io.BytesIO()
    writer = ZipWriter(output, deflate)
    for name, pieces in members.items():
        writer.add(name, iter(pieces), (2026, 12, 6, 7, 45, 31), 0o100640 << 16, 3)
    writer.close()
    return output.getvalue()


@pytest.mark.parametrize("deflate", [isal_zlib, zlib], ids=["isal", "zlib"])
def test_what_is_written_reads_back_whole_with_right_checksums(deflate):
    rng = random.Random(3)
    sheet = [b"<row>%d</row>" % rng.randrange(10**9) * 2000 for _ in range(50)]
    members = {"[Content_Types].xml": [b"<Types/>"], "xl/worksheets/sheet2.xml": sheet,
               "xl/empty.xml": [], "docProps/caf\u00e9.xml": ["caf\u00e9".encode()]}
    data = _written(members, deflate)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None                    # every member's CRC matches
        assert archive.namelist() == list(members)
        for name, pieces in members.items():
            assert archive.read(name) == b"".join(pieces)
        info = archive.getinfo("xl/worksheets/sheet2.xml")
        assert info.date_time == (2026, 12, 6, 7, 45, 30)    # DOS time: two-second steps
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.compress_size < info.file_size / 2
        assert (info.external_attr, info.create_system) == (0o100640 << 16, 3)   # Unix mode


def test_the_fast_deflate_is_used_where_installed_and_zlib_otherwise(monkeypatch):
    assert fastest_deflate() is isal_zlib
    monkeypatch.setitem(sys.modules, "isal", None)      # as if it were not installed
    assert fastest_deflate() is zlib


def test_a_member_too_large_for_classic_zip_is_refused_not_written_broken(monkeypatch):
    monkeypatch.setattr(zip_writer, "_LIMIT", 1000)
    writer = ZipWriter(io.BytesIO())
    with pytest.raises(ValueError, match=r"sheet2\.xml is too large"):
        writer.add("xl/worksheets/sheet2.xml", [b"x" * 1000])
