"""The HTML work queues in a real headless Chromium, opened from a folder as from a share.

Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver): elsewhere
the tests skip, under CI=true a missing browser fails them. The browser runs with a fresh
profile and no network services; the page must need none.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import open_ledger
from tc_sync.ledger.schema import items, sync_runs
from tc_sync.queues.build import build_queues

from .conftest import unavailable
from .test_queues import (
    MARKUP_NAME,
    TODAY,
    open_items,
    per_queue,
    practice_settings,
    synced_practice,
)

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1400,900")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(chromium).exists() and Path(driver_path).exists()):
        unavailable("no Chromium: apt-get install -y chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("no selenium: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A driver path given here means Selenium Manager never runs (it would download).
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, sa.Engine]:
    folder = tmp_path_factory.mktemp("practice")
    return folder, synced_practice(folder)


@pytest.fixture(scope="module")
def page(practice, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder, engine = practice
    out = tmp_path_factory.mktemp("share")
    build_queues(engine, practice_settings(folder), folder=out, today=TODAY)
    return out / "queues.html"


def open_page(browser: Any, path: Path) -> None:
    """The page as a coordinator first opens it: no remembered tab, sort, filter or column."""
    browser.get(path.as_uri())
    browser.execute_script("sessionStorage.clear(); localStorage.clear()")
    browser.refresh()
    browser.get_log("browser")            # start each test with an empty console


def console_errors(browser: Any) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


def panel(browser: Any, queue: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f'section.panel[data-tab="{queue}"]')


def show(browser: Any, queue: str) -> Any:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, f'[role="tab"][data-tab="{queue}"]').click()
    found = panel(browser, queue)
    assert found.is_displayed()
    return found


def column(section: Any, header: str) -> int:
    from selenium.webdriver.common.by import By

    heads = [th.get_attribute("textContent").strip()
             for th in section.find_elements(By.CSS_SELECTOR, "tr.heads th")]
    return heads.index(header)


def choose(section: Any, header: str, shown: bool = True) -> None:
    """Tick (or untick) a column in the panel's column chooser."""
    from selenium.webdriver.common.by import By

    section.find_element(By.CSS_SELECTOR, ".chooser summary").click()
    box = section.find_elements(By.CSS_SELECTOR, ".chooser input")[column(section, header)]
    if box.is_selected() != shown:
        box.click()
    section.find_element(By.CSS_SELECTOR, ".chooser summary").click()


def visible(browser: Any, section: Any, index: int | None = None) -> list[Any]:
    """The visible rows' keys, or their cells' sort values (data-v, else text) in a column."""
    return browser.execute_script("""
        const [section, index] = arguments;
        return Array.from(section.querySelectorAll('tbody tr')).filter(r => !r.hidden)
          .map(r => index === null ? r.dataset.key
               : (r.cells[index].dataset.v ?? r.cells[index].textContent));""", section, index)


def test_the_page_opens_with_no_console_error_and_every_item_once(browser, practice, page,
                                                                  tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    expected = per_queue(open_items(practice[1]))
    for queue, keys in expected.items():
        section = show(browser, queue)
        shown = visible(browser, section)
        assert Counter(key for row in shown for key in row.split()) == keys
        tab = browser.find_element(By.CSS_SELECTOR, f'[role="tab"][data-tab="{queue}"]')
        assert f"{queue} {sum(keys.values())}" in tab.text
        rows = "" if len(shown) == sum(keys.values()) else f" in {len(shown)} rows"
        assert section.find_element(By.CSS_SELECTOR, ".shown").text.startswith(
            f"{sum(keys.values())} items{rows} · $")
    show(browser, "treatment")
    shot = tmp_path / "queues.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    assert console_errors(browser) == []


def test_clicking_a_header_sorts_the_rows_and_blanks_stay_last(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "insurance")
    amount = column(section, "Amount")
    header = section.find_elements(By.CSS_SELECTOR, "tr.heads th")[amount]
    header.find_element(By.TAG_NAME, "button").click()
    ascending = [Decimal(v) for v in visible(browser, section, amount)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert header.get_attribute("aria-sort") == "ascending"
    header.find_element(By.TAG_NAME, "button").click()
    descending = [Decimal(v) for v in visible(browser, section, amount)]
    assert descending == sorted(ascending, reverse=True)
    choose(section, "Status")
    status = column(section, "Status")
    section.find_elements(By.CSS_SELECTOR, "tr.heads th")[status].find_element(
        By.TAG_NAME, "button").click()
    statuses = visible(browser, section, status)
    filled = [s for s in statuses if s]
    assert filled and statuses[:len(filled)] == filled          # blanks after every status
    assert filled == sorted(filled, key=str.lower)
    assert console_errors(browser) == []


def test_filters_narrow_the_rows_and_recount_them(browser, practice, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "insurance")
    rows = [item for item in open_items(practice[1]) if item["queue"] == "insurance"]
    choose(section, "Bucket")
    filters = section.find_elements(By.CSS_SELECTOR, "input.filter")
    bucket = filters[column(section, "Bucket")]
    bucket.send_keys("90+")
    over_90 = [item for item in rows if '"bucket": "90+"' in item["details"]]
    assert Counter(visible(browser, section)) == Counter(i["item_key"] for i in over_90)
    total = sum(Decimal(i["amount"]).scaleb(-2) for i in over_90)
    assert section.find_element(By.CSS_SELECTOR, ".shown").text == (
        f"Showing {len(over_90)} of {len(rows)} · ${total:,.2f}")
    amount = filters[column(section, "Amount")]
    amount.send_keys("> 500")
    big = [i for i in over_90 if i["amount"] > 50_000]
    assert 0 < len(big) < len(over_90)
    assert Counter(visible(browser, section)) == Counter(i["item_key"] for i in big)
    section.find_element(By.CSS_SELECTOR, "button.clear").click()
    assert len(visible(browser, section)) == len(rows)
    section.find_element(By.CSS_SELECTOR, "input.search").send_keys("no such patient zzz")
    assert visible(browser, section) == []
    assert section.find_element(By.CSS_SELECTOR, ".empty").text == (
        "No items match these filters.")
    assert console_errors(browser) == []


def test_a_name_that_looks_like_markup_shows_as_text_and_runs_nothing(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "treatment")
    section.find_element(By.CSS_SELECTOR, "input.search").send_keys("<img src=x")
    rows = section.find_elements(By.CSS_SELECTOR, "tbody tr:not([hidden])")
    assert rows and all(MARKUP_NAME in row.text for row in rows)
    assert browser.execute_script("return document.querySelectorAll('main img').length") == 0
    assert console_errors(browser) == []


def test_each_source_shows_its_freshness_and_last_successful_sync(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    (source,) = browser.find_elements(By.CSS_SELECTOR, "li.fresh")
    assert "green" in source.get_attribute("class").split()
    assert "main" in source.text and "last successful sync" in source.text
    dot = source.find_element(By.CSS_SELECTOR, ".dot")
    assert dot.value_of_css_property("background-color") == "rgba(46, 158, 91, 1)"


def _synced_six_hours_ago_and_built(tmp_path: Path, after: timedelta) -> datetime:
    """A practice whose last successful sync was six hours ago, its page built `after` that
    sync into tmp_path/share; the sync's time."""
    settings = practice_settings(tmp_path)
    engine = open_ledger(settings.ledger.url)
    synced = datetime.now(UTC) - timedelta(hours=6)
    with engine.begin() as connection:
        connection.execute(sync_runs.insert().values(
            source_id="main", mode="incremental", started_at=synced.replace(tzinfo=None),
            finished_at=synced.replace(tzinfo=None), outcome="ok", rows_read=0,
            rows_inserted=0, rows_updated=0, rows_deleted=0, rows_quarantined=0,
            statements=0, longest_statement_ms=0))
    build_queues(engine, settings, folder=tmp_path / "share", now=synced + after)
    engine.dispose()
    return synced


def test_a_page_left_open_turns_red_as_its_data_ages(browser, tmp_path):
    """Built while the data was fresh; the daemon then stopped and nothing rebuilt it."""
    from selenium.webdriver.common.by import By

    _synced_six_hours_ago_and_built(tmp_path, after=timedelta(minutes=5))
    open_page(browser, tmp_path / "share" / "queues.html")
    source = browser.find_element(By.CSS_SELECTOR, "li.fresh")
    assert source.get_attribute("data-colour") == "green"        # as built
    assert "red" in source.get_attribute("class").split()        # as it is now
    stale = browser.find_element(By.ID, "stale")
    assert stale.is_displayed() and "built 5 h ago" in stale.text
    assert console_errors(browser) == []


def test_the_header_says_how_long_ago_the_last_sync_was_as_the_page_is_read(browser,
                                                                            tmp_path):
    """Built a minute after a sync, read six hours later: not "synced under a minute ago"."""
    from selenium.webdriver.common.by import By

    synced = _synced_six_hours_ago_and_built(tmp_path, after=timedelta(seconds=30))
    written = (tmp_path / "share" / "queues.html").read_text("utf-8")
    assert "under a minute" not in written
    open_page(browser, tmp_path / "share" / "queues.html")
    source = browser.find_element(By.CSS_SELECTOR, "li.fresh")
    clock = source.find_element(By.CSS_SELECTOR, "time")      # the fallback without script
    assert clock.get_attribute("datetime") == synced.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"last successful sync {clock.text}" in source.text
    assert "(6 h ago)" in source.text and "under a minute" not in source.text
    assert console_errors(browser) == []


def test_a_reload_keeps_the_tab_sort_and_filters(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "scheduling")
    section.find_elements(By.CSS_SELECTOR, "tr.heads th")[column(section, "Patient")] \
        .find_element(By.TAG_NAME, "button").click()
    section.find_element(By.CSS_SELECTOR, "input.search").send_keys("broken")
    before = visible(browser, section)
    browser.refresh()                     # as the page does by itself every few minutes
    section = panel(browser, "scheduling")
    assert section.is_displayed()
    assert section.find_element(By.CSS_SELECTOR, "input.search").get_attribute(
        "value") == "broken"
    assert visible(browser, section) == before
    assert console_errors(browser) == []


@contextmanager
def laptop_screen(browser: Any) -> Iterator[None]:
    """The window sized so the page gets 1366x768 pixels, as on a front-desk laptop."""
    before = browser.get_window_size()
    browser.set_window_size(1366, 768)
    inner = browser.execute_script("return [innerWidth, innerHeight]")
    browser.set_window_size(2 * 1366 - inner[0], 2 * 768 - inner[1])
    try:
        yield
    finally:
        browser.set_window_size(before["width"], before["height"])


def scrolls_sideways(browser: Any, section: Any) -> bool:
    return bool(browser.execute_script("""
        const [section] = arguments, page = document.documentElement;
        const table = section.querySelector('.scroll');
        return page.scrollWidth > page.clientWidth || table.scrollWidth > table.clientWidth;
        """, section))


def test_at_1366_pixels_the_default_columns_fit_without_sideways_scrolling(browser, page,
                                                                          tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    with laptop_screen(browser):
        assert browser.execute_script("return innerWidth") == 1366
        for queue in ("insurance", "scheduling", "treatment"):
            section = show(browser, queue)
            heads = [th.text for th in section.find_elements(By.CSS_SELECTOR, "tr.heads th")
                     if th.is_displayed()]
            assert [h.replace("\n", " ") for h in heads][:4] == [
                "Patient", "Phone / email", "What", "Amount"] or queue == "scheduling"
            assert {"Patient", "Why now", "Next step", "Attempts", "Owner"} <= set(heads)
            assert not scrolls_sideways(browser, section), queue
        shot = tmp_path / "treatment-1366.png"
        assert browser.save_screenshot(str(shot))
    assert console_errors(browser) == []


def test_filters_read_as_empty_until_the_coordinator_types(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "insurance")
    boxes = section.find_elements(By.CSS_SELECTOR, "input.filter, input.search")
    assert len(boxes) > 10
    for box in boxes:
        assert box.get_attribute("value") == ""
        assert not box.get_attribute("placeholder")      # no grey text that looks applied
    total = len(visible(browser, section))
    assert section.find_element(By.CSS_SELECTOR, ".shown").text.startswith(f"{total} items")


def test_the_chosen_columns_stay_chosen_after_a_reload(browser, page):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, page)
    section = show(browser, "insurance")
    heads = section.find_elements(By.CSS_SELECTOR, "tr.heads th")
    carrier, owner = column(section, "Carrier"), column(section, "Owner")
    assert not heads[carrier].is_displayed() and heads[owner].is_displayed()
    choose(section, "Carrier")
    choose(section, "Owner", shown=False)
    browser.refresh()
    section = show(browser, "insurance")

    def remembered(_: Any) -> bool:
        heads = section.find_elements(By.CSS_SELECTOR, "tr.heads th")
        first = section.find_element(By.CSS_SELECTOR, "tbody tr")
        return bool(heads[carrier].is_displayed() and not heads[owner].is_displayed()
                    and first.find_elements(By.TAG_NAME, "td")[carrier].is_displayed())

    # The page applies the remembered choice as it loads; a loaded machine may take a moment.
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        remembered)
    heads = section.find_elements(By.CSS_SELECTOR, "tr.heads th")
    section.find_element(By.CSS_SELECTOR, ".chooser summary").click()
    section.find_element(By.CSS_SELECTOR, ".chooser .reset").click()
    assert not heads[carrier].is_displayed() and heads[owner].is_displayed()
    assert console_errors(browser) == []


def test_a_row_opens_to_the_columns_not_shown(browser, practice, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "insurance")
    # A claim's row (a visit's insurance verification may lead the queue).
    first = section.find_element(By.CSS_SELECTOR, 'tbody tr[data-key^="claim_"]')
    key = first.get_attribute("data-key")
    first.click()
    detail = section.find_element(By.CSS_SELECTOR, "tbody tr.detail")
    assert "open" in first.get_attribute("class").split()
    claim = next(item for item in open_items(practice[1]) if item["item_key"] == key)
    assert "Carrier phone" in detail.text and "Priority" in detail.text
    assert key in detail.text and str(claim["claim_id"]) in detail.text
    first.click()
    assert section.find_elements(By.CSS_SELECTOR, "tbody tr.detail") == []
    assert console_errors(browser) == []


def test_my_items_keeps_one_owners_rows_and_is_remembered(browser, practice, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    folder = practice[0]
    with sqlite3.connect(folder / "ledger.db") as ledger, \
            sqlite3.connect(tmp_path / "ledger.db") as copied:
        ledger.backup(copied)               # the ledger as it is, its write-ahead log too
    settings = practice_settings(tmp_path)
    copy = open_ledger(settings.ledger.url)
    with copy.begin() as connection:
        keys = sorted(connection.execute(sa.select(items.c.item_key).where(
            items.c.status == "open", items.c.queue == "insurance")).scalars())
        connection.execute(items.update().where(items.c.item_key.in_(keys[::2]))
                           .values(owner="maria"))
        connection.execute(items.update().where(items.c.item_key.in_(keys[1::2]))
                           .values(owner="dana"))
    build_queues(copy, settings, folder=tmp_path / "share", today=TODAY)
    copy.dispose()
    open_page(browser, tmp_path / "share" / "queues.html")
    section = show(browser, "insurance")
    Select(section.find_element(By.CSS_SELECTOR, "select.owner")).select_by_visible_text(
        "maria")
    assert Counter(visible(browser, section)) == Counter(keys[::2])
    browser.refresh()
    section = show(browser, "insurance")
    assert Counter(visible(browser, section)) == Counter(keys[::2])
    assert console_errors(browser) == []


def test_printed_the_page_shows_the_rows_without_its_controls(browser, page):
    from selenium.webdriver.common.by import By

    open_page(browser, page)
    section = show(browser, "treatment")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not section.find_element(By.CSS_SELECTOR, ".toolbar").is_displayed()
        assert not section.find_element(By.CSS_SELECTOR, "tr.filters").is_displayed()
        assert section.find_element(By.CSS_SELECTOR, "tbody tr").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, ".tabs").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_the_treatment_tab_lists_each_patient_once_and_counts_each_dollar_once(
        browser, practice, page):
    from selenium.webdriver.common.by import By

    from .test_queues import dollars_at_stake

    open_page(browser, page)
    with laptop_screen(browser):
        section = show(browser, "treatment")
        patient = column(section, "Patient #")
        choose(section, "Patient #")            # its cells are made from the rows' detail
        patients = visible(browser, section, patient)
        choose(section, "Patient #", shown=False)
        assert len(patients) == len(set(patients)) > 50
        treatment = [i for i in open_items(practice[1]) if i["queue"] == "treatment"]
        at_stake = dollars_at_stake(practice[1], treatment)
        tab = browser.find_element(By.CSS_SELECTOR, '[role="tab"][data-tab="treatment"]')
        assert f"${at_stake:,.2f}" in tab.text
        assert section.find_element(By.CSS_SELECTOR, ".shown").text.endswith(
            f"· ${at_stake:,.2f}")
        several = section.find_element(By.CSS_SELECTOR, 'tbody tr[data-key*=" "]')
        several.click()
        detail = section.find_element(By.CSS_SELECTOR, "tbody tr.detail")
        assert "Follow-ups" in detail.text
        assert not scrolls_sideways(browser, section)
    assert console_errors(browser) == []


def test_the_insurance_tabs_totals_count_a_procedure_two_follow_ups_name_once(
        browser, practice, page):
    # A predetermination and the insurance check for the visit booking the same procedures
    # are two rows (two calls) but one sum of money: the tab and the count line, filtered or
    # not, add it once.
    from selenium.webdriver.common.by import By

    from .test_queues import dollars_at_stake

    assert 'data-priced="' in page.read_text("utf-8")      # the practice has such rows
    open_page(browser, page)
    section = show(browser, "insurance")
    rows = [item for item in open_items(practice[1]) if item["queue"] == "insurance"]
    at_stake = dollars_at_stake(practice[1], rows)
    assert at_stake < sum(Decimal(i["amount"] or 0).scaleb(-2) for i in rows)
    tab = browser.find_element(By.CSS_SELECTOR, '[role="tab"][data-tab="insurance"]')
    assert f"${at_stake:,.2f}" in tab.text
    assert section.find_element(By.CSS_SELECTOR, ".shown").text.endswith(f"· ${at_stake:,.2f}")
    what = section.find_elements(By.CSS_SELECTOR, "input.filter")[column(section, "What")]
    what.send_keys("Predetermination")
    shown = [i for i in rows if i["kind"].startswith("predetermination")]
    assert Counter(visible(browser, section)) == Counter(i["item_key"] for i in shown)
    assert section.find_element(By.CSS_SELECTOR, ".shown").text.endswith(
        f"· ${dollars_at_stake(practice[1], shown):,.2f}")
    assert console_errors(browser) == []
