"""Why a report and the open items differ: a mapping knob, a snooze, or unexplained.

A difference is the site's mappings' doing when the patient's records in the ledger, evaluated
by the rules under the parity mappings (default + mappings/opendental-reports.yaml), give what
Open Dental's report shows, and under the site's mappings give what tc-sync has.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.items.facts import SourceFacts, load_patient_facts
from tc_sync.items.model import DesiredItem, ItemKind
from tc_sync.items.rules import evaluate
from tc_sync.verify.compare import Difference, Reason, What
from tc_sync.verify.knobs import knobs_for


def knob_explains(difference: Difference, site: DesiredItem | None,
                  parity: DesiredItem | None) -> bool:
    """Whether the rules under the parity mappings give Open Dental's side of the difference
    and under the site's mappings tc-sync's side."""
    if difference.what == What.MISSING:
        return parity is not None and site is None
    if difference.what == What.EXTRA:
        return site is not None and parity is None
    if difference.what == What.AMOUNT and site is not None and parity is not None:
        return ((parity.amount or 0) == difference.open_dental_amount
                and (site.amount or 0) != (parity.amount or 0))
    return False


class Explainer:
    """Explains the differences of one source, evaluating each patient once per rule set."""

    def __init__(self, connection: sa.Connection, source_id: str, source: SourceFacts,
                 site: Mappings, parity: Mappings, today: date) -> None:
        self.connection = connection
        self.source_id = source_id
        self.source = source
        self.site = site
        self.parity = parity
        self.today = today

    def explain(self, kind: ItemKind, differences: list[Difference]) -> list[Difference]:
        """The differences, each with its reason (and the knobs, when a knob explains it)."""
        patients = {d.patient_id for d in differences if d.reason is None}
        facts = load_patient_facts(self.connection, self.source_id, patients)
        evaluated = {
            patient: tuple(evaluate(self.source_id, facts[patient], self.source, mappings,
                                    self.today) for mappings in (self.site, self.parity))
            for patient in patients}
        explained = []
        for difference in differences:
            if difference.reason is not None:
                explained.append(difference)
                continue
            site, parity = evaluated[difference.patient_id]
            if knob_explains(difference, site.get(difference.key), parity.get(difference.key)):
                explained.append(replace(difference, reason=Reason.KNOB,
                                         knobs=knobs_for(kind, self.site, self.parity)))
            else:
                explained.append(replace(difference, reason=Reason.UNEXPLAINED))
        return explained
