"""What a task says, and how a resolved task is closed on each Open Dental version."""

from __future__ import annotations

import pytest

from tc_sync.config.push import OpenDentalApiTarget
from tc_sync.push.targets.opendental_api import OpenDentalApi, version_tuple
from tc_sync.push.text import task_text


def test_treatment_task_text_is_short_and_actionable():
    text = task_text({
        "kind": "unscheduled_treatment", "amount": 245_000, "codes": "D2740 D2950",
        "details": '{"teeth": ["3", "14"], "benefits_renew_on": "2027-01-01"}'})
    assert text == "Call to schedule: D2740 D2950 #3 #14, $2,450; benefits renew Jan 1"


def test_claim_task_text_names_the_carrier_and_its_phone():
    text = task_text({
        "kind": "claim_outstanding", "amount": 118_050, "codes": "D2740", "claim_id": 5521,
        "details": {"carrier": "Delta Dental", "carrier_phone": "800-555-0100",
                    "date_sent": "2026-10-02"}})
    assert text == ("Call Delta Dental (800-555-0100) about claim #5521 sent Oct 2, "
                    "$1,180.50 unpaid")


def test_lab_referral_and_verification_tasks_say_whom_to_call_before_when():
    lab = task_text({"kind": "lab_case_not_ready", "amount": 205000, "details": {
        "appointment_on": "2026-12-04", "lab": "Summit Lab", "lab_phone": "555-0181",
        "sent": False}})
    assert lab == "Lab case for appointment Dec 4 not back: call Summit Lab (555-0181); " \
        "case NOT SENT"
    referral = task_text({"kind": "referral_no_outcome", "details": {
        "specialist": "Ivy Endoson", "referred_on": "2026-10-01",
        "referral_status": "in_treatment"}})
    assert referral == "Referral to Ivy Endoson on Oct 1: no outcome yet (in treatment)"
    verify = task_text({"kind": "insurance_not_verified", "details": {
        "appointment_on": "2026-12-08", "stale": ["benefits", "enrollment"],
        "carrier": "Harbor Mutual", "carrier_phone": "555-0100"}})
    assert verify == ("Verify benefits and enrollment with Harbor Mutual (555-0100) before "
                      "appointment Dec 8")


@pytest.mark.parametrize(("version", "mode", "done"), [
    ("24.3.10.0", "auto", True), ("24.2.10.0", "auto", True), ("24.2.9.0", "auto", False),
    ("22.4.33.0", "auto", False), (None, "auto", False), ("22.4.33.0", "always", True),
    ("24.3.10.0", "never", False)])
def test_a_task_is_marked_done_only_where_the_api_allows_it(version, mode, done):
    target = OpenDentalApi("od", OpenDentalApiTarget(
        kind="opendental_api", source="main", base_url="http://od:30222/api/v1",
        developer_key="d", customer_key="c", mark_done=mode), lambda: version)
    try:
        assert target._can_mark_done() is done
    finally:
        target.close()


def test_version_text_that_is_not_a_version_is_unknown():
    assert version_tuple("24.3.10.0") == (24, 3, 10)
    assert version_tuple("banana") is None
