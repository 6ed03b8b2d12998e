"""One daemon per ledger and source: a second one refuses to start, and says why.

A SQLite ledger is locked with a file beside it. On a PostgreSQL ledger shared by a group's
daemons, each daemon holds a lease per source it syncs: a row in `source_leases` renewed every
third of `ledger.lease_seconds` by a short statement of its own. No connection or transaction
is held between renewals, so VACUUM is never blocked and a pooler in transaction mode
(PgBouncer) works; a daemon killed without a goodbye loses its sources when the lease expires.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
import structlog
from filelock import FileLock, Timeout

log = structlog.get_logger(__name__)

DEFAULT_LEASE_SECONDS = 60

_UTC_NOW = "(now() AT TIME ZONE 'UTC')"
_TAKE = sa.text(f"""
INSERT INTO source_leases (source_id, holder, acquired_at, renewed_at, expires_at)
VALUES (:source_id, :holder, {_UTC_NOW}, {_UTC_NOW}, {_UTC_NOW} + make_interval(secs => :ttl))
ON CONFLICT (source_id) DO UPDATE SET
    holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at,
    renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
WHERE source_leases.expires_at < {_UTC_NOW} OR source_leases.holder = EXCLUDED.holder
RETURNING source_id""")
_HOLDER = sa.text("SELECT holder, expires_at FROM source_leases WHERE source_id = :source_id")
_TAKE_OVER = sa.text(f"""
UPDATE source_leases SET holder = :holder, acquired_at = {_UTC_NOW}, renewed_at = {_UTC_NOW},
    expires_at = {_UTC_NOW} + make_interval(secs => :ttl)
WHERE source_id = :source_id AND holder = :stale
RETURNING source_id""")
_RENEW = sa.text(f"""
UPDATE source_leases SET renewed_at = {_UTC_NOW},
    expires_at = {_UTC_NOW} + make_interval(secs => :ttl)
WHERE holder = :holder AND source_id IN :source_ids
RETURNING source_id""").bindparams(sa.bindparam("source_ids", expanding=True))
_GIVE_BACK = sa.text("DELETE FROM source_leases WHERE holder = :holder "
                     "AND source_id IN :source_ids").bindparams(
    sa.bindparam("source_ids", expanding=True))


def _gone(holder: str) -> bool:
    """Whether a lease holder ('host:pid:token') was a process of this machine that no longer
    runs. Only on POSIX (signal 0 probes there; on Windows it would be a Ctrl+C); anything
    unsure counts as alive, so its lease is left to expire."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if os.name != "posix" or host != socket.gethostname()[:80] or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class AlreadyRunning(Exception):
    """Another tc-sync daemon holds the ledger (or one of its sources)."""


LostCallback = Callable[[list[str]], None]
"""Called (on the renewal thread) with the sources whose lease another daemon has taken."""


class DaemonLock:
    """Held for the life of `tc-sync run` (and of a `tc-sync sync` or `push`)."""

    def __init__(self, engine: sa.Engine, source_ids: Sequence[str], *,
                 lease_seconds: int = DEFAULT_LEASE_SECONDS,
                 on_lost: LostCallback | None = None) -> None:
        self.engine = engine
        self.source_ids = list(source_ids)
        self.lease_seconds = lease_seconds
        self.on_lost = on_lost
        self.holder = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._file: FileLock | None = None
        self._held: list[str] = []
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the ledger (SQLite) or every source's lease (PostgreSQL); raise AlreadyRunning."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database:
            path = Path(database).with_suffix(".lock")
            self._file = FileLock(path)
            try:
                self._file.acquire(timeout=0)
            except Timeout:
                raise AlreadyRunning(
                    f"another tc-sync daemon is using the ledger {database} "
                    f"(lock file {path}); stop it first") from None
            return
        for source_id in self.source_ids:
            self._take(source_id)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._keep_renewing, name="tc-sync-lease",
                                         daemon=True)
        self._renewer.start()

    def _take(self, source_id: str) -> None:
        with self.engine.begin() as connection:
            taken = connection.execute(_TAKE, {"source_id": source_id, "holder": self.holder,
                                               "ttl": self.lease_seconds}).first()
            other = None if taken else connection.execute(
                _HOLDER, {"source_id": source_id}).first()
            if other is not None and _gone(other.holder):
                # Its process, on this machine, is dead (killed): no need to wait for expiry.
                taken = connection.execute(_TAKE_OVER, {
                    "source_id": source_id, "holder": self.holder, "stale": other.holder,
                    "ttl": self.lease_seconds}).first()
        if taken:
            self._held.append(source_id)
            return
        self.release()
        who = f" ({other.holder.rsplit(':', 1)[0]}, lease until {other.expires_at:%H:%M:%S} UTC)" \
            if other else ""
        raise AlreadyRunning(
            f"another tc-sync daemon{who} is syncing source '{source_id}' into this ledger; "
            "run one daemon per source (a daemon that was killed gives its sources up when "
            "its lease expires)")

    def renew(self) -> list[str]:
        """Extend our leases now; return the sources whose lease another daemon has taken."""
        if not self._held:
            return []
        with self.engine.begin() as connection:
            kept = set(connection.execute(_RENEW, {
                "holder": self.holder, "ttl": self.lease_seconds,
                "source_ids": self._held}).scalars())
        lost = [source_id for source_id in self._held if source_id not in kept]
        self._held = [source_id for source_id in self._held if source_id in kept]
        return lost

    def _keep_renewing(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                lost = self.renew()
            except sa.exc.SQLAlchemyError as error:   # the ledger away: try again next time
                log.warning("lease_renewal_failed", error_class=type(error).__name__)
                continue
            if lost:
                log.error("lease_lost", sources=lost)
                if self.on_lost is not None:
                    self.on_lost(lost)

    def release(self) -> None:
        """Give the ledger or the leases back (another daemon may start at once)."""
        if self._file is not None:
            self._file.release()
            self._file = None
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        self._renewer = None
        if self._held:
            try:
                with self.engine.begin() as connection:
                    connection.execute(_GIVE_BACK, {"holder": self.holder,
                                                    "source_ids": self._held})
            except sa.exc.SQLAlchemyError as error:   # they expire by themselves
                log.warning("lease_release_failed", error_class=type(error).__name__)
            self._held = []

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
