"""Build the queue files: every format, for the practice and (if configured) each clinic.

One build reads the open items once, then writes each file atomically, and only when what
it shows changed: each file's content digest (its rows, the sources' colours, the day, this
tc-sync's version; not the time it was built) is kept in the folder's list, and a file whose
digest is unchanged is neither rendered nor replaced. A file another program holds open (Excel
locks a workbook on Windows) is skipped and written next time. Files are 0640 (owner and
`queues.group`).
Files an earlier build wrote and this one did not (a queue renamed, a format dropped) are
removed, using the list each build leaves in the folder; nothing else there is touched.
Logs carry counts, queue names and file names, never a patient's name.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from tc_sync import __version__
from tc_sync.config import Settings
from tc_sync.config.clock import practice_today
from tc_sync.ledger.db import folder_beside_ledger, ledger_folder, reading
from tc_sync.observability.health import source_health
from tc_sync.queues.atomic import (
    GroupError,
    group_id,
    make_folder,
    remove_leftovers,
    same_content,
    write_atomic,
)
from tc_sync.queues.csv_writer import queue_csv
from tc_sync.queues.fingerprint import fingerprint, ledger_state
from tc_sync.queues.html import page_pieces
from tc_sync.queues.labels import clinic_labels, known_queues
from tc_sync.queues.patients import per_patient
from tc_sync.queues.row_cache import row_cache
from tc_sync.queues.rows import QueueRow, by_queue, queue_order
from tc_sync.queues.runs import FileRuns, compact
from tc_sync.queues.snapshot import Freshness, Snapshot
from tc_sync.queues.spool import Spool
from tc_sync.queues.xlsx import workbook

log = structlog.get_logger(__name__)

WORKBOOK = "queues.xlsx"
PAGE = "queues.html"
MANIFEST = ".tc-sync-queues.json"
ALL_CLINICS = "All clinics"
_QUEUE = attrgetter("queue")
_COUNTS = "counts"
"""Kept with the files' runs (by folder): each run's counts, for the queues' totals."""
_BUILDING = threading.Lock()     # two sources' cycles ending together build one after another
_RUNS: dict[Path, dict[str, FileRuns]] = {}
"""What the last build into each folder made of its files' runs of rows (`tc_sync.queues.runs`),
by the file's path in the folder: the next build copies what did not change."""
_SPOOLS: dict[Path, Spool] = {}
"""Where the runs of each folder's files keep their text (`tc_sync.queues.spool`)."""
_KEPT_FOLDERS = 4
"""Folders whose runs are kept at most (a daemon builds into one; the oldest is forgotten)."""
_READ_CACHE_KIB = 2048
"""SQLite page cache while the build reads: its reads are indexed look-ups, which gain little
from the 16 MiB a sync's batches keep hot, and the build should not grow the process by it
(8 MiB held the process 8 MB larger after a build that read every row, at 60,000 patients)."""


@dataclass
class QueueBuild:
    """What a build wrote."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    """Files whose content had not changed: left as they were."""
    skipped: dict[Path, str] = field(default_factory=dict)
    """Files left as they were, and why (in use, not writable)."""
    queues: dict[str, int] = field(default_factory=dict)
    """Open items per queue, whole practice."""
    seconds: float = 0.0
    digests: dict[str, str] = field(default_factory=dict)
    """Each file's content digest, by its path in the folder (kept in the folder's list)."""
    runs: dict[str, FileRuns] = field(default_factory=dict, repr=False)
    """What each file made of its runs of rows, by its path in the folder, for the next
    build."""
    whole: bool = False
    """Every row was read (the first build, a new day, hourly), not only what changed."""
    runs_made: int = 0
    """Runs of rows made for the files written (the others were copied from the last build's
    text: `tc_sync.queues.runs`)."""

    @property
    def problem(self) -> str | None:
        """A sentence when no file could be written at all (the folder is unusable)."""
        if self.written or self.unchanged or not self.skipped:
            return None
        why = next(iter(self.skipped.values())).split(":", 1)[0]
        return f"the work queues could not be written to {self.folder}: {why}"


@dataclass(frozen=True)
class _Group:
    folder: Path
    scope: str
    rows: list[QueueRow]
    clinic_column: bool
    listed: list[QueueRow] | None = None
    """`per_patient(rows)`, if known."""


def queues_folder(settings: Settings) -> Path:
    """The configured folder, else `queues` beside a SQLite ledger, else ./queues."""
    if settings.queues.folder is not None:
        return settings.queues.folder
    return folder_beside_ledger(settings.ledger.url, "queues")


def file_name(name: str) -> str:
    """A name safe on every file system and share: letters, digits, '.', '_' and '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "queue"


def csv_names(queues: Iterable[str]) -> dict[str, str]:
    """A distinct CSV file name for each queue."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for queue in queues:
        base = stem = file_name(queue)
        n = 1
        while stem.lower() in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.lower())
        names[queue] = f"{stem}.csv"
    return names


def build_queues(engine: sa.Engine, settings: Settings, *, folder: Path | None = None,
                 today: date | None = None, now: datetime | None = None,
                 force: bool = False) -> QueueBuild:
    """Write the configured formats of every queue from the ledger's open items.

    `today` (the practice's, by default) ages the items; `now` is when the files say they
    were built and what data freshness is measured against. A file whose content has not
    changed since the last build is left as it is, unless `force`.
    """
    started, cpu_started = time.perf_counter(), time.thread_time()
    zone = ZoneInfo(settings.timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    day = today or practice_today(settings, moment)
    target = folder or queues_folder(settings)
    source_ids = list(settings.sources)
    gid = group_id(settings.queues.group)
    with _BUILDING:
        before = _manifest(target)
        with reading(engine) as connection, _modest_cache(connection):
            freshness = [Freshness(h.source_id, h.colour.value, h.reason,
                                   h.last_success_at.replace(tzinfo=UTC).astimezone(zone)
                                   if h.last_success_at else None, h.aged)
                         for h in source_health(connection, settings, moment)]
            inputs = fingerprint(
                ledger_state(connection, source_ids), day,
                [(f.source_id, f.colour) for f in freshness], _shaping(settings))
            if not force and _nothing_new(target, before, inputs):
                return _quiet_build(target, before, started, cpu_started)
            cache = row_cache(engine, source_ids)
            if force:
                cache.forget()
                _RUNS.pop(target, None)
                _close_spool(target)
            kept = cache.rows(connection, source_ids, day)
            queues = known_queues(connection, source_ids)
            clinics = clinic_labels(connection, source_ids)
            visible = clinic_labels(connection, source_ids, visible_only=True)
        rows = kept.items
        result = QueueBuild(target)
        groups = [_Group(target, ALL_CLINICS, rows, bool(clinics), kept.listed)]
        if settings.queues.per_clinic:
            groups += _clinic_groups(target, rows, clinics, visible, len(source_ids) > 1)
        for group in groups:
            listed = group.listed if group.listed is not None else per_patient(group.rows)
            counts_name = f"{group.folder.relative_to(target).as_posix()}:{_COUNTS}"
            counted = result.runs[counts_name] = (_RUNS.get(target, {}).get(counts_name)
                                                  or FileRuns())
            snapshot = Snapshot(
                site_id=settings.site_id, scope=group.scope, built_at=moment, today=day,
                queues=by_queue(listed, queues), freshness=freshness,
                amber_after_minutes=settings.health.amber_after_minutes,
                red_after_minutes=settings.health.red_after_minutes,
                clinics=group.clinic_column, sources=len(source_ids) > 1, counted=counted)
            _write_group(group.folder, snapshot, settings.queues.formats, result,
                         _Previous(target, {} if force else _digests(before), gid,
                                   _RUNS.get(target, {}), _spool(target, settings)))
            if snapshot.counted_now:    # counts hold whether or not the files were written
                counted.keep()
        counts = Counter(map(_QUEUE, rows))
        result.queues = {queue: counts[queue]
                         for queue in sorted({*queues, *counts}, key=queue_order)}
        _forget_old_files(target, result, before, gid, inputs)
        _RUNS[target] = result.runs
        compact(_spool(target, settings), result.runs.values())
    result.seconds = time.perf_counter() - started
    read = cache.last_read
    result.whole = bool(read and read.whole)
    log.info("queues_built", folder=str(target), items=len(rows), queues=result.queues,
             patients_read=read.patients if read else None,
             patients_moved=read.moved if read else None,
             read_all=read.whole if read else None,
             runs_made=result.runs_made, files=len(result.written),
             unchanged=len(result.unchanged), skipped=len(result.skipped),
             seconds=round(result.seconds, 3),
             cpu_seconds=round(time.thread_time() - cpu_started, 3))
    return result


def _spool(target: Path, settings: Settings) -> Spool:
    """The spool of the folder's kept runs: beside a SQLite ledger (a folder as private as
    the ledger's PHI), else in the system's temporary folder."""
    spool = _SPOOLS.get(target)
    if spool is None:
        for older in list(_SPOOLS)[:max(0, len(_SPOOLS) - _KEPT_FOLDERS + 1)]:
            _RUNS.pop(older, None)
            _close_spool(older)
        spool = _SPOOLS[target] = Spool(ledger_folder(settings.ledger.url))
    return spool


def _close_spool(target: Path) -> None:
    """Forget the folder's spool, and with it the text its runs kept."""
    spool = _SPOOLS.pop(target, None)
    if spool is not None:
        spool.close()


@atexit.register
def _close_spools() -> None:
    for target in list(_SPOOLS):
        _close_spool(target)


def _shaping(settings: Settings) -> list[object]:
    """The settings that shape the files, for the fingerprint."""
    return [settings.site_id, settings.timezone, list(settings.sources),
            list(settings.queues.formats), settings.queues.per_clinic,
            settings.health.amber_after_minutes, settings.health.red_after_minutes]


def _nothing_new(target: Path, manifest: dict[str, object], inputs: str) -> bool:
    """The last build had these inputs and left every file it lists, none skipped."""
    files, digests = manifest.get("files"), _digests(manifest)
    return (manifest.get("fingerprint") == inputs and isinstance(files, list)
            and isinstance(manifest.get("queues"), dict)
            and all(str(name) in digests and (target / str(name)).is_file() for name in files))


def _quiet_build(target: Path, manifest: dict[str, object], started: float,
                 cpu_started: float) -> QueueBuild:
    """A build with nothing new: every file is left as it is, and no row is read."""
    listed = manifest.get("files")
    counts = manifest.get("queues")
    result = QueueBuild(target, unchanged=[target / str(name) for name in listed or []]
                        if isinstance(listed, list) else [],
                        digests=_digests(manifest))
    if isinstance(counts, dict):
        result.queues = {str(queue): int(count) for queue, count in counts.items()}
    result.seconds = time.perf_counter() - started
    log.info("queues_built", folder=str(target), items=sum(result.queues.values()),
             queues=result.queues, files=0, unchanged=len(result.unchanged), skipped=0,
             seconds=round(result.seconds, 3),
             cpu_seconds=round(time.thread_time() - cpu_started, 3), quiet=True)
    return result


@contextmanager
def _modest_cache(connection: sa.Connection) -> Iterator[None]:
    """A smaller SQLite page cache on this connection while the build reads, then as it was."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{_READ_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or 0)}")


def rebuild_after_cycle(engine: sa.Engine, settings: Settings,
                        source_id: str | None = None) -> QueueBuild | None:
    """The daemon's rebuild after a cycle: a failure is logged (no PHI), never raised."""
    return rebuild_or_explain(engine, settings, source_id)[0]


def rebuild_or_explain(engine: sa.Engine, settings: Settings, source_id: str | None = None,
                       *, today: date | None = None) -> tuple[QueueBuild | None, str | None]:
    """Build the queues if enabled (aged at `today`, the practice's by default); never raises.
    Returns the build (None if it failed or is off) and, when the files could not be written,
    one sentence saying why (no PHI)."""
    if not settings.queues.enabled:
        return None, None
    folder = queues_folder(settings)
    try:
        result = build_queues(engine, settings, today=today)
    except GroupError as error:
        problem = str(error)
        log.error("queues_failed", source=source_id, error_class="GroupError")
        return None, problem
    except Exception as error:  # the queues must never stop the sync
        detail = error.strerror if isinstance(error, OSError) else None
        log.error("queues_failed", source=source_id, error_class=type(error).__name__,
                  detail=detail)
        why = detail or type(error).__name__
        return None, f"the work queues could not be written to {folder}: {why}"
    if result.problem is not None:
        log.error("queues_failed", source=source_id, error_class="OSError",
                  skipped=len(result.skipped))
    return result, result.problem


def _clinic_groups(target: Path, rows: list[QueueRow], clinics: dict[tuple[str, int], str],
                   visible: dict[tuple[str, int], str], several_sources: bool) -> list[_Group]:
    """One group per clinic (visible in the PMS, or holding an item); 'No clinic' if needed."""
    per_clinic: dict[tuple[str, int], list[QueueRow]] = {key: [] for key in visible}
    for row in rows:
        per_clinic.setdefault((row.source_id, row.clinic_id or 0), []).append(row)
    groups = []
    taken: set[str] = {MANIFEST.lower()}
    for (source_id, clinic_id), clinic_rows in sorted(per_clinic.items()):
        label = clinics.get((source_id, clinic_id)) or (
            "No clinic" if not clinic_id else f"clinic {clinic_id}")
        name = stem = file_name(f"{source_id}-{label}" if several_sources else label)
        n = 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.lower())
        groups.append(_Group(target / name, label, clinic_rows, False))
    return groups


@dataclass(frozen=True)
class _Previous:
    """What the last build left: its folder, its files' digests; the group to give files."""

    target: Path
    digests: dict[str, str]
    group: int | None
    runs: dict[str, FileRuns]
    """What each file made of its runs of rows, by its path in the folder."""
    spool: Spool
    """Where new runs keep their text."""


def content_digest(snapshot: Snapshot) -> str:
    """What a set of files shows, as a digest: the rows, the sources' colours, the day, the
    settings that shape the files and this tc-sync's version; not the time of the build.
    Each row's digest is the one it keeps (`QueueRow.digest`)."""
    shown = (__version__, snapshot.site_id, snapshot.scope, snapshot.today,
             [(f.source_id, f.colour) for f in snapshot.freshness],
             snapshot.amber_after_minutes, snapshot.red_after_minutes, snapshot.clinics,
             snapshot.sources)
    digest = hashlib.sha256(repr(shown).encode("utf-8"))
    for queue, rows in snapshot.queues.items():    # row by row: never one string of them all
        digest.update(repr(queue).encode("utf-8"))
        for row in rows:
            digest.update(row.digest)
    return digest.hexdigest()


def _manifest(target: Path) -> dict[str, object]:
    try:
        data = json.loads((target / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _digests(manifest: dict[str, object]) -> dict[str, str]:
    digests = manifest.get("digests")
    if not isinstance(digests, dict):
        return {}
    return {str(name): str(value) for name, value in digests.items()}


def _write_group(folder: Path, snapshot: Snapshot, formats: Sequence[str],
                 result: QueueBuild, previous: _Previous) -> None:
    make_folder(folder, previous.group)
    remove_leftovers(folder)
    digest = content_digest(snapshot)
    outputs: list[tuple[Path, Callable[[FileRuns], bytes | Iterator[bytes]]]] = []
    if "xlsx" in formats:
        outputs.append((folder / WORKBOOK, partial(workbook, snapshot)))
    if "csv" in formats:
        outputs += [(folder / name, partial(queue_csv, snapshot, queue))
                    for queue, name in csv_names(snapshot.queues).items()]
    if "html" in formats:
        outputs.append((folder / PAGE, partial(page_pieces, snapshot)))
    for path, render in outputs:
        name = path.relative_to(previous.target).as_posix()
        file_digest = hashlib.sha256(f"{digest}:{name}".encode()).hexdigest()
        result.digests[name] = file_digest
        kept = result.runs[name] = previous.runs.get(name) or FileRuns(previous.spool)
        if previous.digests.get(name) == file_digest and path.is_file():
            result.unchanged.append(path)
            continue
        try:
            write_atomic(path, render(kept), group=previous.group)
        except BaseException as error:
            kept.discard()
            if not isinstance(error, OSError):
                raise
            result.digests.pop(name)
            result.skipped[path] = (f"{error.strerror or type(error).__name__}: another "
                                    "program may have it open; written after the next sync")
            log.warning("queue_file_not_written", file=path.name,
                        error_class=type(error).__name__, detail=error.strerror)
        else:
            result.runs_made += kept.made
            kept.keep()
            result.written.append(path)


def _forget_old_files(target: Path, result: QueueBuild, manifest_before: dict[str, object],
                      group: int | None, inputs: str) -> None:
    """Remove files only an earlier build wrote, then record this build's files."""
    manifest = target / MANIFEST
    ours = {path.relative_to(target).as_posix()
            for path in [*result.written, *result.unchanged, *result.skipped]}
    listed = manifest_before.get("files", [])
    before = {str(name) for name in listed} if isinstance(listed, list) else set()
    for name in sorted(before - ours):
        old = (target / name).resolve()
        if target.resolve() not in old.parents or not old.is_file():
            continue    # the list was edited by hand: never delete outside the folder
        try:
            old.unlink()
            if old.parent != target.resolve() and not any(old.parent.iterdir()):
                old.parent.rmdir()
        except OSError as error:
            log.warning("queue_file_not_removed", file=old.name,
                        error_class=type(error).__name__)
    content = json.dumps({"files": sorted(ours), "digests": dict(sorted(result.digests.items())),
                          "fingerprint": inputs, "queues": result.queues},
                         indent=1).encode("utf-8")
    if not same_content(manifest, content):
        write_atomic(manifest, content, group=group)
