"""Loading an adapter folder: its manifest, SQL files and a site's overrides, checked once.

The daemon calls `load_adapter` every cycle; an adapter whose files have not changed since
this process loaded it is not read again.
"""

from __future__ import annotations

import typing
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tc_sync.adapter.manifest import Adapter, AdapterError, ManifestModel, manifest_names
from tc_sync.adapter.names import NamesError, render, render_columns
from tc_sync.adapter.overrides import OverridesError, apply_overrides, read_overrides
from tc_sync.adapter.registry import adapter_folder
from tc_sync.config.yamlfile import YamlFileError, describe_validation_error, load_yaml
from tc_sync.records import RECORD_TYPES

_LOADED: dict[tuple[Any, ...], Adapter] = {}
"""Adapters already loaded by this process, keyed by their files' sizes and times."""


def _files_signature(folder: Path, overrides: Path | None) -> tuple[Any, ...]:
    files = sorted(folder.glob("*")) + ([overrides] if overrides is not None else [])
    signature: list[Any] = []
    for file in files:
        try:
            status = file.stat()
        except OSError:
            signature.append((str(file), None))
            continue
        signature.append((str(file), status.st_mtime_ns, status.st_size))
    return tuple(signature)


def load_adapter(kind: str, adapters_dir: Path | None = None,
                 overrides: Path | None = None) -> Adapter:
    """Load and check the adapter folder for PMS `kind` (e.g. 'opendental'): the site's,
    in `adapters_dir`, when it has one, else the shipped one.

    `overrides` is a site's file of table and column names, codes, values and cursors
    (see `tc_sync.adapter.overrides`); it applies to adapters that name their tables (ODBC).
    The daemon calls this every cycle: an adapter whose files have not changed since this
    process loaded it is not read again.
    """
    folder = adapter_folder(kind, adapters_dir)
    key = (kind, str(folder), str(overrides), _files_signature(folder, overrides))
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = _read_adapter(kind, folder, overrides)
        if len(_LOADED) >= 16:
            _LOADED.clear()
        _LOADED[key] = loaded
    return loaded


def _read_adapter(kind: str, folder: Path, overrides: Path | None) -> Adapter:
    manifest_file = folder / "manifest.yaml"
    if not manifest_file.is_file():
        raise AdapterError(f"no adapter for '{kind}': {manifest_file} does not exist")
    try:
        document = load_yaml(manifest_file)
        manifest = ManifestModel.model_validate(document.data)
    except YamlFileError as error:
        raise AdapterError(str(error)) from None
    except ValidationError as error:
        raise AdapterError("\n".join(describe_validation_error(error, document))) from None
    problems = _check_code_maps(manifest)
    if problems:
        raise AdapterError("\n".join(f"{manifest_file}: {problem}" for problem in problems))
    columns: dict[tuple[str, str], str] = {}
    if overrides is not None:
        manifest, columns = _with_overrides(folder, manifest, overrides)
    adapter = Adapter(folder, manifest, columns)
    try:
        adapter.streams(manifest.version.newest)
    except (ValueError, KeyError) as error:
        raise AdapterError(f"{manifest_file}: {error}") from None
    if manifest.tables:
        adapter = _with_version_query(adapter)
    return adapter


def _shipped_reads(folder: Path, manifest: ManifestModel) -> set[tuple[str, str]]:
    """Every (logical table, column) the adapter's SQL files, keys and cursors read."""
    names = manifest_names(manifest, {})
    reads: set[tuple[str, str]] = set()
    for spec in manifest.streams.values():
        for sql_name in {spec.sql, *spec.before.values()}:
            sql_file = folder / sql_name
            try:
                reads |= render(sql_file.read_text(encoding="utf-8"), names,
                                str(sql_file)).reads
            except OSError as error:
                raise AdapterError(f"{sql_file}: cannot read ({error.strerror})") from None
            except NamesError as error:
                raise AdapterError(str(error)) from None
        for expression in (spec.key, spec.cursor):
            if expression is not None:
                reads |= render_columns(expression, spec.table, names)[1]
    try:
        reads |= render(manifest.version.query, names, "version.query").reads
    except NamesError as error:
        raise AdapterError(f"{folder / 'manifest.yaml'}: {error}") from None
    return reads


def _with_overrides(folder: Path, manifest: ManifestModel, path: Path
                    ) -> tuple[ManifestModel, dict[tuple[str, str], str]]:
    """The manifest with a site's overrides file applied; errors name that file's lines."""
    if not manifest.tables:
        raise AdapterError(f"{path}: the {manifest.title} adapter takes no overrides file "
                           "(patch a copy of its folder through adapters_dir instead)")
    try:
        overrides, document = read_overrides(path)
        data, columns = apply_overrides(manifest.model_dump(), overrides, document,
                                        _shipped_reads(folder, manifest))
    except OverridesError as error:
        raise AdapterError(str(error)) from None
    try:
        merged = ManifestModel.model_validate(data)
    except ValidationError as error:
        raise AdapterError("\n".join(
            f"{path}: {problem['loc']}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False))) from None
    only_overrides = merged.model_copy(update={"code_maps": overrides.code_maps})
    problems = [f"{document.where(('code_maps', key), key=True)}: code_maps.{key}: {message}"
                for key, message in _code_map_problems(only_overrides)]
    if problems:
        raise AdapterError("\n".join(problems))
    return merged, columns


def _with_version_query(adapter: Adapter) -> Adapter:
    """The adapter with its version query rendered with the site's names."""
    manifest = adapter.manifest
    try:
        rendered = render(manifest.version.query, adapter.names, "version.query")
    except NamesError as error:
        raise AdapterError(f"{adapter.folder / 'manifest.yaml'}: {error}") from None
    version = manifest.version.model_copy(update={"query": rendered.sql})
    return Adapter(adapter.folder, manifest.model_copy(update={"version": version}),
                   adapter.columns, adapter.names.real(rendered.reads))


def _check_code_maps(manifest: ManifestModel) -> list[str]:
    return [f"code_maps.{key}: {message}" for key, message in _code_map_problems(manifest)]


def _code_map_problems(manifest: ManifestModel) -> list[tuple[str, str]]:
    """(code map, what is wrong with it) for every problem in the manifest's code maps."""
    problems = []
    for key, mapping in manifest.code_maps.items():
        stream_name, _, field = key.partition(".")
        stream = manifest.streams.get(stream_name)
        if stream is None:
            problems.append((key, f"no stream '{stream_name}'"))
            continue
        record = RECORD_TYPES[stream.record]
        annotations = typing.get_type_hints(record)
        if field not in annotations:
            problems.append((key, f"record {stream.record} has no field '{field}'"))
            continue
        enum = _enum_of(annotations[field])
        if enum is not None:
            allowed = {member.value for member in enum}
            for code, target in mapping.items():
                if target not in allowed:
                    problems.append((key, f"code {code!r} maps to '{target}', which is not "
                                          f"one of: {', '.join(sorted(allowed))}"))
    return problems


def _enum_of(annotation: Any) -> type[StrEnum] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, StrEnum):
            return candidate
    return None
