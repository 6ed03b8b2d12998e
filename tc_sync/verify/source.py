"""Verify one source: run each report on its PMS, compare with its open items, explain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.drivers.base import Driver
from tc_sync.items.facts import load_source_facts
from tc_sync.items.model import ItemKind
from tc_sync.ledger.schema import items
from tc_sync.verify.compare import Comparison, OpenItem, Reason, compare
from tc_sync.verify.explain import Explainer
from tc_sync.verify.query import run_report
from tc_sync.verify.reports import Report

PARITY_MAPPINGS = "opendental-reports.yaml"
"""The shipped site mappings that make every queue list what Open Dental's report lists."""


def parity_mappings_file() -> Path:
    """The parity mappings, inside an installed wheel or in the source tree."""
    packaged = Path(__file__).parent.parent / "_data" / "mappings"
    if packaged.is_dir():
        return packaged / PARITY_MAPPINGS
    return Path(__file__).resolve().parent.parent.parent / "mappings" / PARITY_MAPPINGS


def parity_mappings() -> Mappings:
    """The default mappings with the parity file over them (raises MappingsError)."""
    return load_mappings(parity_mappings_file())


@dataclass(frozen=True)
class ReportResult:
    """One report beside its kind's open items."""

    report: Report
    comparison: Comparison

    @property
    def kind(self) -> ItemKind:
        return self.report.spec.kind


@dataclass
class SourceResult:
    """What verify found for one source."""

    source_id: str
    reports: list[ReportResult] = field(default_factory=list)
    without_report: list[ItemKind] = field(default_factory=list)
    """Item kinds no report of this PMS lists (skipped)."""
    has_reports: bool = True

    def count(self, reason: Reason) -> int:
        return sum(1 for result in self.reports for difference in result.comparison.differences
                   if difference.reason == reason)


def open_items(connection: sa.Connection, source_id: str, kind: ItemKind) -> dict[int, OpenItem]:
    """The source's open items of a kind, by subject id (the last part of the key)."""
    rows = connection.execute(sa.select(
        items.c.item_key, items.c.patient_id, items.c.amount, items.c.snoozed_until).where(
        items.c.source_id == source_id, items.c.kind == kind.value, items.c.status == "open"))
    found = {}
    for key, patient, amount, snoozed in rows:
        subject = int(key.rsplit(":", 1)[1])
        found[subject] = OpenItem(key, subject, patient, amount, snoozed)
    return found


def verify_source(engine: sa.Engine, driver: Driver, source_id: str, reports: list[Report],
                  site: Mappings, parity: Mappings, today: date) -> SourceResult:
    """Run every report on the PMS and set it beside the ledger's open items of its kind."""
    result = SourceResult(source_id, has_reports=bool(reports))
    if not reports:
        return result
    found = {report.name: run_report(driver, report, today) for report in reports}
    with engine.connect() as connection:
        explainer = Explainer(connection, source_id, load_source_facts(connection, source_id),
                              site, parity, today)
        for report in reports:
            kind = report.spec.kind
            comparison = compare(kind, source_id, found[report.name],
                                 open_items(connection, source_id, kind), today)
            comparison.differences = explainer.explain(kind, comparison.differences)
            result.reports.append(ReportResult(report, comparison))
    listed = {report.spec.kind for report in reports}
    result.without_report = [kind for kind in ItemKind if kind not in listed]
    return result
