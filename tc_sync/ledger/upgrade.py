"""Bring the daemon's ledger up to date in a process of its own (issue 17).

Once imported, Alembic and what it loads (Mako, Pygments) stay in a process: about 11 MB that
a daemon started on a new or upgraded install would carry for the rest of its life. So
`tc-sync run` opens its ledger with `open_ledger_apart`: when there are migrations to apply,
a short-lived child process applies them (`python -m tc_sync.ledger.upgrade`, the ledger's
URL on its standard input, never on its command line: it may hold a password), and the
daemon finds the schema current. A ledger only this process can see (SQLite in memory), or a
child process that cannot run, is migrated in this process, as `open_ledger` does.
"""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
import structlog

from tc_sync.ledger.db import (
    LedgerError,
    create_ledger_engine,
    head_revision,
    is_current,
    ledger_folder,
    migrate,
)

log = structlog.get_logger(__name__)

LEDGER_PROBLEM = 3
"""The child's exit code when the ledger cannot be migrated (its reason on standard error)."""


def open_ledger_apart(url: str, connections: int | None = None) -> sa.Engine:
    """`tc_sync.ledger.db.open_ledger`, with the migrations applied by a child process."""
    engine = create_ledger_engine(url, connections)
    try:
        if not is_current(engine):
            if not _in_memory(engine, url):
                _migrate_in_child(url)
            migrate(engine)       # nothing left to do once the child has done it
    except BaseException:
        engine.dispose()
        raise
    return engine


def _in_memory(engine: sa.Engine, url: str) -> bool:
    return engine.dialect.name == "sqlite" and ledger_folder(url) is None


def _migrate_in_child(url: str) -> None:
    """Apply the migrations in a child process; raises LedgerError with the child's reason.
    A child that cannot start or fails otherwise leaves the migrations to this process."""
    try:
        done = subprocess.run(  # noqa: S603 (this interpreter and module; the URL on stdin)
            [sys.executable, "-m", __name__], input=url, text=True,
            capture_output=True, check=False)
    except OSError as error:
        log.warning("ledger_upgrade_here", reason=type(error).__name__)
        return
    if done.returncode == LEDGER_PROBLEM:
        lines = done.stderr.strip().splitlines()
        raise LedgerError(lines[-1] if lines else "cannot bring the ledger's schema up to date")
    if done.returncode != 0:
        log.warning("ledger_upgrade_here", reason=f"exit code {done.returncode}")
        return
    log.info("ledger_upgraded", revision=head_revision())


def main() -> int:
    """The child: migrate the ledger whose URL is on standard input."""
    try:
        engine = create_ledger_engine(sys.stdin.read().strip())
        try:
            migrate(engine)
        finally:
            engine.dispose()
    except LedgerError as error:
        print(error, file=sys.stderr)
        return LEDGER_PROBLEM
    return 0


if __name__ == "__main__":
    sys.exit(main())
