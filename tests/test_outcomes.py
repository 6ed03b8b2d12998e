"""Outcomes staff record in Open Dental end follow-ups: a patient declined, done elsewhere.

Scenarios on Open Dental's real 21.1.9 schema, rows written as its client writes them
(tests/od_office.py): a commlog of a type the mappings list under `outcomes` resolves the
patient's treatment follow-ups, a claim custom tracking status listed there resolves the
claim's; they stay resolved until Open Dental shows newer treatment (or another claim status).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tc_sync.config import SyncSettings
from tc_sync.config.mappings import Mappings, MappingsError
from tc_sync.config.mappings_file import load_mappings
from tc_sync.items.facts import PatientFacts, SourceFacts
from tc_sync.items.model import DesiredItem, ItemKind, Resolution
from tc_sync.items.outcomes import recorded_outcome, stays_ended
from tc_sync.items.reconcile import reconcile_source
from tc_sync.ledger.schema import item_events, items
from tc_sync.pull.run import sync_source
from tc_sync.records import (
    Contact,
    ContactDirection,
    ContactMode,
    Definition,
    DefinitionCategory,
    Procedure,
    ProcedureStatus,
    TreatmentPlan,
    TreatmentPlanStatus,
)

from .od_office import BLANK, Office
from .test_conformance import real_schema  # noqa: F401 - a fixture

TODAY = date.today()
DEFAULTS = load_mappings()
NOTE = "Patient says the crown is too expensive; husband lost his job"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour))


def site_mappings(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the mappings ---------------------------------------------------------------------------


def test_the_stock_outcomes_match_none_of_open_dentals_stock_commlog_types():
    stock = {"apptrelated", "insurance", "financial", "recall", "misc", "odhq", "fhir"}
    named = {name.casefold() for outcome in DEFAULTS.outcomes.values()
             for name in outcome.contact_types + outcome.claim_statuses}
    assert set(DEFAULTS.outcomes) == {"declined", "done_elsewhere"}
    assert named and not named & stock


def test_an_unknown_outcome_is_refused_naming_its_line_and_the_known_ones(tmp_path):
    path = site_mappings(tmp_path, """\
outcomes:
  declined:
    contact_types: [Tx Declined]
  refused:
    contact_types: [Refused]
""")
    with pytest.raises(MappingsError) as caught:
        load_mappings(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:5:")
    assert "outcomes.refused" in problem and "'declined' or 'done_elsewhere'" in problem


def test_a_wrong_type_or_a_name_under_two_outcomes_is_refused_naming_its_line(tmp_path):
    wrong = site_mappings(tmp_path, """\
outcomes:
  declined:
    contact_types: Tx Declined
""")
    with pytest.raises(MappingsError) as caught:
        load_mappings(wrong)
    assert caught.value.problems[0].startswith(
        f"{wrong}:3:20: outcomes.declined.contact_types: Input should be a valid list")
    twice = site_mappings(tmp_path, """\
outcomes:
  declined:
    claim_statuses: [Closed]
  done_elsewhere:
    claim_statuses: [closed]
""", "twice.yaml")
    with pytest.raises(MappingsError) as caught:
        load_mappings(twice)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{twice}:2:3: outcomes: ")
    assert "'closed' is listed under claim_statuses of both declined and done_elsewhere" in (
        problem)


# --- the rule, on hand-made records ----------------------------------------------------------

DECLINED_TYPE = Definition(5, DefinitionCategory.COMMLOG_TYPE, 0, "Tx Declined", "", False)
SOURCE = SourceFacts({5: DECLINED_TYPE}, {})
PLANNED_ON = date(2026, 11, 2)


def owed(planned: date = PLANNED_ON) -> DesiredItem:
    return DesiredItem("unscheduled_treatment:main:7", ItemKind.UNSCHEDULED_TREATMENT, "main",
                       7, owed_since=planned)


def crown(planned: date, pms_id: int = 1) -> Procedure:
    return Procedure(pms_id, 7, "D2740", None, ProcedureStatus.PLANNED, 120000, 1, 0, "3", "",
                     planned, planned, None, None, None, None, 1, None, None)


def entry(on: date, type_id: int | None = 5) -> Contact:
    return Contact(1, 7, datetime.combine(on, time(16)), type_id, ContactMode.PHONE,
                   ContactDirection.RECEIVED, None, user_id=3)


def plan(on: date, status: TreatmentPlanStatus) -> TreatmentPlan:
    return TreatmentPlan(1, 7, on, "Plan", status, None, None)


def test_a_decline_the_day_the_treatment_was_planned_ends_it_whoever_phoned():
    facts = PatientFacts(procedures=[crown(PLANNED_ON)], contacts=[entry(PLANNED_ON)])
    found = recorded_outcome(owed(), facts, SOURCE, DEFAULTS)
    assert found is not None and found.resolution == Resolution.DECLINED
    assert (found.what, found.by, found.via) == ("Tx Declined", 3, "contact")


def test_treatment_planned_or_a_plan_saved_after_the_decline_makes_it_owed_again():
    decline = entry(PLANNED_ON + timedelta(days=3))
    later = PLANNED_ON + timedelta(days=5)
    newer_crown = PatientFacts(procedures=[crown(PLANNED_ON), crown(later, 2)],
                               contacts=[decline])
    saved = PatientFacts(procedures=[crown(PLANNED_ON)], contacts=[decline],
                         treatment_plans=[plan(later, TreatmentPlanStatus.SAVED)])
    active = PatientFacts(procedures=[crown(PLANNED_ON)], contacts=[decline],
                          treatment_plans=[plan(later, TreatmentPlanStatus.ACTIVE)])
    assert recorded_outcome(owed(), newer_crown, SOURCE, DEFAULTS) is None
    assert recorded_outcome(owed(), saved, SOURCE, DEFAULTS) is None
    assert recorded_outcome(owed(), active, SOURCE, DEFAULTS) is not None  # not a new plan
    recorded = {"via": "contact", "at": f"{PLANNED_ON + timedelta(days=3)} 16:00:00"}
    assert not stays_ended(owed(), recorded, newer_crown, DEFAULTS)
    assert stays_ended(owed(), recorded, active, DEFAULTS)


def test_benefits_nearing_renewal_are_no_news_after_a_decline():
    expiring = DesiredItem("benefits_expiring:main:7", ItemKind.BENEFITS_EXPIRING, "main", 7,
                           owed_since=PLANNED_ON + timedelta(days=20))
    facts = PatientFacts(procedures=[crown(PLANNED_ON)],
                         contacts=[entry(PLANNED_ON + timedelta(days=3))])
    assert recorded_outcome(expiring, facts, SOURCE, DEFAULTS) is not None


def test_an_entry_without_a_type_name_as_dentrix_keeps_ends_nothing():
    facts = PatientFacts(procedures=[crown(PLANNED_ON)], contacts=[entry(PLANNED_ON, None)])
    assert recorded_outcome(owed(), facts, SOURCE, DEFAULTS) is None


# --- scenarios on Open Dental's schema -------------------------------------------------------

@pytest.fixture
def office(mysql_server, real_schema):  # noqa: F811
    connection = mysql_server.connect(real_schema)
    yield Office(connection)
    connection.close()


def cycle(ledger, source, mappings: Mappings = DEFAULTS, today: date = TODAY,
          full: bool = False) -> None:
    result = sync_source(ledger, "od", source, SyncSettings(safety_lag_seconds=0), full=full)
    assert result.outcome == "ok", result.error
    reconcile_source(ledger, "od", mappings, today, complete_run=True, run_id=result.run_id)


def stored(ledger, key: str) -> dict:
    with ledger.connect() as connection:
        return dict(connection.execute(sa.select(items).where(
            items.c.item_key == key)).mappings().one())


def history(ledger, key: str) -> list[tuple[str, dict]]:
    with ledger.connect() as connection:
        rows = connection.execute(sa.select(item_events.c.event, item_events.c.detail).where(
            item_events.c.item_key == key).order_by(item_events.c.event_id))
        return [(event, json.loads(detail)) for event, detail in rows]


def treatment(office: Office, planned: date) -> tuple[int, str]:
    """An active patient with a crown planned on `planned`: an unscheduled-treatment item."""
    patient = office.patient()
    office.procedure(patient, "D2740", 1200, planned=planned)
    return patient, f"unscheduled_treatment:od:{patient}"


@pytest.mark.mysql
@pytest.mark.conformance
def test_a_declined_commlog_resolves_the_treatment_and_it_stays_declined(
        office, ledger, source, tmp_path):
    patient, key = treatment(office, TODAY - timedelta(days=30))
    cycle(ledger, source)
    assert stored(ledger, key)["status"] == "open"
    declined = office.commlog_type("Tx Declined")
    office.commlog(patient, declined, at(TODAY - timedelta(days=1)), user=7, note=NOTE)
    cycle(ledger, source)
    item = stored(ledger, key)
    assert (item["status"], item["resolution"]) == ("resolved", "declined")
    event, detail = history(ledger, key)[-1]
    assert event == "resolved"
    assert detail == {"reason": "declined", "outcome": "declined", "via": "contact",
                      "what": "Tx Declined", "by": 7,
                      "at": f"{TODAY - timedelta(days=1)} 10:00:00"}
    with ledger.connect() as connection:
        every_event = " ".join(connection.execute(sa.select(item_events.c.detail)).scalars())
    assert "expensive" not in every_event                       # never the note's text

    events_before = len(history(ledger, key))
    cycle(ledger, source)                                        # the next cycles
    cycle(ledger, source, today=TODAY + timedelta(days=1))       # a new day: everyone again
    other = load_mappings(site_mappings(tmp_path, "workload:\n  capacity_per_day: 12\n"))
    cycle(ledger, source, mappings=other, full=True)             # new rules: everyone again
    office.run("UPDATE definition SET ItemName = 'Declined (old)' WHERE DefNum = %s",
               declined)                                         # the type renamed in Open Dental
    cycle(ledger, source, mappings=other)
    assert stored(ledger, key)["status"] == "resolved"
    assert len(history(ledger, key)) == events_before            # not reopened, not touched


@pytest.mark.mysql
@pytest.mark.conformance
def test_new_treatment_planned_after_the_decline_reopens_the_follow_up(office, ledger, source):
    patient, key = treatment(office, TODAY - timedelta(days=30))
    cycle(ledger, source)
    office.commlog(patient, office.commlog_type("treatment declined"),
                   at(TODAY - timedelta(days=10)))
    cycle(ledger, source)
    assert stored(ledger, key)["resolution"] == "declined"
    office.procedure(patient, "D2950", 300, planned=TODAY - timedelta(days=2))
    cycle(ledger, source)
    item = stored(ledger, key)
    assert (item["status"], item["episode"]) == ("open", 2)
    assert history(ledger, key)[-1][0] == "reopened"


@pytest.mark.mysql
@pytest.mark.conformance
def test_treatment_made_inactive_with_a_decline_logged_resolves_as_declined(
        office, ledger, source):
    patient, key = treatment(office, TODAY - timedelta(days=30))
    cycle(ledger, source)
    office.commlog(patient, office.commlog_type("Tx Declined"), at(TODAY))
    office.run("UPDATE procedurelog SET ProcStatus = 8 WHERE PatNum = %s", patient)  # TPi
    cycle(ledger, source)
    assert stored(ledger, key)["resolution"] == "declined"
    other, other_key = treatment(office, TODAY - timedelta(days=30))
    cycle(ledger, source)
    office.run("UPDATE procedurelog SET ProcStatus = 8 WHERE PatNum = %s", other)
    cycle(ledger, source)                              # no outcome logged: the usual reason
    assert stored(ledger, other_key)["resolution"] == "no_longer_eligible"


@pytest.mark.mysql
@pytest.mark.conformance
def test_a_decline_older_than_the_treatment_does_not_end_it(
        office, ledger, source):
    patient, key = treatment(office, TODAY - timedelta(days=5))
    office.commlog(patient, office.commlog_type("Tx Declined"), at(TODAY - timedelta(days=40)))
    cycle(ledger, source)
    assert stored(ledger, key)["status"] == "open"


@pytest.mark.mysql
@pytest.mark.conformance
def test_a_decline_recorded_before_tc_sync_first_looked_opens_nothing(office, ledger, source):
    patient, key = treatment(office, TODAY - timedelta(days=300))
    office.commlog(patient, office.commlog_type("Done Elsewhere"),
                   at(TODAY - timedelta(days=200)))
    cycle(ledger, source)
    with ledger.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(items).where(
            items.c.item_key == key)) == 0


@pytest.mark.mysql
@pytest.mark.conformance
def test_a_call_of_an_unmapped_type_is_still_an_attempt(office, ledger, source):
    patient, key = treatment(office, TODAY - timedelta(days=30))
    cycle(ledger, source)
    office.commlog(patient, office.commlog_type("Misc", "MISC"), at(TODAY - timedelta(days=1)))
    cycle(ledger, source)
    item = stored(ledger, key)
    assert (item["status"], item["attempts"]) == ("open", 1)
    assert history(ledger, key)[-1][0] == "contacted"


@pytest.mark.mysql
@pytest.mark.conformance
def test_a_claim_status_mapped_to_done_elsewhere_resolves_the_claim_until_another_is_set(
        office, ledger, source, tmp_path):
    mappings = load_mappings(site_mappings(tmp_path, """\
outcomes:
  done_elsewhere:
    claim_statuses: [Paid by patient]
"""))
    patient = office.patient()
    plan = office.plan()
    sub, _ = office.cover(patient, plan)
    procedure = office.procedure(patient, "D2740", 1200, status=2, planned=BLANK)
    sent = TODAY - timedelta(days=60)
    claim = office.claim(patient, plan, sub, [(procedure, 800)], status="S", service=sent,
                         sent=sent)
    key = f"claim_outstanding:od:{claim}"
    cycle(ledger, source, mappings)
    assert stored(ledger, key)["status"] == "open"
    office.track(claim, office.tracking_status("Paid by patient", ""),
                 at(TODAY - timedelta(days=1)))
    cycle(ledger, source, mappings)
    item = stored(ledger, key)
    assert (item["status"], item["resolution"]) == ("resolved", "done_elsewhere")
    assert history(ledger, key)[-1][1]["what"] == "Paid by patient"
    cycle(ledger, source, mappings, full=True)
    assert stored(ledger, key)["status"] == "resolved"
    office.track(claim, office.tracking_status("Resubmitted", ""), at(TODAY, 11))
    cycle(ledger, source, mappings)
    assert (stored(ledger, key)["status"], stored(ledger, key)["episode"]) == ("open", 2)
