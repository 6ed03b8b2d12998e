"""Load an adapter's report queries: `reports/reports.yaml` and one SQL file per report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from tc_sync.config.yamlfile import YamlFileError, describe_validation_error, load_yaml
from tc_sync.items.model import ItemKind

REPORTS_FOLDER = "reports"
REPORTS_FILE = "reports.yaml"


class ReportsError(Exception):
    """A reports folder that cannot be used (one line per problem)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Suppression(_Strict):
    """Result columns of a claim's custom-tracking date and its status's days suppressed."""

    logged_on: str
    days: str


class ReportSpec(_Strict):
    """One report: its SQL file, the item kind it lists and the result columns to read."""

    title: str
    sql: str
    kind: ItemKind
    key: str
    patient: str
    amount: str
    suppression: Suppression | None = None
    benefit_year: bool = False


class ReportsModel(_Strict):
    reports: dict[str, ReportSpec]


@dataclass(frozen=True)
class Report:
    """A report ready to run."""

    name: str
    spec: ReportSpec
    sql: str


def reports_folder(adapter_folder: Path) -> Path:
    return adapter_folder / REPORTS_FOLDER


def load_reports(adapter_folder: Path) -> list[Report]:
    """The adapter's reports, in the file's order; none when it has no reports folder."""
    file = reports_folder(adapter_folder) / REPORTS_FILE
    if not file.is_file():
        return []
    try:
        document = load_yaml(file)
        model = ReportsModel.model_validate(document.data)
    except YamlFileError as error:
        raise ReportsError(str(error)) from None
    except ValidationError as error:
        raise ReportsError("\n".join(describe_validation_error(error, document))) from None
    loaded = []
    for name, spec in model.reports.items():
        sql_file = file.parent / spec.sql
        try:
            loaded.append(Report(name, spec, sql_file.read_text(encoding="utf-8")))
        except OSError as error:
            raise ReportsError(f"{sql_file}: cannot read ({error.strerror})") from None
    return loaded
