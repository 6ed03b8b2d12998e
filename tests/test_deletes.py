"""Finding hard deletes between sweeps: the window arithmetic, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tc_sync.pull.deletes import differing_windows, gone, tally


def test_keys_are_counted_and_summed_per_window():
    assert tally([1, 2, 99_999, 100_000, 250_001], 100_000) == {
        0: (3, 100_002), 1: (1, 100_000), 2: (1, 250_001)}


def test_only_windows_whose_keys_differ_are_read():
    pms = tally([1, 2, 3, 150_000], 100_000)
    ledger = tally([1, 2, 3, 150_000, 150_001], 100_000)
    assert differing_windows(pms, ledger) == [1]
    assert differing_windows(pms, pms) == []


def test_a_window_the_pms_emptied_differs():
    assert differing_windows({}, tally([7], 100)) == [0]


def test_the_keys_gone_are_those_the_ledger_holds_and_the_pms_does_not():
    assert gone([5, 6, 7, 8], [5, 7, 9]) == [6, 8]


@given(st.sets(st.integers(1, 10_000), max_size=200), st.sets(st.integers(1, 10_000),
                                                               max_size=20))
def test_any_deleted_key_makes_its_window_differ(kept, removed):
    ledger = kept | removed
    stale = differing_windows(tally(kept, 500), tally(ledger, 500))
    assert {key // 500 for key in removed - kept} <= set(stale)
