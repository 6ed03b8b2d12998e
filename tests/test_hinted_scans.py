"""Which streams a scan leaves to the change hints: each walked once a period, spread out."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from tc_sync.adapter.loading import load_adapter
from tc_sync.pull.cursors import Cursor, Pull
from tc_sync.pull.hinted_scans import HINTS_KEEPING_UP, HintedScans, is_hinted

STREAMS = {stream.name: stream for stream in load_adapter("opendental").streams("24.3.10.0")}
HALF_HOUR = timedelta(minutes=30)
NOON = datetime(2026, 12, 7, 12, 0)
INTERVAL = timedelta(minutes=5)
LAG = timedelta(minutes=2)


def scans(hours: int = 3) -> list[datetime]:
    """A scan every five minutes for three hours after the first sync, at noon."""
    return [NOON + n * INTERVAL for n in range(1, hours * 12 + 1)]


def walks(phase: float, read_to_lag: timedelta = timedelta(seconds=30)) -> list[datetime]:
    """When a hinted stream is walked over three hours of scans, its last walk's cursor
    standing two minutes before the walk began (the safety lag)."""
    walked = [NOON]
    for now in scans():
        view = HintedScans(HALF_HOUR, now - read_to_lag, now, LAG)
        cursor = Cursor(since=walked[-1] - LAG)
        if not view.defers(STREAMS["procedures"], cursor, phase):
            walked.append(now)
    return walked[1:]


def test_only_the_streams_the_hints_reread_are_ever_deferred():
    hinted = {name for name, stream in STREAMS.items() if is_hinted(stream)}
    assert {"procedures", "appointments", "claims", "claim_procedures"} <= hinted
    assert not hinted & {"lab_cases", "benefits", "claim_tracking", "definitions"}
    view = HintedScans(timedelta(days=365_000), NOON, NOON)
    walked = Cursor(since=NOON - timedelta(minutes=7))
    assert view.defers(STREAMS["procedures"], walked, 0.3)
    assert not view.defers(STREAMS["lab_cases"], walked, 0.3)


def test_a_hinted_stream_is_walked_once_in_each_period():
    walked = walks(phase=0.0)
    assert len(walked) == 6                        # three hours, one walk in each half hour
    assert {later - earlier for earlier, later in pairwise(walked)} == {HALF_HOUR}


def test_the_streams_walks_are_spread_over_the_scans():
    firsts = {walks(phase=index / 4)[0] for index in range(4)}
    assert len(firsts) == 4                        # four streams: four different scans


def test_every_scan_walks_it_while_the_hints_are_behind():
    behind = HINTS_KEEPING_UP + timedelta(seconds=1)
    assert walks(phase=0.5, read_to_lag=behind) == scans()


def test_a_walk_cut_short_or_never_made_is_not_deferred():
    view = HintedScans(timedelta(days=365_000), NOON, NOON)
    procedures = STREAMS["procedures"]
    unfinished = Pull(mode="incremental", since=NOON - HALF_HOUR, started_at=NOON,
                      after_key=500, until_key=9_000)
    assert not view.defers(procedures, Cursor(since=NOON - HALF_HOUR, pull=unfinished), 0.0)
    assert not view.defers(procedures, Cursor(), 0.0)
    assert not HintedScans(timedelta(days=365_000), None, NOON).defers(
        procedures, Cursor(since=NOON - INTERVAL), 0.0)
    assert not HintedScans(timedelta(0), NOON, NOON).defers(
        procedures, Cursor(since=NOON - INTERVAL), 0.0)
