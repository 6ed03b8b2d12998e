"""Open the ledger (SQLite or PostgreSQL) and bring its schema to the newest migration."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tc_sync.ledger.open_transactions import track

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
"""Where alembic records the ledger's schema revision."""


class LedgerError(Exception):
    """The ledger cannot be opened or migrated."""


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def ledger_folder(url: str) -> Path | None:
    """The folder of a SQLite ledger's file; None for any other ledger."""
    ledger_file = _sqlite_file(sa.make_url(url))
    return ledger_file.parent if ledger_file is not None else None


def folder_beside_ledger(url: str, name: str) -> Path:
    """Folder `name` beside a SQLite ledger's file, else `name` in the working directory."""
    folder = ledger_folder(url)
    return folder / name if folder is not None else Path(name)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the ledger file readable by its owner only (it holds PHI)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(descriptor)
    elif os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)


SQLITE_CACHE_KIB = 16384
"""Page cache of each SQLite ledger connection; the OS file cache holds the rest of the file."""

SQLITE_STATEMENTS = 16
"""Prepared statements each SQLite ledger connection keeps (Python's default is 128). A batch's
multi-row upsert binds up to 30,000 values and prepares to ~3 MB: 128 of them, a few per
stream, held ~90 MB for nothing once their stream was pulled (issue 17). The statements in use
stay prepared: each stream reuses one or two chunk shapes at a time."""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # 16 MiB: a 60,000-patient full sync and reconcile ran as fast as with 64 MiB, which each
    # connection kept filled for as long as it lived (issue 17)
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


PREPARE_OPTION = "prepare_threshold"
"""The ledger URL's option that says when psycopg prepares a statement (`none`: never)."""


def _prepare_threshold(url: sa.URL) -> tuple[sa.URL, dict[str, Any]]:
    """Take `?prepare_threshold=N|none` off a PostgreSQL URL, as psycopg's connect argument.

    psycopg prepares a statement it has run N times (5) on a connection. Behind a pooler in
    transaction mode (PgBouncer before 1.21 or without `max_prepared_statements`) the next
    transaction may run on another server connection, where that name is unknown or names
    another agent's statement, so there it must be `none`."""
    if PREPARE_OPTION not in url.query:
        return url, {}
    given = url.query[PREPARE_OPTION]
    text = (given[-1] if isinstance(given, tuple) else given).strip().lower()
    if text != "none" and not text.isdigit():
        raise LedgerError(f"ledger.url: {PREPARE_OPTION} must be a number or 'none' (never "
                          f"prepare statements, for PgBouncer in transaction mode), not "
                          f"'{text}'")
    threshold = None if text == "none" else int(text)
    return url.difference_update_query([PREPARE_OPTION]), {PREPARE_OPTION: threshold}


def create_ledger_engine(url: str, connections: int | None = None) -> sa.Engine:
    """An engine for the ledger at `url`; a SQLite file is created owner-only, in WAL mode.

    `connections` caps a PostgreSQL engine's pool: no more are ever opened, and a thread that
    needs one while all are in use waits for it. A PostgreSQL URL may end in
    `?prepare_threshold=none` (needed behind PgBouncer in transaction mode)."""
    parsed = sa.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        parsed, connect_args = _prepare_threshold(parsed)
    if parsed.get_backend_name() == "sqlite":
        connect_args["cached_statements"] = SQLITE_STATEMENTS
    sqlite_file = _sqlite_file(parsed)
    if sqlite_file is not None:
        old_umask = os.umask(0o077)
        try:
            _prepare_sqlite_file(sqlite_file)
        except OSError as error:
            raise LedgerError(
                f"cannot create the ledger file {sqlite_file}: {error.strerror}; check "
                "ledger.url and that this account may write there") from None
        finally:
            os.umask(old_umask)
    pool: dict[str, Any] = {}
    if connections is not None and parsed.get_backend_name() == "postgresql":
        pool = {"pool_size": connections, "max_overflow": 0, "pool_timeout": 300,
                "pool_pre_ping": True}
    try:
        engine = sa.create_engine(parsed, future=True, connect_args=connect_args, **pool)
    except (ImportError, sa.exc.ArgumentError) as error:
        raise LedgerError(f"cannot use ledger {parsed.render_as_string()}: {error}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _on_sqlite_connect)
    track(engine)       # how far back "changed since" must look: `ledger.open_transactions`
    return engine


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for a long read (a reconcile's facts, the work queues, a report, the
    digest). On PostgreSQL
    each statement is its own transaction, so none stays open while Python works between
    statements: VACUUM is never held back and a pooler's connection is free between them.
    The reads need no single snapshot: a build that saw a change half-way is redone when the
    change shows in its fingerprint. SQLite keeps its one read transaction (a WAL snapshot)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def release_idle_connections(engine: sa.Engine) -> None:
    """Close a SQLite ledger's idle connections, and with them their page caches and prepared
    statements (a new one opens in about a millisecond); a connection in use is closed when it
    is given back. A PostgreSQL ledger's connections are kept: they cost the server a login;
    so is an in-memory SQLite ledger's, which is the database itself."""
    if _sqlite_file(engine.url) is not None:
        engine.dispose()


_SQLITE_PROBLEMS = (
    ("SQLITE_FULL", "the ledger's disk is full"),
    ("SQLITE_IOERR", "the ledger's disk failed a read or a write"),
    ("SQLITE_READONLY", "the ledger file cannot be written"),
)
_POOLER_WITH_PREPARED = ("the ledger's connections pass through a pooler in transaction mode, "
                         "which loses prepared statements: end ledger.url with "
                         "?prepare_threshold=none (docs/INSTALL.md, Through PgBouncer)")
_POSTGRES_PROBLEMS = {
    "53100": "the ledger server's disk is full",
    "42P05": _POOLER_WITH_PREPARED,     # prepared statement "_pg3_0" already exists
    "26000": _POOLER_WITH_PREPARED,     # prepared statement "_pg3_0" does not exist
    "08P01": _POOLER_WITH_PREPARED,     # bind message supplies 2 parameters, but ... requires 10
}


def ledger_write_problem(error: BaseException) -> str | None:
    """Why the ledger refused a write, when it is the machine's to fix (its disk full, the
    file read-only, an I/O error), in words with no data in them; None for other errors.

    SQLite's error names and PostgreSQL's SQLSTATE are fixed codes, never row values."""
    orig = getattr(error, "orig", None) or error
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, words in _SQLITE_PROBLEMS:
            if name.startswith(prefix):
                return f"{words} ({name})"
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _POSTGRES_PROBLEMS:
        return f"{_POSTGRES_PROBLEMS[state]} (SQLSTATE {state})"
    return None


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


MIGRATION_LOCK_KEY = 0x7C5_0001
"""The PostgreSQL advisory lock key that serialises schema migrations (any fixed number)."""


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def migrate(engine: sa.Engine) -> str:
    """Apply every pending migration; return the schema revision now in place.

    Any number of processes may call it at once on one ledger: on PostgreSQL the upgrade runs
    under a transaction-scoped advisory lock (so it also works through a pooler in
    transaction mode), and whoever comes second finds the schema already current. Alembic
    is loaded only when there is something to apply (the daemon has a child process apply
    it: `tc_sync.ledger.upgrade`).
    """
    if is_current(engine):    # the usual start: nothing to do, no lock to wait for
        return head_revision()
    with _as_ledger_error(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY})
        _upgrade(connection)
        return current_revision(connection) or ""


def is_current(engine: sa.Engine) -> bool:
    """Whether the ledger's schema is already the newest this tc-sync ships."""
    with _as_ledger_error(), engine.connect() as connection:
        return current_revision(connection) == head_revision()


@contextmanager
def _as_ledger_error() -> Iterator[None]:
    """A database error while opening or migrating the ledger, as one sentence."""
    try:
        yield
    except sa.exc.OperationalError as error:
        raise LedgerError(f"cannot open the ledger: {_first_line(error)}") from None
    except sa.exc.SQLAlchemyError as error:
        raise _not_brought_up_to_date(error) from None


def _upgrade(connection: sa.Connection) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(_alembic_config(connection), "head")
    except CommandError as error:
        raise _not_brought_up_to_date(error) from None


def _not_brought_up_to_date(error: Exception) -> LedgerError:
    return LedgerError(
        f"cannot bring the ledger's schema up to date ({type(error).__name__}: "
        f"{_first_line(error)}); run the command again, and if it persists check "
        "ledger.url and the database user's rights")


def head_revision() -> str:
    """The newest migration this version of tc-sync ships: each is named by its revision
    (`0014_plan_times.py` is revision 0014, after 0013), so the newest is the highest."""
    return max(path.name.split("_", 1)[0]
               for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(connection: sa.Connection) -> str | None:
    """The schema revision the ledger is at (None: no tables yet), as alembic recorded it."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def open_ledger(url: str, connections: int | None = None) -> sa.Engine:
    """Create or open the ledger at `url` and migrate it to the newest schema."""
    engine = create_ledger_engine(url, connections)
    migrate(engine)
    return engine
