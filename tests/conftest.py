"""Shared fixtures: real MariaDB and PostgreSQL servers, found by environment variables.

Defaults are the servers this project's machines run (MariaDB 127.0.0.1:3306 root without a
password, PostgreSQL 127.0.0.1:5432 trust). Where none answers, a container is started if
Docker is available. Under CI (CI=true) a missing server fails the test; elsewhere it skips.
"""

from __future__ import annotations

import gc
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa

from tc_sync.config import ConnectionSettings, SourceSettings
from tests.reliability.summary import Summary

SHARED = Path(__file__).resolve().parents[2] / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    """A daemon run in the test process settles what lives out of the garbage collector's
    reach (`tc_sync.memory.settle`); later tests, and libraries that ask the collector what
    refers to an object (Hypothesis does), find it as they would in a process of their own."""
    yield
    gc.unfreeze()


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing server is a failure)")
    pytest.skip(reason)


@dataclass(frozen=True)
class MysqlServer:
    host: str
    port: int
    user: str
    password: str

    def connect(self, database: str | None = None) -> pymysql.connections.Connection:
        return pymysql.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, database=database, autocommit=True,
                               charset="utf8mb4")


def _mysql_from_env() -> MysqlServer:
    return MysqlServer(os.environ.get("TC_SYNC_TEST_MYSQL_HOST", "127.0.0.1"),
                       int(os.environ.get("TC_SYNC_TEST_MYSQL_PORT", "3306")),
                       os.environ.get("TC_SYNC_TEST_MYSQL_USER", "root"),
                       os.environ.get("TC_SYNC_TEST_MYSQL_PASSWORD", ""))


@pytest.fixture(scope="session")
def mysql_server() -> Iterator[MysqlServer]:
    server = _mysql_from_env()
    try:
        server.connect().close()
    except pymysql.err.OperationalError as error:
        container_server = _mysql_container()
        if container_server is None:
            unavailable(f"no MariaDB/MySQL at {server.host}:{server.port} ({error.args[0]}) "
                        "and no Docker to start one")
        yield from container_server
        return
    yield server


def _mysql_container() -> Iterator[MysqlServer] | None:
    try:
        from testcontainers.mysql import MySqlContainer

        container = MySqlContainer("mariadb:10.11", username="root", password="test")
        container.start()
    except Exception:  # no Docker engine or no image: fall back to skip (or fail in CI)
        return None

    def serve() -> Iterator[MysqlServer]:
        try:
            yield MysqlServer(container.get_container_host_ip(),
                              int(container.get_exposed_port(3306)), "root", "test")
        finally:
            container.stop()

    return serve()


@pytest.fixture
def source(mysql_server: MysqlServer, mysql_database: str) -> SourceSettings:
    """An Open Dental source reading the test's MariaDB database."""
    return SourceSettings(kind="opendental", connection=ConnectionSettings(
        host=mysql_server.host, port=mysql_server.port, user=mysql_server.user,
        password=mysql_server.password or None, database=mysql_database))


@pytest.fixture
def mysql_database(mysql_server: MysqlServer) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"tc_test_{uuid.uuid4().hex[:10]}"
    with mysql_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8")
    try:
        yield name
    finally:
        with mysql_server.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def _pg_admin_url() -> str:
    return os.environ.get("TC_SYNC_TEST_PG_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    url = sa.make_url(_pg_admin_url())
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError:
        engine.dispose()
        unavailable(f"no PostgreSQL at {url.host}:{url.port}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"tc_test_{uuid.uuid4().hex[:10]}"
    with postgres_admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = postgres_admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty ledger on each backend tc-sync supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[sa.Engine]:
    """An opened, migrated ledger on each backend; disposed after the test."""
    from tc_sync.ledger.db import open_ledger

    engine = open_ledger(ledger_url)
    yield engine
    engine.dispose()


@pytest.fixture
def daemons() -> Iterator[list[subprocess.Popen[str]]]:
    """Daemon processes a test starts; any still running at the end is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)     # closes its pipes


# ---- the reliability summary table (tests/reliability/summary.py) -----------------------------

_RELIABILITY = Summary()


@pytest.fixture
def reliability() -> Summary:
    """Where a reliability scenario records its line of the summary table."""
    return _RELIABILITY


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of tests/reliability/ is part of the suite: `pytest -m reliability` runs it
    with the fuzzing and PHI tests that carry the marker themselves."""
    folder = Path(__file__).parent / "reliability"
    for item in items:
        if folder in item.path.parents:
            item.add_marker("reliability")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    marker = next((m for m in item.iter_markers("reliability") if m.args), None)
    if marker is not None and (report.when == "call" or (
            report.when == "setup" and not report.passed)) and not report.skipped:
        _RELIABILITY.tally(marker.args[0], failed=report.failed,
                           figure=marker.kwargs.get("figure", ""))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RELIABILITY.outcomes:
        return
    terminalreporter.section("reliability summary")
    terminalreporter.write_line(_RELIABILITY.table())
    report = os.environ.get("TC_SYNC_RELIABILITY_REPORT")
    if report:
        Path(report).write_text("# Reliability summary\n\n" + _RELIABILITY.table() + "\n")
