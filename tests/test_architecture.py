"""The shape the code promises a new engineer (docs/ARCHITECTURE.md): every module listed in its
Modules table, none over 500 lines, no circle of imports, the configuration at the bottom.

Read from the source files themselves (no import), so a move that breaks a promise fails here.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tc_sync"
MOST_LINES = 500
LONG_BY_NATURE = ("tc_sync/ledger/migrations/", "tc_sync/demo/odschema.py")
"""Schema history, and the fixture Open Dental schema as data: long, and read rarely."""


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules `path` imports: at the top, in functions, or for types only."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            wanted.add(base)
            wanted.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in wanted if target in known and target != name}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_every_module_is_in_the_architecture_pages_modules_table():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = page.split("\n## Modules", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(tc_sync/[\w/]+\.py)`", table))
    present = {relative(path) for path in modules().values()   # a package's __init__ only
               if "/migrations/versions/" not in relative(path)   # names its modules
               and path.name not in ("__init__.py", "__main__.py")}
    assert not present - listed, f"modules missing from the table: {sorted(present - listed)}"
    assert not listed - present, f"the table lists modules now gone: {sorted(listed - present)}"


def test_no_module_is_over_500_lines_but_the_schema_history_and_fixture_schema():
    long = {relative(path): lines for path in modules().values()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
            and not relative(path).startswith(LONG_BY_NATURE)}
    assert not long, f"split these by what they do: {long}"


def part(name: str) -> str:
    """The part of the package a module belongs to: `tc_sync.items.rules` -> `tc_sync.items`."""
    return ".".join(name.split(".")[:2])


def assert_no_circle(graph: dict[str, set[str]], what: str) -> None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"a circle of imports between {what}: {' -> '.join(error.args[1])}")


def import_graph() -> dict[str, set[str]]:
    found = modules()
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}
    # A package imports its own modules to export them; that is not a circle.
    return {name: {t for t in targets if not t.startswith(name + ".")}
            for name, targets in graph.items()}


def test_no_two_parts_of_the_package_import_each_other_even_around_a_circle():
    parts: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        parts.setdefault(part(name), set()).update(
            part(t) for t in targets if part(t) not in (part(name), "tc_sync"))
    assert_no_circle(parts, "parts of the package")


def test_no_two_modules_import_each_other_even_around_a_circle():
    assert_no_circle(import_graph(), "modules")


def test_the_configuration_package_imports_nothing_of_the_rest():
    found = modules()
    config = {name: path for name, path in found.items()
              if name == "tc_sync.config" or name.startswith("tc_sync.config.")}
    outside = {name: sorted(t for t in imports_of(name, path, set(found))
                            if not (t == "tc_sync.config" or t.startswith("tc_sync.config.")))
               for name, path in config.items()}
    assert not {name: targets for name, targets in outside.items() if targets}
