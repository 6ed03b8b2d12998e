"""Read YAML files so that every error can name the file, line, column and field.

`load_yaml` returns the data and a map from each value's path to where it was written.
`describe_validation_error` turns a pydantic ValidationError about that data into one message
per problem: ``config.yaml:12:7: sources[0].connection.port: Input should be a valid integer``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor

Path_ = tuple[str | int, ...]


class YamlFileError(Exception):
    """A YAML file that cannot be used; the message names file, line, column and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class YamlDocument:
    """Parsed YAML plus where each value came from."""

    path: Path
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Path_, *, key: bool = False) -> str:
        """`file:line:col` of the deepest written part of `loc` (of its key, if `key`)."""
        for depth in range(len(loc), -1, -1):
            part = tuple(loc[:depth])
            mark = (self.key_marks.get(part) if key else None) or self.marks.get(part)
            if mark is not None:
                return f"{self.path}:{mark[0]}:{mark[1]}"
        return str(self.path)


_MAX_VALUES = 100_000   # aliases can multiply a small file into billions of values


class _NodeError(Exception):
    """A node that cannot become a value: where it is, its path, and why."""

    def __init__(self, node: yaml.Node, loc: Path_, message: str) -> None:
        super().__init__(message)
        self.node, self.loc, self.message = node, loc, message


class _Lines:
    """Line and column of a character as an editor counts them: only a line feed ends a line. (The
    YAML reader also breaks lines at U+2028, U+2029 and U+0085, which would point past the
    line the administrator sees.)"""

    def __init__(self, source: str) -> None:
        self._ends = [match.start() for match in re.finditer("\n", source)]

    def at(self, mark: yaml.Mark) -> tuple[int, int]:
        before = bisect_left(self._ends, mark.index)
        start = self._ends[before - 1] + 1 if before else 0
        return before + 1, mark.index - start + 1


def _construct(node: yaml.Node, loc: Path_, marks: dict[Path_, tuple[int, int]],
               key_marks: dict[Path_, tuple[int, int]], lines: _Lines,
               active: set[int] | None = None) -> Any:
    active = set() if active is None else active
    if id(node) in active:
        raise _NodeError(node, loc, "an alias (*name) refers to a value that contains it")
    if len(marks) >= _MAX_VALUES:
        raise _NodeError(node, loc, f"more than {_MAX_VALUES:,} values (aliases expand too far)")
    marks[loc] = lines.at(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _NodeError(key_node, loc, "merge keys (<<) are not supported: "
                                                "write the settings out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _NodeError(key_node, loc, "a key must be a plain name, not a list or "
                                                "a mapping")
            key = _scalar(key_node, loc) if key_node.tag else key_node.value
            if key in result:
                raise _NodeError(key_node, (*loc, key), "appears twice")
            key_marks[(*loc, key)] = lines.at(key_node.start_mark)
            result[key] = _construct(value_node, (*loc, key), marks, key_marks, lines, active)
        active.discard(id(node))
        return result
    if isinstance(node, yaml.SequenceNode):
        active.add(id(node))
        items = [_construct(item, (*loc, i), marks, key_marks, lines, active)
                 for i, item in enumerate(node.value)]
        active.discard(id(node))
        return items
    return _scalar(node, loc)


def _scalar(node: yaml.Node, loc: Path_) -> Any:
    """The node's value as `yaml.safe_load` reads it (the same safe constructors, the same
    errors), built from the node itself: writing each value out and parsing it again cost
    ~0.1 ms a value, and the daemon re-reads the adapter manifest and the mappings (~1,000
    values) before every cycle."""
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except yaml.MarkedYAMLError as error:   # an unknown tag (!foo, !!python/...)
        raise _NodeError(node, loc, str(error.problem).splitlines()[0]) from None
    except (yaml.YAMLError, ValueError, OverflowError):   # 2026-13-45, !!int abc
        raise _NodeError(node, loc, f"'{node.tag.rsplit(':', 1)[-1]}' value that cannot "
                                    "be read") from None


def _yaml_problem(path: Path, source: str, error: yaml.YAMLError) -> str:
    """One line naming where the text stops being YAML."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark
        place = f"{path}:{':'.join(map(str, _Lines(source).at(mark)))}" if mark else str(path)
        what = error.problem or error.context or "cannot be parsed"
        return f"{place}: not valid YAML: {what}"
    if isinstance(error, yaml.reader.ReaderError):
        before = source[:error.position]
        line = before.count("\n") + 1
        column = error.position - (before.rfind("\n") + 1) + 1
        return (f"{path}:{line}:{column}: not valid YAML: character "
                f"#x{int(error.character):04x} is not allowed (a binary or control character)")
    return f"{path}: not valid YAML: {' '.join(str(error).split())}"


def load_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse `path` (or `text`, reported as `path`); raise YamlFileError on bad YAML."""
    try:
        raw = path.read_bytes() if text is None else None
        source = raw.decode("utf-8") if raw is not None else (text or "")
    except OSError as error:
        raise YamlFileError([f"{path}: cannot read the file ({error.strerror})"]) from None
    except UnicodeDecodeError as error:
        assert raw is not None
        before = raw[:error.start]
        line, column = before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1
        raise YamlFileError([f"{path}:{line}:{column}: not UTF-8 text (a binary file, or "
                             "saved in another encoding): save it as UTF-8"]) from None
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise YamlFileError([_yaml_problem(path, source, error)]) from None
    except RecursionError:
        raise YamlFileError([f"{path}: not valid YAML: values nested too deeply"]) from None
    marks: dict[Path_, tuple[int, int]] = {}
    key_marks: dict[Path_, tuple[int, int]] = {}
    lines = _Lines(source)
    try:
        data = {} if node is None else _construct(node, (), marks, key_marks, lines)
    except _NodeError as error:
        line, column = lines.at(error.node.start_mark)
        raise YamlFileError([f"{path}:{line}:{column}: {dotted(error.loc)}: "
                             f"{error.message}"]) from None
    except RecursionError:
        raise YamlFileError([f"{path}: values nested too deeply"]) from None
    return YamlDocument(path, data, marks, key_marks)


def one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped: one line of a report."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def dotted(loc: Path_) -> str:
    """`sources[0].connection.port` from ('sources', 0, 'connection', 'port')."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return one_line(text) or "(top level)"


def _data_loc(loc: tuple[str | int, ...]) -> Path_:
    # pydantic puts union/tagged-union member names into loc; they are not in the file.
    return tuple(part for part in loc if not (isinstance(part, str) and "[" in part))


def describe_problem(problem: Any, document: YamlDocument, prefix: Path_ = ()) -> str:
    """`file:line:col: field: message` for one of pydantic's error details."""
    loc = (*prefix, *_data_loc(tuple(problem["loc"])))
    message = problem["msg"]
    unknown = problem["type"] == "extra_forbidden"
    if unknown:
        message = "unknown key (check its spelling and where it is indented)"
    elif problem["type"] == "missing":
        message = "required but missing"
    return f"{document.where(loc, key=unknown)}: {dotted(loc)}: {one_line(str(message))}"


def describe_validation_error(
    error: ValidationError, document: YamlDocument, prefix: Path_ = ()
) -> Iterator[str]:
    """One `file:line:col: field: message` line per problem pydantic found."""
    for problem in error.errors(include_url=False, include_input=False):
        yield describe_problem(problem, document, prefix)
