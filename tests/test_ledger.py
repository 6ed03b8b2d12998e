"""The ledger on SQLite and PostgreSQL: migrations, and how batches land in the replica."""

import os
import stat
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tc_sync.ledger.db import MIGRATIONS, LedgerError, head_revision, migrate, open_ledger
from tc_sync.ledger.replica import ReplicaWriter
from tc_sync.ledger.schema import metadata, replica
from tc_sync.records import Procedure, ProcedureStatus

NOW = datetime(2026, 11, 26, 12, 0)


def procedure(key: int, fee: str = "100.00", status=ProcedureStatus.PLANNED,
              changed_at=datetime(2026, 3, 1, 9, 0)) -> tuple[Any, ...]:
    cents = int(Decimal(fee) * 100)
    return (key, 7, "D2740", 120, status, cents, 1, 0, "3", "", date(2026, 3, 1),
            None, None, None, None, None, 1, None, changed_at)


def replica_rows(engine: sa.Engine) -> dict[int, dict]:
    table = replica[Procedure]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).where(table.c.source_id == "main"))
        return {row.pms_id: row._asdict() for row in rows}


def apply(engine, writer, rows, full_range=None, also_present=()):
    with engine.begin() as connection:
        return writer.apply(connection, rows, now=NOW, full_range=full_range,
                            also_present=also_present)


def test_migrations_build_exactly_the_schema_the_code_expects(ledger):
    engine = ledger
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head_revision()
    assert migrate(engine) == head_revision()      # a second run has nothing to do


def test_the_newest_migration_is_the_one_alembic_applies_last():
    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_daemon_on_a_current_ledger_without_sentry_carries_neither_alembic_nor_its_sdk(
        tmp_path):
    """Together about 30 MB of a daemon's memory for its whole life (issue 17)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    open_ledger(url).dispose()                      # made, and migrated, by an earlier start
    started = subprocess.run([sys.executable, "-c", f"""
import sys
from tc_sync.config import Settings
from tc_sync.commands import run
from tc_sync.ledger.db import open_ledger
from tc_sync.observability.sentry import flush_sentry, init_sentry
assert not init_sentry(Settings(site_id="clinic", ledger={{"url": {url!r}}}))
open_ledger({url!r}).dispose()
flush_sentry()
print(sorted(name for name in ("alembic", "sentry_sdk") if name in sys.modules))
"""], capture_output=True, text=True, check=True)
    assert started.stdout.strip() == "[]", started.stderr


def test_a_schema_that_cannot_be_migrated_is_one_sentence_not_a_traceback(tmp_path):
    path = tmp_path / "ledger.db"
    open_ledger(f"sqlite:///{path}").dispose()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:      # a ledger written by a newer tc-sync
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(LedgerError) as raised:
        open_ledger(f"sqlite:///{path}")
    message = str(raised.value)
    assert message.startswith("cannot bring the ledger's schema up to date")
    assert "\n" not in message


def test_a_sqlite_ledger_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "nested" / "ledger.db"
    open_ledger(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_new_rows_are_inserted_and_read_back_with_exact_money_and_dates(ledger):
    engine = ledger
    writer = ReplicaWriter(Procedure, "main", engine.dialect)
    changes = apply(engine, writer, [procedure(1, "1250.10"), procedure(2)])
    assert changes.inserted == [1, 2]
    rows = replica_rows(engine)
    assert rows[1]["fee"] == Decimal("1250.10")
    assert rows[1]["status"] == "planned"
    assert rows[1]["date_planned"] == date(2026, 3, 1)
    assert rows[1]["first_seen"] == NOW and rows[1]["deleted_at"] is None


def test_a_reread_row_that_did_not_change_is_not_written_again(ledger):
    engine = ledger
    writer = ReplicaWriter(Procedure, "main", engine.dialect)
    apply(engine, writer, [procedure(1), procedure(2)])
    changes = apply(engine, writer, [procedure(1, changed_at=datetime(2026, 4, 1)),
                                     procedure(2, "175.00")])
    assert changes.inserted == [] and changes.updated == [2]   # a new timestamp alone is no change
    assert replica_rows(engine)[2]["fee"] == Decimal("175.00")


def test_a_full_batch_marks_rows_the_pms_no_longer_has_as_deleted_and_keeps_them(ledger):
    engine = ledger
    writer = ReplicaWriter(Procedure, "main", engine.dialect)
    apply(engine, writer, [procedure(k) for k in (1, 2, 3, 4, 9)])
    changes = apply(engine, writer, [procedure(1), procedure(3)], full_range=(0, 5),
                    also_present=[4])
    assert changes.deleted == [2]               # 4 is quarantined, 9 is outside the batch
    rows = replica_rows(engine)
    assert rows[2]["deleted_at"] == NOW
    assert rows[4]["deleted_at"] is None and rows[9]["deleted_at"] is None
    revived = apply(engine, writer, [procedure(2)])
    assert revived.updated == [2] and replica_rows(engine)[2]["deleted_at"] is None


def test_incremental_batches_never_mark_anything_deleted(ledger):
    engine = ledger
    writer = ReplicaWriter(Procedure, "main", engine.dialect)
    apply(engine, writer, [procedure(1), procedure(2)])
    assert apply(engine, writer, [procedure(1, "1.00")]).deleted == []
    assert replica_rows(engine)[2]["deleted_at"] is None


@pytest.mark.parametrize("other_source", ["north"])
def test_sources_are_kept_apart(ledger, other_source):
    engine = ledger
    apply(engine, ReplicaWriter(Procedure, "main", engine.dialect), [procedure(1)])
    north = ReplicaWriter(Procedure, other_source, engine.dialect)
    changes = apply(engine, north, [procedure(1, "9.00")], full_range=(0, 10))
    assert changes.inserted == [1] and changes.deleted == []
    assert replica_rows(engine)[1]["fee"] == Decimal("100.00")


def test_releasing_idle_connections_keeps_what_the_ledger_holds(tmp_path):
    from tc_sync.ledger.db import release_idle_connections

    for url in (f"sqlite:///{tmp_path / 'ledger.db'}", "sqlite://"):
        engine = open_ledger(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE kept (n INTEGER)")
            connection.exec_driver_sql("INSERT INTO kept VALUES (1)")
        release_idle_connections(engine)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT n FROM kept").scalar() == 1
