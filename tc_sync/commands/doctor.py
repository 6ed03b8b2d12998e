"""`tc-sync doctor`: is this installation healthy, and if not, what to do about it.

Checks the configuration; per source the connection, the PMS version, that the database user
can only read, and the two clocks; the ledger's integrity and schema revision; free disk space
for the ledger and the logs; that the work queues' folder can be written and is closed to other
users; the outbox backlog (when the ledger has one); each source's last
successful sync; when the mappings make Open Dental tasks, that each API target answers and
has the creator users, task lists and priorities they name. Every finding is ok, warn or fail
with a fix; the exit code is 2 when the configuration is wrong (as for every command), 1 when
another check failed, else 0. Nothing is written to the PMS
(the API is only asked GETs), and the ledger is only read.
"""

from __future__ import annotations

import getpass
import os
import shutil
import stat
import tempfile
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from tc_sync import __version__
from tc_sync.adapter.loading import load_adapter
from tc_sync.adapter.manifest import AdapterError
from tc_sync.adapter.registry import configuration_problems
from tc_sync.commands.diagnosis import (
    Finding,
    clock_finding,
    disk_finding,
    grants_finding,
    share_finding,
    zone_finding,
)
from tc_sync.config import ConfigError, Settings, SourceSettings, load_settings
from tc_sync.config.mappings import Mappings, MappingsError
from tc_sync.config.mappings_file import load_mappings
from tc_sync.drivers.base import Driver, DriverError
from tc_sync.drivers.registry import open_driver
from tc_sync.ledger.db import (
    MIGRATIONS,
    LedgerError,
    create_ledger_engine,
    current_revision,
    head_revision,
)
from tc_sync.observability.health import Colour, source_health
from tc_sync.observability.logs import default_log_file
from tc_sync.push.targets.base import PushError
from tc_sync.queues.atomic import GroupError, group_id
from tc_sync.queues.build import queues_folder

CONNECT_FIX = ("check host, port, database, user and password in the configuration; the PMS "
               "server must accept connections from this machine (firewall, bind-address)")
REBUILD_FIX = ("stop tc-sync, move the ledger file (with its -wal and -shm files) to another "
               "folder and start tc-sync again: a full sync rebuilds it from the PMS; the items' "
               "history (snoozes, assignments) comes back only from a backup")
_WAITING = ("pending", "retry", "in_flight")
_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def run_doctor(path: Path | None) -> int:
    """Print every finding as it is made; 2 when the configuration failed, 1 when another
    check did, else 0."""
    print(f"tc-sync doctor (tc-sync {__version__})", flush=True)
    counts = {"ok": 0, "warn": 0, "fail": 0}
    configuration_failed = False
    for finding in diagnose(path):
        counts[finding.status] += 1
        configuration_failed |= finding.area == "configuration" and finding.status == "fail"
        print(f"  {_MARKS[finding.status]}  {finding.area}: {finding.summary}", flush=True)
        if finding.fix and finding.status != "ok":
            print(f"        fix: {finding.fix}", flush=True)
    print(f"{counts['fail']} failed, {counts['warn']} warning(s), {counts['ok']} ok")
    if configuration_failed:
        return 2
    return 1 if counts["fail"] else 0


def diagnose(path: Path | None) -> Iterator[Finding]:
    """Every check, in the order an IT person would look."""
    settings = None
    mappings = None
    if path is None:
        yield Finding("configuration", "fail", "no configuration file was given",
                      "pass --config FILE or set TC_SYNC_CONFIG")
    else:
        try:
            settings = load_settings(path, check=configuration_problems)
            mappings = load_mappings(settings.mappings_file)
        except (ConfigError, MappingsError) as error:
            yield Finding("configuration", "fail", "; ".join(error.problems),
                          "correct the file at the line and column shown")
            settings = None
    if settings is None or mappings is None:
        return
    yield _configuration(path, settings)
    for source_id, source in settings.sources.items():
        if source.enabled:
            yield from _source(settings, source_id, source)
    yield from task_target_findings(settings, mappings)
    engine = yield from _ledger(settings)
    yield from _disk(settings)
    yield from queue_folder_findings(settings)
    if engine is not None:
        try:
            yield from outbox_findings(engine)
            yield from _last_syncs(engine, settings)
        finally:
            engine.dispose()


def _configuration(path: Path | None, settings: Settings) -> Finding:
    enabled = [source_id for source_id, source in settings.sources.items() if source.enabled]
    if not enabled:
        return Finding("configuration", "fail", f"{path}: no enabled source",
                       "add the practice's PMS under `sources:` (config/example.yaml shows how)")
    return Finding("configuration", "ok", f"{path}: {len(enabled)} source(s): "
                   f"{', '.join(enabled)}")


def _source(settings: Settings, source_id: str, source: SourceSettings) -> Iterator[Finding]:
    area = f"{source_id}: connection"
    try:
        adapter = load_adapter(source.kind, settings.adapters_dir, source.overrides)
        # The doctor answers at once: no retrying a server that is down.
        driver = open_driver(source.model_copy(update={
            "connection": source.connection.model_copy(update={"retries": 0})}))
    except (AdapterError, DriverError) as error:
        yield Finding(area, "fail", str(error), CONNECT_FIX)
        return
    with driver:
        try:
            version = str(driver.scalar(adapter.manifest.version.query) or "")
            adapter.check_version(version)
        except DriverError as error:
            yield Finding(area, "fail", f"connected, but cannot read the PMS version: {error}",
                          "the user needs SELECT on the PMS database (see the read-only check)")
            return
        except AdapterError as error:
            yield Finding(area, "fail", str(error),
                          "tc-sync reads only the schema versions its adapter lists: update "
                          "tc-sync, or the PMS")
            return
        where = (f" at {source.connection.host}:{source.connection.port}"
                 if source.connection.driver not in ("sqlite", "odbc") else "")
        yield Finding(area, "ok", f"{adapter.manifest.title} {version} via {driver.name}{where}")
        old_api = _api_version_finding(settings, source_id, version)
        if old_api is not None:
            yield old_api
        if driver.name.startswith("mysql"):
            yield from _mysql(settings, source_id, source, driver)


def task_target_findings(settings: Settings, mappings: Mappings) -> Iterator[Finding]:
    """For each Open Dental API target, when the mappings make tasks: the API answers these
    keys, and Open Dental has every creator user, task list and priority they name. Reads
    only: whether the key may also write (Open Dental's AllOthers permission) shows at the
    first task."""
    from tc_sync.push.targets.opendental_api import OpenDentalApi

    tasks = mappings.tasks
    if not tasks.kinds:
        return
    users = {user for entry in tasks.lists if (user := tasks.creator_for(entry)) is not None}
    lists = {entry.task_list for entry in tasks.lists}
    priorities = {entry.priority for entry in tasks.lists if entry.priority}
    for name, target in settings.push.targets.items():
        if target.kind != "opendental_api":
            continue
        area = f"{name}: Open Dental API"
        api = OpenDentalApi(name, target.model_copy(update={"timeout_seconds": 15.0}),
                            lambda: None)
        try:
            missing = api.missing(users, lists, priorities)
        except PushError as error:
            yield Finding(area, "fail", f"{target.base_url} did not answer: {error.message}",
                          _api_fix(error.code))
            continue
        finally:
            api.close()
        if missing:
            said = "; ".join(f"{kind} {', '.join(map(str, ids))}"
                             for kind, ids in missing.items())
            yield Finding(area, "fail", f"Open Dental has no {said} (named in the mappings' "
                          "tasks)", "correct the numbers in the mappings (userod.UserNum, "
                          "tasklist.TaskListNum, task priority DefNum), or add them in Open Dental")
            continue
        yield Finding(area, "ok", f"{target.base_url} answers; users, task lists and priorities "
                      "of the mappings exist")


def _api_version_finding(settings: Settings, source_id: str, version: str) -> Finding | None:
    """A failure when an Open Dental API target writes for this source and its version is
    older than the task endpoints (22.4.15)."""
    from tc_sync.push.targets.opendental_api import MINIMUM_VERSION, version_tuple

    if not any(target.kind == "opendental_api" and target.source == source_id
               for target in settings.push.targets.values()):
        return None
    found = version_tuple(version)
    if found is None or found >= MINIMUM_VERSION:
        return None
    return Finding(f"{source_id}: Open Dental API", "fail",
                   f"Open Dental {version} is older than 22.4.15, the first version whose API "
                   "can create and close tasks", "update Open Dental at the office")


def _api_fix(code: str) -> str:
    if code in ("401", "403"):
        return ("check the developer and customer keys, and that the developer key has the "
                "Read All and AllOthers permissions (docs/PUSH.md)")
    if code == "400-econnector":
        return "start the eConnector at the office (Remote mode needs it)"
    if code == "400-versioning":
        return "update Open Dental at the office to 22.4.15 or later"
    return ("check base_url: the API Service answers on the office server's port 30223 "
            "(inbound firewall rule) and must be running (docs/INSTALL.md)")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _mysql(settings: Settings, source_id: str, source: SourceSettings,
           driver: Driver) -> Iterator[Finding]:
    try:
        _, rows = driver.query("SHOW GRANTS")
        yield grants_finding(f"{source_id}: read-only", source.connection.user,
                             source.connection.database, [_text(row[0]) for row in rows])
    except DriverError as error:
        yield Finding(f"{source_id}: read-only", "warn",
                      f"the user's privileges could not be read ({error})",
                      "ask the MySQL administrator to check that the user has SELECT only")
    try:
        _, rows = driver.query("SELECT UTC_TIMESTAMP(), NOW()")
    except DriverError as error:
        yield Finding(f"{source_id}: clock", "warn", f"the PMS clock could not be read ({error})")
        return
    local = datetime.now(UTC).replace(tzinfo=None)
    server_utc = datetime.fromisoformat(_text(rows[0][0]))
    server_local = datetime.fromisoformat(_text(rows[0][1]))
    yield clock_finding(f"{source_id}: clock", server_utc, local)
    quarter_hours = round((server_local - server_utc) / timedelta(minutes=15))
    practice = ZoneInfo(settings.timezone).utcoffset(datetime.now(UTC).replace(tzinfo=None))
    zone = zone_finding(f"{source_id}: time zone", quarter_hours * timedelta(minutes=15),
                        practice or timedelta(0), settings.timezone)
    if zone is not None:
        yield zone


def _sqlite_path(settings: Settings) -> Path | None:
    url = sa.make_url(settings.ledger.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _ledger(settings: Settings) -> Generator[Finding, None, sa.Engine | None]:
    """Yields the ledger's findings; returns an engine for the later checks, or None."""
    path = _sqlite_path(settings)
    if path is not None and not path.exists():
        yield Finding("ledger", "warn", f"no ledger yet at {path}",
                      "it is made at the first sync: start the service, or run `tc-sync sync`")
        return None
    try:
        engine = create_ledger_engine(settings.ledger.url)
        with engine.connect() as connection:
            if path is not None:
                problems = [str(row) for row in connection.exec_driver_sql(
                    "PRAGMA quick_check").scalars()]
                if problems != ["ok"]:
                    yield Finding("ledger", "fail", f"{path} is damaged: {problems[0]}",
                                  REBUILD_FIX)
                    engine.dispose()
                    return None
            revision = current_revision(connection)
    except LedgerError as error:
        yield Finding("ledger", "fail", str(error), "check ledger.url in the configuration")
        return None
    except sa.exc.SQLAlchemyError as error:
        kind = "PostgreSQL" if path is None else str(path)
        cause = type(getattr(error, "orig", None) or error).__name__
        yield Finding("ledger", "fail", f"{kind} cannot be read ({cause})",
                      REBUILD_FIX if path is not None else
                      "check ledger.url, that PostgreSQL runs, and that this user may connect")
        return None
    yield _revision_finding(revision, "SQLite file " + str(path) if path else "PostgreSQL")
    if revision is None:                 # no tables: nothing more to read in it
        engine.dispose()
        return None
    return engine


def _revision_finding(revision: str | None, what: str) -> Finding:
    head = head_revision()
    if revision == head:
        return Finding("ledger", "ok", f"{what}: readable, schema {revision} (current)")
    if revision is None:
        return Finding("ledger", "warn", f"{what}: empty (no tables yet)",
                       "tc-sync creates the tables when it first starts")
    try:
        known = ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        return Finding("ledger", "fail", f"{what}: schema {revision} is newer than this "
                       f"tc-sync knows ({head})",
                       "this ledger was written by a newer tc-sync: install that version again")
    return Finding("ledger", "warn", f"{what}: schema {revision}, this tc-sync has {head}",
                   "nothing to do: tc-sync upgrades the ledger when it next starts")


def _disk(settings: Settings) -> Iterator[Finding]:
    folders: list[tuple[str, Path]] = []
    path = _sqlite_path(settings)
    if path is not None:
        folders.append(("disk (ledger)", path.resolve().parent))
    folders.append(("disk (logs)", default_log_file(settings).parent))
    for area, folder in folders:
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        usage = shutil.disk_usage(existing)
        yield disk_finding(area, f"{folder} (as {getpass.getuser()})", usage.free,
                           os.access(existing, os.W_OK))


def queue_folder_findings(settings: Settings) -> Iterator[Finding]:
    """The work queues' folder: its group exists, a file can be written there, and other
    users of this machine cannot read it (on Windows, the folder's ACL decides)."""
    if not settings.queues.enabled:
        return
    try:
        group_id(settings.queues.group)
    except GroupError as error:
        yield Finding("configuration", "fail", str(error),
                      "correct queues.group in the configuration")
    folder = queues_folder(settings).resolve()
    windows = os.name == "nt"
    others_mode: int | None = None
    exposed = 0
    problem = _write_problem(folder)
    if problem is None and folder.is_dir() and not windows:
        others_mode = stat.S_IMODE(folder.stat().st_mode) & 0o007
        exposed = sum(1 for path in folder.rglob("*")
                      if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o004)
    yield share_finding("queues folder", str(folder), problem=problem, others_mode=others_mode,
                        exposed_files=exposed, windows=windows)


def _write_problem(folder: Path) -> str | None:
    """Why a file cannot be written in `folder` (tried for real), or None. A folder not there
    yet must be creatable: its nearest existing parent is tried instead."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".tc-sync-doctor-"):
            pass
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def outbox_findings(engine: sa.Engine) -> Iterator[Finding]:
    """The backlog of actions owed to PMS tasks, e-mail and chat; only if there is an outbox."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("outbox"):
            return
        outbox = sa.Table("outbox", sa.MetaData(), autoload_with=connection)
        if "status" not in outbox.c:
            return
        counts = {str(status): int(count) for status, count in connection.execute(
            sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status))}
        oldest = None
        if "next_attempt_at" in outbox.c:
            oldest = connection.execute(sa.select(sa.func.min(outbox.c.next_attempt_at)).where(
                outbox.c.status.in_(_WAITING))).scalar()
    waiting = sum(counts.get(status, 0) for status in _WAITING)
    dead = counts.get("dead", 0)
    if dead:
        yield Finding("outbox", "warn", f"{dead} action(s) failed for good, {waiting} waiting",
                      "see them with `tc-sync outbox dead`, correct the target (address, key, "
                      "URL) in the configuration, then `tc-sync outbox retry`")
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    if oldest is not None and now - oldest > timedelta(hours=1):
        yield Finding("outbox", "warn", f"{waiting} action(s) waiting, the oldest due since "
                      f"{oldest:%Y-%m-%d %H:%M} UTC",
                      "check that the daemon runs and that its targets answer "
                      "(`tc-sync outbox list`)")
        return
    yield Finding("outbox", "ok", f"{waiting} action(s) waiting, none overdue")


def _last_syncs(engine: sa.Engine, settings: Settings) -> Iterator[Finding]:
    with engine.connect() as connection:
        healths = source_health(connection, settings)
    for health in healths:
        area = f"{health.source_id}: last sync"
        when = (f" ({health.last_success_at:%Y-%m-%d %H:%M} UTC)"
                if health.last_success_at else "")
        if health.colour is Colour.GREEN:
            yield Finding(area, "ok", f"{health.reason}{when}")
        elif health.last_success_at is None:
            yield Finding(area, "warn", "never synced successfully",
                          "start the service (or run `tc-sync sync` once) and run the doctor "
                          "again")
        elif health.colour is Colour.AMBER:
            yield Finding(area, "warn", f"{health.reason}{when}",
                          "see `tc-sync status` for the last run's problem; the service may be "
                          "stopped, or the PMS server unreachable")
        else:
            yield Finding(area, "fail", f"{health.reason}{when}",
                          "start the service and check `tc-sync status` for why runs fail; "
                          "coordinators are working from stale data")
