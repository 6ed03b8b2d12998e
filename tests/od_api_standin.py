"""A STAND-IN for the Open Dental API's task endpoints, for tests and benchmarks.

The real API runs inside Open Dental (Local API, API Service) or at Open Dental (Remote),
none of which can run here. This is a real HTTP server that implements the documented
`/tasks` endpoints (GET list, GET one, POST, PUT) over Open Dental's real `task` tables in
MariaDB (created from Open Dental's own 21.1.9 schema), checks the `ODFHIR dev/customer`
authorization header and the required fields, and answers 429, 500 or nothing on demand.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymysql

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "opendental" / "schema-21.1.9.sql"
TASK_TABLES = ("task", "tasklist", "taskancestor", "taskunread", "tasksubscription", "signalod")
STATUS_NAMES = {0: "New", 1: "Viewed", 2: "Done"}
OBJECT_TYPES = {"None": 0, "Patient": 1, "Appointment": 2}
PAGE = 100


def create_task_tables(connection: pymysql.connections.Connection) -> None:
    """Open Dental's own CREATE TABLE statements for the task tables, from its 21.1.9 dump."""
    dump = SCHEMA.read_text(encoding="utf-8")
    with connection.cursor() as cursor:
        for name in TASK_TABLES:
            match = re.search(rf"CREATE TABLE `{name}` \(.*?\) ENGINE=\w+[^;]*;", dump, re.S)
            assert match, f"no CREATE TABLE {name} in {SCHEMA}"
            cursor.execute(f"DROP TABLE IF EXISTS `{name}`")
            cursor.execute(match.group(0))


def add_task_lists(connection: pymysql.connections.Connection,
                   lists: list[tuple[int, str, int]]) -> None:
    """Task lists as Open Dental keeps them: (TaskListNum, description, parent list or 0)."""
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO tasklist (TaskListNum, Descript, Parent, FromNum, GlobalTaskFilterType, "
            "TaskListStatus) VALUES (%s, %s, %s, 0, 0, 0)", lists)


@dataclass
class Fault:
    """What the next matching request gets instead of a normal answer."""

    method: str
    status: int = 500
    retry_after: int | None = None
    after_commit: bool = False
    """Do the work, then answer `status` (or hang): the client cannot know it happened."""
    hang_seconds: float = 0.0


@dataclass
class StandIn:
    host: str
    port: int
    user: str
    password: str
    database: str
    developer_key: str = "dev-key"
    customer_key: str = "cust-key"
    version: str = "24.3.10.0"
    latency_seconds: float = 0.0
    """Before a request is handled."""
    reply_latency_seconds: float = 0.0
    """After it is handled, before the answer: the window where a client cannot know."""
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def fail_next(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def _fault_for(self, method: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.method == method:
                    return self.faults.pop(index)
        return None

    def connect(self) -> pymysql.connections.Connection:
        return pymysql.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, database=self.database,
                               autocommit=True, charset="utf8mb4")

    def pooled(self) -> pymysql.connections.Connection:
        """This handler thread's connection (a keep-alive client stays on one thread)."""
        connection = getattr(self.local, "connection", None)
        if connection is None or not connection.open:
            connection = self.local.connection = self.connect()
        return connection

    def release(self) -> None:
        """Close this thread's connection (its client went away)."""
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            self.local.connection = None
            connection.close()

    def tasks(self) -> list[dict[str, Any]]:
        """Every task row, for assertions."""
        with self.connect() as connection, connection.cursor(pymysql.cursors.DictCursor) as c:
            c.execute("SELECT * FROM task ORDER BY TaskNum")
            return list(c.fetchall())


def _task_json(row: dict[str, Any]) -> dict[str, Any]:
    object_type = {v: k for k, v in OBJECT_TYPES.items()}[row["ObjectType"]]
    return {
        "TaskNum": row["TaskNum"], "TaskListNum": row["TaskListNum"],
        "DateTask": str(row["DateTask"]), "KeyNum": row["KeyNum"], "Descript": row["Descript"],
        "TaskStatus": STATUS_NAMES[row["TaskStatus"]], "ObjectType": object_type,
        "UserNum": row["UserNum"], "PriorityDefNum": row["PriorityDefNum"],
        "DateTimeEntry": str(row["DateTimeEntry"]),
        "DateTimeOriginal": str(row["DateTimeOriginal"]),
        "DateTimeFinished": str(row["DateTimeFinished"]),
    }


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True      # answer at once, as a real server does
        wbufsize = 1 << 16                  # headers and body in one write

        def log_message(self, *args: Any) -> None:    # quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass                                   # the client was killed mid-request
            finally:
                state.release()

        def _reply(self, status: int, body: Any = None,
                   headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            body = self._body() if method in ("POST", "PUT") else {}
            state.requests.append((method, url.path, len(state.requests)))
            if state.latency_seconds:
                time.sleep(state.latency_seconds)
            expected = f"ODFHIR {state.developer_key}/{state.customer_key}"
            if self.headers.get("Authorization") != expected:
                self._reply(401, "Invalid authorization header.")
                return
            fault = state._fault_for(method)
            if fault is not None and not fault.after_commit:
                self._fail(fault)
                return
            if not url.path.startswith("/api/v1/tasks"):
                self._reply(404, "Not found.")
                return
            status, answer = self._route(method, url.path, parse_qs(url.query), body)
            if state.reply_latency_seconds:
                time.sleep(state.reply_latency_seconds)
            if fault is not None:
                self._fail(fault)
                return
            self._reply(status, answer)

        def _fail(self, fault: Fault) -> None:
            if fault.hang_seconds:
                time.sleep(fault.hang_seconds)
                self.close_connection = True
                return
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            self._reply(fault.status, "Simulated failure.", headers)

        def _route(self, method: str, path: str, query: dict[str, list[str]],
                   body: dict[str, Any]) -> tuple[int, Any]:
            tail = path.removeprefix("/api/v1/tasks").strip("/")
            with state.pooled().cursor(pymysql.cursors.DictCursor) as cursor:
                if method == "GET" and not tail:
                    return _list(cursor, query)
                if method == "GET":
                    return _one(cursor, int(tail))
                if method == "POST" and not tail:
                    return _create(cursor, body)
                if method == "PUT" and tail.isdigit():
                    return _update(cursor, int(tail), body, state.version)
            return 405, "Method not allowed."

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


def _list(cursor: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
    def one(name: str) -> str | None:
        return query[name][0] if name in query else None

    where, params = ["1=1"], []
    if one("TaskListNum"):
        where.append("TaskListNum = %s")
        params.append(int(one("TaskListNum") or 0))
    if one("KeyNum"):
        if not one("ObjectType"):
            return 400, "ObjectType is required when KeyNum is specified."
        where.append("KeyNum = %s")
        params.append(int(one("KeyNum") or 0))
    if one("ObjectType"):
        where.append("ObjectType = %s")
        params.append(OBJECT_TYPES[one("ObjectType") or "None"])
    since = one("DateTimeOriginal") or (datetime.now() - timedelta(days=14)).strftime(
        "%Y-%m-%d %H:%M:%S")
    where.append("DateTimeOriginal >= %s")
    params.append(since)
    offset = int(one("Offset") or 0)
    cursor.execute(f"SELECT * FROM task WHERE {' AND '.join(where)} ORDER BY TaskNum "
                   f"LIMIT {PAGE} OFFSET {offset}", params)
    return 200, [_task_json(row) for row in cursor.fetchall()]


def _one(cursor: Any, task_num: int) -> tuple[int, Any]:
    cursor.execute("SELECT * FROM task WHERE TaskNum = %s", (task_num,))
    row = cursor.fetchone()
    return (404, "Task not found.") if row is None else (200, _task_json(row))


def _create(cursor: Any, body: dict[str, Any]) -> tuple[int, Any]:
    if not body.get("TaskListNum"):
        return 400, "TaskListNum is required."
    if not body.get("Descript"):
        return 400, "Descript is required."
    cursor.execute("SELECT 1 FROM tasklist WHERE TaskListNum = %s", (body["TaskListNum"],))
    if cursor.fetchone() is None:
        return 400, "TaskListNum is invalid."
    object_type = OBJECT_TYPES.get(str(body.get("ObjectType", "None")))
    if object_type is None:
        return 400, "ObjectType is invalid."
    if object_type and not body.get("KeyNum"):
        return 400, "KeyNum is required when ObjectType is Patient or Appointment."
    cursor.execute(
        "INSERT INTO task (TaskListNum, DateTask, KeyNum, Descript, TaskStatus, IsRepeating, "
        "DateType, FromNum, ObjectType, DateTimeEntry, UserNum, DateTimeFinished, "
        "PriorityDefNum, ReminderGroupId, ReminderType, ReminderFrequency, DateTimeOriginal, "
        "DescriptOverride) VALUES (%s, '0001-01-01', %s, %s, 0, 0, 0, 0, %s, NOW(), %s, "
        "'0001-01-01 00:00:00', %s, '', 0, 0, NOW(), '')",
        (body["TaskListNum"], body.get("KeyNum", 0), body["Descript"], object_type,
         body.get("UserNum", 1), body.get("PriorityDefNum", 0)))
    return 201, _one(cursor, int(cursor.lastrowid))[1]


def _update(cursor: Any, task_num: int, body: dict[str, Any], version: str) -> tuple[int, Any]:
    cursor.execute("SELECT * FROM task WHERE TaskNum = %s", (task_num,))
    if cursor.fetchone() is None:
        return 404, "Task not found."
    sets, params = [], []
    if "Descript" in body:
        sets.append("Descript = %s")
        params.append(body["Descript"])
    if "TaskStatus" in body:
        status = {v: k for k, v in STATUS_NAMES.items()}.get(body["TaskStatus"])
        allowed = ("New", "Viewed", "Done") if tuple(
            int(p) for p in version.split(".")[:3]) >= (24, 2, 10) else ("New", "Viewed")
        if status is None or body["TaskStatus"] not in allowed:
            return 400, f"TaskStatus must be one of: {', '.join(allowed)}."
        sets.append("TaskStatus = %s")
        params.append(status)
        if status == 2:
            sets.append("DateTimeFinished = NOW()")
    if not sets:
        return 400, "Nothing to update."
    cursor.execute(f"UPDATE task SET {', '.join(sets)} WHERE TaskNum = %s", (*params, task_num))
    return _one(cursor, task_num)


@dataclass
class RunningStandIn:
    state: StandIn
    server: ThreadingHTTPServer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"


def serve(state: StandIn) -> Iterator[RunningStandIn]:
    """Run the stand-in on a free localhost port until the generator is closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningStandIn(state, server)
    finally:
        server.shutdown()
        server.server_close()
