"""A real PgBouncer (the Debian `pgbouncer` package) in transaction pooling mode, in front of the
tests' PostgreSQL, as a group's agents reach their shared ledger in production.

It listens on a free port of 127.0.0.1 with `auth_type = trust` (users from a generated
userlist) and logs in to PostgreSQL as the admin URL's user. PgBouncer refuses to run as root,
so under root it drops to `nobody` once it has read its (private) files.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from tests.observed import free_port

PREPARED_OFF = "prepare_threshold=none"
"""What docs/INSTALL.md says a ledger URL through PgBouncer in transaction mode must end in."""


def pgbouncer_binary() -> str | None:
    """The pgbouncer program: $TC_SYNC_TEST_PGBOUNCER, on PATH, or where Debian puts it; None
    if there is none."""
    given = os.environ.get("TC_SYNC_TEST_PGBOUNCER")
    if given:
        return shutil.which(given)
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")


@dataclass
class PgBouncer:
    """A running PgBouncer; `url()` is a ledger URL through it."""

    server: sa.URL
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    pool_size: int
    _log: Any = field(repr=False, default=None)

    def url(self, database: str, *, prepared_off: bool = True) -> str:
        """A ledger URL for `database` through PgBouncer (as docs/INSTALL.md writes it)."""
        url = self.server.set(host="127.0.0.1", port=self.port, database=database)
        text = url.render_as_string(hide_password=False)
        return f"{text}?{PREPARED_OFF}" if prepared_off else text

    def show(self, what: str) -> list[dict[str, Any]]:
        """`SHOW <what>` on PgBouncer's admin console (POOLS, STATS, CONFIG...)."""
        with psycopg.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer",
                             user=self.server.username, autocommit=True) as connection:
            cursor = connection.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def log(self) -> str:
        """What PgBouncer has logged so far."""
        return (self.folder / "pgbouncer.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Shut it down (SIGINT: safe shutdown) and remove its files."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _config(server: sa.URL, port: int, folder: Path, pool_size: int) -> str:
    target = f"host={server.host or '127.0.0.1'} port={server.port or 5432}"
    if server.password:
        target += f" user={server.username} password={server.password}"
    lines = [
        "[databases]",
        f"* = {target}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {folder / 'userlist.txt'}",
        f"admin_users = {server.username}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        "max_client_conn = 200",
        "query_wait_timeout = 120",
        "logfile =",
        "pidfile =",
    ]
    if os.geteuid() == 0:     # "PgBouncer should not run as root": it drops to this user
        lines.append("user = nobody")
    return "\n".join(lines) + "\n"


def start_pgbouncer(binary: str, server: sa.URL, *, pool_size: int = 1) -> PgBouncer:
    """Start PgBouncer in front of `server` (the PostgreSQL admin URL) and wait for it to
    answer. `pool_size` server connections per database and user: fewer than the agents'
    client connections, so they take turns on the same server connections."""
    folder = Path(tempfile.mkdtemp(prefix="tc-pgbouncer-"))
    folder.chmod(0o700)
    port = free_port()
    (folder / "userlist.txt").write_text(f'"{server.username}" ""\n', encoding="utf-8")
    (folder / "pgbouncer.ini").write_text(_config(server, port, folder, pool_size),
                                          encoding="utf-8")
    for path in folder.iterdir():
        path.chmod(0o600)
    log = (folder / "pgbouncer.log").open("wb")
    process = subprocess.Popen([binary, str(folder / "pgbouncer.ini")], stdout=log,
                               stderr=subprocess.STDOUT)
    bouncer = PgBouncer(server, port, folder, process, pool_size, log)
    deadline = time.monotonic() + 20
    while not _answers(bouncer):
        if process.poll() is not None or time.monotonic() > deadline:
            text = bouncer.log()
            bouncer.stop()
            raise RuntimeError(f"PgBouncer did not start: {text[-2000:]}")
        time.sleep(0.1)
    return bouncer


def _answers(bouncer: PgBouncer) -> bool:
    try:
        bouncer.show("VERSION")
    except psycopg.OperationalError:
        return False
    return True
