"""`tc-sync verify`'s pure parts: the reports folder, reading rows, comparing, knobs, output."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tc_sync.adapter.registry import default_adapters_dir
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.model import DesiredItem, ItemKind
from tc_sync.verify import render
from tc_sync.verify.compare import Comparison, Difference, OpenItem, Reason, What, compare
from tc_sync.verify.explain import knob_explains
from tc_sync.verify.knobs import knobs_for
from tc_sync.verify.query import (
    ReportRow,
    benefit_year,
    hidden_by_tracking,
    parameter_sets,
    read_rows,
    whole_days,
)
from tc_sync.verify.reports import ReportsError, load_reports
from tc_sync.verify.source import ReportResult, SourceResult

TODAY = date(2026, 11, 26)
KIND = ItemKind.CLAIM_OUTSTANDING


def reports_by_name():
    return {r.name: r for r in load_reports(default_adapters_dir() / "opendental")}


# --- the reports folder -----------------------------------------------------------------------


def test_open_dental_ships_a_report_for_each_kind_it_has_one_for():
    reports = reports_by_name()
    assert {name: r.spec.kind.value for name, r in reports.items()} == {
        "treatment_finder": "unscheduled_treatment", "claims_not_sent": "claim_unsent",
        "outstanding_claims": "claim_outstanding",
        "planned_tracker": "planned_appointment_unscheduled",
        "unscheduled_list": "broken_appointment",
        "preauths_pending": "predetermination_pending",
        "preauths_returned": "predetermination_returned",
        "remaining_benefits": "benefits_expiring"}
    for report in reports.values():
        assert "CURDATE" not in report.sql.upper() and "NOW()" not in report.sql.upper()
        assert report.sql.lstrip().startswith("--"), f"{report.name} says what it computes"


@pytest.mark.parametrize("pms", ["dentrix", "eaglesoft"])
def test_the_odbc_adapters_have_no_reports(pms):
    assert load_reports(default_adapters_dir() / pms) == []


def test_a_broken_reports_file_names_its_line(tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "reports.yaml").write_text(
        "reports:\n  x:\n    title: X\n    sql: x.sql\n    kind: claim_lost\n"
        "    key: ClaimNum\n    patient: PatNum\n    amount: ClaimFee\n")
    with pytest.raises(ReportsError, match=r"reports\.yaml:5:\d+: reports\.x\.kind"):
        load_reports(tmp_path)
    (tmp_path / "reports" / "reports.yaml").write_text(
        "reports:\n  x:\n    title: X\n    sql: x.sql\n    kind: claim_unsent\n"
        "    key: ClaimNum\n    patient: PatNum\n    amount: ClaimFee\n")
    with pytest.raises(ReportsError, match=r"x\.sql: cannot read"):
        load_reports(tmp_path)


# --- reading a report's rows --------------------------------------------------------------------


@pytest.mark.parametrize(("month", "start", "end"), [
    (0, date(2026, 1, 1), date(2026, 12, 31)),
    (1, date(2026, 1, 1), date(2026, 12, 31)),
    (11, date(2026, 11, 1), date(2027, 10, 31)),
    (12, date(2025, 12, 1), date(2026, 11, 30)),
    (3, date(2026, 3, 1), date(2027, 2, 28)),
])
def test_the_benefit_year_is_the_one_containing_today(month, start, end):
    assert benefit_year(TODAY, month) == (start, end)


def test_remaining_benefits_runs_once_per_renewal_month_with_its_benefit_year():
    runs = list(parameter_sets(reports_by_name()["remaining_benefits"], TODAY))
    assert [run["month_renew"] for run in runs] == list(range(13))
    assert runs[12] == {"today": "2026-11-26", "month_renew": 12,
                        "year_start": "2025-12-01", "year_end": "2026-11-30"}
    assert list(parameter_sets(reports_by_name()["claims_not_sent"], TODAY)) == [
        {"today": "2026-11-26"}]


@pytest.mark.parametrize(("value", "days"), [
    ("30", 30), (" 14 ", 14), ("0", 0), ("", 0), (None, 0), ("-5", 0), ("two weeks", 0),
    ("3.5", 0), (7, 7), ("9" * 40, 36_500)])
def test_days_suppressed_is_a_whole_number_else_zero(value, days):
    assert whole_days(value) == days


@pytest.mark.parametrize(("logged_on", "days", "hidden"), [
    ("2026-11-16", "30", True),           # hidden until 12-16
    ("2026-11-16", "10", False),          # 11-26 is not after today
    ("2026-11-16", "11", True),
    (date(2026, 11, 16), 11, True),
    (None, "30", False),                  # no history row of the claim's status
    ("2026-11-16", "", False),
    ("0001-01-01", "30", False),          # blank
])
def test_custom_tracking_hides_a_claim_while_its_date_plus_days_is_after_today(
        logged_on, days, hidden):
    assert hidden_by_tracking(logged_on, days, TODAY) is hidden


def test_rows_are_read_by_the_columns_the_file_names_and_suppressed_claims_left_out():
    report = reports_by_name()["outstanding_claims"]
    columns = ["claimnum", "patnum", "claimfee", "datelog", "dayssuppressed"]
    found: dict[int, ReportRow] = {}
    read_rows(report, columns, [
        (50, 7, 1250.0, None, None), (51, 7, 99.995, "2026-11-20", "30"),
        (52, 8, 80.1, "2026-10-01", "30"), (50, 7, 1.0, None, None)], TODAY, found)
    assert found == {50: ReportRow(50, 7, 125000), 52: ReportRow(52, 8, 8010)}
    with pytest.raises(ReportsError, match="returns no column 'DateLog'"):
        read_rows(report, columns[:3], [], TODAY, {})


# --- comparing ----------------------------------------------------------------------------------


def item(subject: int, amount: int | None = 1000, snoozed: date | None = None) -> OpenItem:
    return OpenItem(f"claim_outstanding:main:{subject}", subject, 7, amount, snoozed)


def test_agreement_is_the_same_subjects_with_the_same_amount_in_cents():
    rows = {1: ReportRow(1, 7, 1000), 2: ReportRow(2, 7, 0), 3: ReportRow(3, 8, 500)}
    result = compare(KIND, "main", rows, {1: item(1), 2: item(2, None), 3: item(3, 501)}, TODAY)
    assert (result.agree, result.total) == (2, 3)
    assert result.differences == [Difference(What.AMOUNT, "claim_outstanding:main:3", 3, 7,
                                             500, 501)]


def test_missing_and_extra_subjects_are_differences_awaiting_their_reason():
    result = compare(KIND, "main", {1: ReportRow(1, 9, 1000)}, {2: item(2)}, TODAY)
    assert (result.agree, result.total) == (0, 2)
    missing, extra = result.differences
    assert (missing.what, missing.key, missing.patient_id, missing.reason) == (
        What.MISSING, "claim_outstanding:main:1", 9, None)
    assert (extra.what, extra.tc_sync_amount, extra.reason) == (What.EXTRA, 1000, None)


def test_an_item_snoozed_past_today_is_set_aside_and_explained_by_the_snooze():
    rows = {1: ReportRow(1, 7, 1000), 2: ReportRow(2, 7, 1000)}
    items = {1: item(1, snoozed=date(2026, 12, 1)), 2: item(2, snoozed=TODAY)}
    result = compare(KIND, "main", rows, items, TODAY)
    assert (result.agree, result.total) == (1, 2)
    assert result.differences[0].what == What.SET_ASIDE
    assert result.differences[0].reason == Reason.SNOOZED


def desired(amount: int | None) -> DesiredItem:
    return DesiredItem("k", KIND, "main", 7, TODAY, amount=amount)


@pytest.mark.parametrize(("what", "site", "parity", "explained"), [
    (What.MISSING, None, desired(1000), True),
    (What.MISSING, desired(1000), desired(1000), False),   # the rules would open it: stale
    (What.MISSING, None, None, False),                     # no rule opens it
    (What.EXTRA, desired(1000), None, True),
    (What.EXTRA, None, None, False),
    (What.AMOUNT, desired(900), desired(1000), True),
    (What.AMOUNT, desired(1000), desired(1000), False),
    (What.AMOUNT, desired(900), desired(950), False),      # parity does not give the report's
])
def test_a_knob_explains_what_the_parity_rules_give_and_the_site_rules_do_not(
        what, site, parity, explained):
    difference = Difference(what, "k", 1, 7, 1000, 900)
    assert knob_explains(difference, site, parity) is explained


def test_the_knobs_named_are_the_kinds_own_and_what_its_rule_reads(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text("kinds:\n  claim_outstanding:\n    after_days: 45\n    queue: ar\n"
                         "  claim_unsent:\n    after_days: 9\n"
                         "coordination:\n  exclude_codes: [D2740]\n")
    site, defaults = load_mappings(site_file), load_mappings()
    assert knobs_for(ItemKind.CLAIM_OUTSTANDING, site, defaults) == (
        "kinds.claim_outstanding.after_days: 45 (Open Dental: 30)",)
    assert "coordination.exclude_codes: [D2740] (Open Dental: [D4346, D4355, D4910, D9110, " \
           "D9230, D9310])" in knobs_for(ItemKind.BENEFITS_EXPIRING, site, defaults)
    # A kind whose own settings agree: every knob that can change membership is named.
    named = knobs_for(ItemKind.BROKEN_APPOINTMENT, site, defaults)
    assert "kinds.claim_unsent.after_days: 9 (Open Dental: 3)" in named
    assert not any("queue" in knob for knob in named)


# --- output -------------------------------------------------------------------------------------


def test_the_output_says_agree_n_of_m_and_each_difference_with_its_reason():
    report = reports_by_name()["outstanding_claims"]
    knob = "kinds.claim_outstanding.after_days: 30 (Open Dental: 0)"
    differences = [
        Difference(What.MISSING, "claim_outstanding:main:1", 1, 7, 26000, None,
                   reason=Reason.KNOB, knobs=(knob,)),
        Difference(What.SET_ASIDE, "claim_outstanding:main:2", 2, 7, 100, 100,
                   date(2026, 12, 1), Reason.SNOOZED),
        Difference(What.EXTRA, "claim_outstanding:main:3", 3, 8, None, -1234,
                   reason=Reason.UNEXPLAINED)]
    result = SourceResult("main", [ReportResult(report, Comparison(5, 8, differences))],
                          [ItemKind.CLAIM_DENIED, ItemKind.CLAIM_UNDERPAID])
    text = render.text([result, SourceResult("north", has_reports=False)], TODAY)
    assert "  Outstanding Insurance Claims (claim_outstanding): agree 5 of 8\n" in text
    assert ("claim_outstanding:main:1 (patient 7): listed by Open Dental ($260.00), no open "
            "item: filtered by mapping knob\n") in text
    assert f"      {knob}\n" in text
    assert "main:2 (patient 7): listed by Open Dental, item snoozed until 2026-12-01: snoozed" \
        in text
    assert "main:3 (patient 8): open item (-$12.34), not listed by Open Dental: unexplained" \
        in text
    assert "claim_denied, claim_underpaid: Open Dental has no report of these (skipped)" in text
    assert "main: 3 difference(s): 1 filtered by mapping knob, 1 snoozed, 1 unexplained" in text
    assert "north: no Open Dental reports for this PMS" in text
    data = json.loads(render.as_json([result], TODAY))
    assert data["unexplained"] == 1
    first = data["sources"][0]["reports"][0]
    assert (first["agree"], first["of"], first["kind"]) == (5, 8, "claim_outstanding")
    assert first["differences"][0] == {
        "key": "claim_outstanding:main:1", "difference": "missing", "subject_id": 1,
        "patient_id": 7, "open_dental_amount": 260.0, "tc_sync_amount": None,
        "snoozed_until": None, "reason": "filtered by mapping knob", "knobs": [knob]}
