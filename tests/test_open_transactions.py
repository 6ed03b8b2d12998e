"""A ledger engine knows when each of its open transactions began, and forgets one when it
ends however it ends (what the kept queue rows look back to: `queues.row_cache`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tc_sync.ledger.db import create_ledger_engine
from tc_sync.ledger.open_transactions import tracked
from tc_sync.ledger.state import now_utc


@pytest.fixture
def engine(tmp_path):
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


def test_a_transaction_is_open_from_its_first_statement_until_it_commits(engine):
    transactions = tracked(engine)
    assert transactions is not None and transactions.oldest() is None
    with engine.connect() as connection:
        before = now_utc()
        connection.execute(sa.text("SELECT 1"))            # begins one (autobegin)
        began = transactions.oldest()
        assert began is not None and before <= began <= now_utc()
        connection.commit()
        assert transactions.oldest() is None


def test_the_oldest_of_several_is_reported_until_it_ends(engine):
    transactions = tracked(engine)
    with engine.connect() as first, engine.connect() as second:
        first.execute(sa.text("SELECT 1"))
        began = transactions.oldest()
        second.execute(sa.text("SELECT 1"))
        assert transactions.oldest() == began
        first.rollback()
        assert transactions.oldest() is not None and transactions.oldest() >= began
    assert transactions.oldest() is None                 # closing ends what was open


def test_a_transaction_that_failed_or_was_left_open_at_close_is_forgotten(engine):
    transactions = tracked(engine)
    with pytest.raises(ValueError), engine.begin():
        raise ValueError
    assert transactions.oldest() is None
    connection = engine.connect()
    connection.execute(sa.text("SELECT 1"))
    connection.close()
    assert transactions.oldest() is None


def test_one_open_for_longer_than_any_tc_sync_transaction_is_taken_for_lost(engine):
    transactions = tracked(engine)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
        assert transactions.oldest() is not None
        assert transactions.oldest(within=timedelta(0)) is None


def test_an_engine_made_elsewhere_is_not_followed():
    assert tracked(sa.create_engine("sqlite://")) is None
