"""Reading the coordination rules: the shipped defaults merged with a site's own file.

The shipped defaults (mappings/default.yaml) are merged with a site's own file, which only
needs what differs. Every problem names file, line, column and key. `load_mappings` refuses a
broken file; `MappingsKeeper` keeps the last good rules running when a change breaks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tc_sync.config.mappings import Mappings, MappingsError
from tc_sync.config.yamlfile import YamlDocument, YamlFileError, describe_problem, load_yaml


def _shipped(name: str) -> Path:
    packaged = Path(__file__).parent.parent / "_data" / "mappings" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "mappings" / name


def default_mappings_file() -> Path:
    """The shipped defaults, inside an installed wheel or in the source tree."""
    return _shipped("default.yaml")


def parity_mappings_file() -> Path:
    """The shipped Open Dental parity mappings: queues as Open Dental's own reports list."""
    return _shipped("opendental-reports.yaml")


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _document_for(loc: tuple[str | int, ...], documents: list[YamlDocument]) -> YamlDocument:
    for document in documents:
        for depth in range(len(loc), 0, -1):
            if tuple(loc[:depth]) in document.marks:
                return document
    return documents[-1]


def load_mappings(site_file: Path | None = None, default_file: Path | None = None) -> Mappings:
    """The default rules with a site's overrides applied; raises MappingsError."""
    documents = []
    try:
        documents.append(load_yaml(default_file or default_mappings_file()))
        if site_file is not None:
            documents.insert(0, load_yaml(site_file))
    except YamlFileError as error:
        raise MappingsError(error.problems) from None
    merged: Any = {}
    for document in reversed(documents):
        if not isinstance(document.data, dict):
            raise MappingsError([f"{document.path}: the file must be a mapping of settings"])
        merged = _merge(merged, document.data)
    try:
        mappings = Mappings.model_validate(merged)
    except ValidationError as error:
        raise MappingsError([
            describe_problem(detail, _document_for(tuple(detail["loc"]), documents))
            for detail in error.errors(include_url=False, include_input=False)]) from None
    missing: list[tuple[str | int, ...]] = [
        ("tasks", "lists", index) for index in mappings.tasks.without_creator()]
    if missing:
        raise MappingsError([describe_problem(
            {"loc": loc, "type": "value_error",
             "msg": "no creator_user: Open Dental requires the user a task is from; set "
                    "creator_user here or once under tasks (a userod.UserNum)"},
            _document_for(loc, documents)) for loc in missing])
    return mappings


class MappingsKeeper:
    """Holds the rules in force: a reload that fails keeps the last good ones and says why."""

    def __init__(self, site_file: Path | None = None) -> None:
        self.site_file = site_file
        self.current = load_mappings(site_file)
        self.last_problem: str | None = None

    def reload(self) -> Mappings:
        """Load the files again; on a problem keep the rules in force and record why."""
        try:
            self.current = load_mappings(self.site_file)
            self.last_problem = None
        except MappingsError as error:
            self.last_problem = str(error)
        return self.current


def as_mapping(mappings: Mappings) -> Mapping[str, Any]:
    """The rules as plain data (for `tc-sync check` and snapshots)."""
    return mappings.model_dump(mode="json")
