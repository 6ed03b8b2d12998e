"""Read YAML files so that every error can name the file, line, column and field.

`load_yaml` returns the data and a map from each value's path to where it was written.
`describe_validation_error` turns a pydantic ValidationError about that data into one message
per problem: ``config.yaml:12:7: sources[0].connection.port: Input should be a valid integer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

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


def _construct(node: yaml.Node, loc: Path_, marks: dict[Path_, tuple[int, int]],
               key_marks: dict[Path_, tuple[int, int]]) -> Any:
    marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if key_node.tag else key_node.value
            if key in result:
                line = key_node.start_mark.line + 1
                raise YamlFileError([f"line {line}: key '{key}' appears twice"])
            key_marks[(*loc, key)] = (key_node.start_mark.line + 1,
                                      key_node.start_mark.column + 1)
            result[key] = _construct(value_node, (*loc, key), marks, key_marks)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), marks, key_marks)
                for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_yaml(path: Path, text: str | None = None) -> YamlDocument:
    """Parse `path` (or `text`, reported as `path`); raise YamlFileError on bad YAML."""
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
    except OSError as error:
        raise YamlFileError([f"{path}: cannot read the file ({error.strerror})"]) from None
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        place = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise YamlFileError([f"{place}: not valid YAML: {error.problem}"]) from None
    except yaml.YAMLError as error:
        raise YamlFileError([f"{path}: not valid YAML: {error}"]) from None
    marks: dict[Path_, tuple[int, int]] = {}
    key_marks: dict[Path_, tuple[int, int]] = {}
    try:
        data = {} if node is None else _construct(node, (), marks, key_marks)
    except YamlFileError as error:
        raise YamlFileError([f"{path}:{p.removeprefix('line ')}" for p in error.problems]) from None
    return YamlDocument(path, data, marks, key_marks)


def dotted(loc: Path_) -> str:
    """`sources[0].connection.port` from ('sources', 0, 'connection', 'port')."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


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
    return f"{document.where(loc, key=unknown)}: {dotted(loc)}: {message}"


def describe_validation_error(
    error: ValidationError, document: YamlDocument, prefix: Path_ = ()
) -> Iterator[str]:
    """One `file:line:col: field: message` line per problem pydantic found."""
    for problem in error.errors(include_url=False, include_input=False):
        yield describe_problem(problem, document, prefix)
