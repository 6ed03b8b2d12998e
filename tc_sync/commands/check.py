"""`tc-sync check`: configuration, adapters, and a read of each source; says how to fix."""

from __future__ import annotations

from datetime import timedelta

from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import Adapter, AdapterError, Stream
from tc_sync.commands.check_catalog import CatalogDriver, check_catalog
from tc_sync.config import Settings, SourceSettings
from tc_sync.config.mappings import Mappings
from tc_sync.config.mappings_file import load_mappings
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.drivers.registry import open_driver
from tc_sync.items.duties import kinds_off
from tc_sync.ledger.db import LedgerError, open_ledger

HINTS = {
    "connect": "check host, port, user and password in the configuration; the PMS server must "
               "accept connections from this machine for a read-only user",
    "version": "tc-sync reads only the schema versions its adapter lists",
    "stream": "the stream's SQL failed: if the adapter folder was patched, compare it with "
              "the shipped one; otherwise report the error",
}


def run_check(settings: Settings) -> int:
    problems = 0
    print("configuration: ok")
    mappings = load_mappings(settings.mappings_file)
    print(f"mappings: ok ({settings.mappings_file or 'shipped defaults'})")
    try:
        open_ledger(settings.ledger.url)
        print(f"ledger: ok ({settings.ledger.url.split('://')[0]})")
    except LedgerError as error:
        print(f"ledger: PROBLEM: {error}")
        problems += 1
    for source_id in settings.sources:
        problems += _check_source(settings, source_id, mappings)
    if not settings.sources:
        print("sources: none configured")
        problems += 1
    print("all checks passed" if problems == 0 else f"{problems} problem(s) found")
    return 0 if problems == 0 else 1


def _max_key(driver: Driver, stream: Stream) -> int:
    return int(driver.scalar(f"SELECT MAX({stream.spec.key}) FROM {stream.spec.table}") or 0)


def _warn_unknown_codes(driver: Driver, stream: Stream, mappings: Mappings) -> None:
    """Codes the mappings name that this PMS's code list does not have (a typo, usually)."""
    columns, rows = driver.query(stream.sql, {
        "after_key": 0, "until_key": _max_key(driver, stream), "since": None,
        "batch_size": 1_000_000})
    position = columns.index("code")
    known = {str(row[position]) for row in rows}
    rules = mappings.coordination
    for code in sorted(set(rules.include_codes) | set(rules.exclude_codes)):
        if code not in known:
            print(f"  warning: the mappings name code {code}, which this PMS does not have")


def _check_hints(driver: Driver, adapter: Adapter, source: SourceSettings) -> None:
    """Say whether the PMS's change hints can be read (a warning: the scans work without)."""
    sql = adapter.hints_sql()
    if sql is None or not source.schedule.hint_seconds:
        return
    try:
        driver.query(sql, {"since": driver.server_now() - timedelta(minutes=1),
                           "batch_size": 1})
    except DriverError as error:
        print(f"  change hints      WARNING: {error}\n    fix: let this user read what "
              f"{adapter.folder / str(adapter.manifest.hints)} reads, or set "
              "schedule.hint_seconds: 0; meanwhile changes arrive with each scan "
              "(schedule.interval_seconds)")
        return
    print(f"  change hints      readable: changes show within about "
          f"{source.schedule.hint_seconds} s")


def _check_source(settings: Settings, source_id: str, mappings: Mappings) -> int:
    source = settings.sources[source_id]
    try:
        adapter = load_adapter(source.kind, settings.adapters_dir, source.overrides)
        # A check answers at once: no retrying a server that is down.
        driver = open_driver(source.model_copy(update={
            "connection": source.connection.model_copy(update={"retries": 0})}))
    except (AdapterError, DriverError) as error:
        print(f"{source_id}: PROBLEM: {error}\n  fix: {HINTS['connect']}")
        return 1
    problems = 0
    with driver:
        off: set[str] = set()
        if isinstance(driver, CatalogDriver):
            problems, off = check_catalog(source_id, source, adapter, driver)
            if "version" in off:
                return problems
        try:
            version = str(driver.scalar(adapter.manifest.version.query) or "")
            adapter.check_version(version)
        except (AdapterError, DriverError) as error:
            print(f"{source_id}: PROBLEM: {error}\n  fix: {HINTS['version']}")
            return problems + 1
        print(f"{source_id}: {adapter.manifest.title} {version} via {driver.name}")
        pulled = set(source.streams) if source.streams else None
        streams = adapter.streams(version)
        width = max([17, *(len(stream.name) for stream in streams)])
        tables = max([14, *(len(stream.spec.table) for stream in streams)])
        for stream in streams:
            spec = stream.spec
            if stream.name in off or (pulled is not None and stream.name not in pulled):
                reason = "names missing (above)" if stream.name in off else (
                    f"not pulled (sources.{source_id}.streams)")
                print(f"  {stream.name:<{width}} off: {reason}")
                continue
            try:
                count = driver.scalar(f"SELECT COUNT(*) FROM {spec.table}")
                columns, _ = driver.query(stream.sql, {
                    "after_key": 0, "until_key": _max_key(driver, stream), "since": None,
                    "batch_size": 1})
                stream.converter.positions(columns)
                print(f"  {stream.name:<{width}} {spec.table:<{tables}} "
                      f"{int(count or 0):>10,} rows")
            except DriverError as error:
                print(f"  {stream.name:<{width}} PROBLEM: {error}\n    fix: {HINTS['stream']}")
                problems += 1
            except KeyError as error:
                print(f"  {stream.name:<{width}} PROBLEM: {stream.sql_file} does not return "
                      f"{error.args[0]}\n    fix: {HINTS['stream']}")
                problems += 1
            if stream.spec.record == "procedure_code" and problems == 0:
                _warn_unknown_codes(driver, stream, mappings)
        _check_hints(driver, adapter, source)
        records = {stream.spec.record for stream in adapter.streams(version)}
        for kind, missing in kinds_off(records):
            print(f"  {kind.value} is off on {adapter.manifest.title}: it reads no "
                  f"{', '.join(missing)} data (docs/ODBC.md)")
    return problems
