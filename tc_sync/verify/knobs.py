"""Name the mapping settings ("knobs") of an item kind that differ between two rule sets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tc_sync.config.mappings import Mappings
from tc_sync.items.model import ItemKind

_READS: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.UNSCHEDULED_TREATMENT: ("coordination", "categories"),
    ItemKind.PREDETERMINATION_RETURNED: ("coordination", "categories"),
    ItemKind.BENEFITS_EXPIRING: ("kinds.unscheduled_treatment", "coordination", "categories",
                                 "benefits"),
}
"""Besides `kinds.<kind>`, the parts of the mappings a kind's rule reads."""

_NOT_MEMBERSHIP = ("queue", "cadence")
"""Settings of a kind that change where and when an item is worked, never whether it exists."""
_NOT_RULES = ("priority", "routing", "tasks", "cadence")


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for name, inner in value.items():
            yield from _flatten(inner, f"{path}.{name}" if path else str(name))
    else:
        yield path, value


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"[{', '.join(_show(v) for v in value)}]"
    return str(value)


def _describe(path: str, site: Any, parity: Any) -> str:
    if isinstance(site, list) and isinstance(parity, list) and len(site) + len(parity) > 8:
        dropped = [v for v in parity if v not in site]
        added = [v for v in site if v not in parity]
        parts = ([f"leaves out {', '.join(map(_show, dropped))}"] if dropped else []) + (
            [f"adds {', '.join(map(_show, added))}"] if added else [])
        return f"{path}: {'; '.join(parts)} (beside Open Dental's)"
    return f"{path}: {_show(site)} (Open Dental: {_show(parity)})"


def _affects_membership(path: str) -> bool:
    parts = path.split(".")
    if parts[0] in _NOT_RULES:
        return False
    return not (parts[0] == "kinds" and len(parts) > 2 and parts[2] in _NOT_MEMBERSHIP)


def differing(site: Mappings, parity: Mappings) -> dict[str, tuple[Any, Any]]:
    """Every setting that can change which items exist, where the two differ:
    dotted path -> (site value, parity value)."""
    ours = dict(_flatten(site.model_dump(mode="json")))
    theirs = dict(_flatten(parity.model_dump(mode="json")))
    return {path: (ours.get(path), theirs.get(path)) for path in sorted(ours.keys() | theirs.keys())
            if _affects_membership(path) and ours.get(path) != theirs.get(path)}


def knobs_for(kind: ItemKind, site: Mappings, parity: Mappings) -> tuple[str, ...]:
    """The knobs behind a difference in `kind`, as `path: site value (Open Dental: value)`
    (long lists as what the site leaves out and adds): those the kind's rule reads, else (a
    rule reading more than is known here) every one."""
    changed = differing(site, parity)
    prefixes = (f"kinds.{kind.value}", *_READS.get(kind, ()))
    mine = [path for path in changed
            if any(path == p or path.startswith(f"{p}.") for p in prefixes)]
    return tuple(_describe(path, *changed[path]) for path in (mine or list(changed)))
