"""Cursor arithmetic: which rows the next pull reads, and how a cut-short pull resumes."""

from datetime import datetime, timedelta

from tc_sync.pull.cursors import (
    Cursor,
    Pull,
    advance,
    batch_end,
    begin_pull,
    finish,
    window,
    windows,
)

NOON = datetime(2026, 11, 26, 12, 0, 0)
LAG = timedelta(minutes=2)


def test_a_stream_never_pulled_gets_a_full_pull_of_every_key_present_now():
    pull = begin_pull(Cursor(), full=False, incremental_stream=True, now=NOON, max_key=500)
    assert pull.mode == "full"
    assert pull.since is None
    assert (pull.after_key, pull.until_key) == (0, 500)


def test_after_a_pull_the_next_one_rereads_from_shortly_before_it_began():
    pull = Pull("full", None, NOON, after_key=500, until_key=500)
    cursor = finish(Cursor(), pull, LAG)
    assert cursor.since == NOON - LAG
    assert cursor.last_full_pull == NOON
    following = begin_pull(cursor, full=False, incremental_stream=True,
                           now=NOON + timedelta(minutes=5), max_key=510)
    assert following.mode == "incremental"
    assert following.since == NOON - LAG


def test_a_stream_without_a_cursor_column_is_always_read_whole():
    cursor = Cursor(since=NOON)
    pull = begin_pull(cursor, full=False, incremental_stream=False, now=NOON, max_key=9)
    assert pull.mode == "full"


def test_an_unfinished_pull_resumes_where_its_last_batch_committed():
    unfinished = Pull("incremental", NOON - LAG, NOON, after_key=300, until_key=900)
    cursor = Cursor(since=NOON - LAG, pull=unfinished)
    resumed = begin_pull(cursor, full=False, incremental_stream=True,
                         now=NOON + timedelta(hours=1), max_key=1000)
    assert resumed == unfinished


def test_a_full_request_replaces_an_unfinished_incremental_pull():
    unfinished = Pull("incremental", NOON - LAG, NOON, after_key=300, until_key=900)
    pull = begin_pull(Cursor(since=NOON - LAG, pull=unfinished), full=True,
                      incremental_stream=True, now=NOON, max_key=1000)
    assert (pull.mode, pull.after_key, pull.until_key) == ("full", 0, 1000)


def test_an_unfinished_full_pull_is_finished_before_incremental_pulls_resume():
    unfinished = Pull("full", None, NOON, after_key=300, until_key=900)
    pull = begin_pull(Cursor(since=NOON, pull=unfinished), full=False,
                      incremental_stream=True, now=NOON, max_key=1000)
    assert pull == unfinished


def test_incremental_windows_bound_the_keys_one_statement_scans():
    pull = Pull("incremental", NOON, NOON, after_key=0, until_key=120_000)
    assert window(pull, 50_000) == (0, 50_000)
    assert window(advance(pull, 100_000), 50_000) == (100_000, 120_000)
    full = Pull("full", None, NOON, after_key=0, until_key=120_000)
    assert window(full, 50_000) == (0, 120_000)


def test_consecutive_incremental_windows_are_read_side_by_side_up_to_the_frozen_end():
    pull = Pull("incremental", NOON, NOON, after_key=10_000, until_key=120_000)
    assert windows(pull, 50_000, 2) == [(10_000, 60_000), (60_000, 110_000)]
    assert windows(advance(pull, 110_000), 50_000, 2) == [(110_000, 120_000)]
    assert windows(pull, 50_000, 1) == [(10_000, 60_000)]


def test_a_full_pull_reads_one_window_at_a_time_because_limit_decides_where_it_ends():
    full = Pull("full", None, NOON, after_key=0, until_key=120_000)
    assert windows(full, 50_000, 4) == [(0, 120_000)]
    done = Pull("incremental", NOON, NOON, after_key=120_000, until_key=120_000)
    assert windows(done, 50_000, 4) == [(120_000, 120_000)]


def test_a_full_batch_covers_up_to_its_last_key_and_a_short_one_its_whole_window():
    pull = Pull("full", None, NOON, after_key=0, until_key=10_000)
    assert batch_end(pull, 10_000, rows_returned=5000, batch_size=5000, last_key=7_321) == 7_321
    assert batch_end(pull, 10_000, rows_returned=12, batch_size=5000, last_key=9_990) == 10_000
    assert advance(pull, 10_000).done


def test_an_incremental_pull_never_moves_the_cursor_backwards():
    cursor = Cursor(since=NOON)
    pull = Pull("incremental", NOON, NOON - timedelta(hours=1), after_key=5, until_key=5)
    assert finish(cursor, pull, LAG).since == NOON
