"""A STAND-IN for the Open Dental API's task endpoints, for tests and benchmarks. It is not
Open Dental: every answer carries `X-Stand-In: tc-sync tests`.

The real API runs inside Open Dental (Local API, API Service) or at Open Dental (Remote), none
of which can run here. This is a real HTTP server over Open Dental's real `task` tables in
MariaDB (their CREATE TABLE statements from Open Dental's 21.1.9 dump), answering as Open
Dental's API pages say (apitasks, apitasklists, apiuserods, apidefinitions, apiimplementation):

- POST /tasks requires TaskListNum, Descript and UserNum; GET /tasks filters by TaskListNum,
  KeyNum + ObjectType, TaskStatus and DateTimeOriginal (default: the last 14 days), reading the
  query with percent-decoding only (a `+` is not a space); PUT with Descript turns a Done task
  into Viewed; TaskStatus on PUT exists from 24.2.10.
- Each endpoint answers 400 "Versioning" below the version it was added in (`version`).
- 401 for wrong keys, 404 for an unknown resource or task, 400 for bad fields.
- Faults on demand (`fail_next`): any status with a body, e.g. the documented 400s for the
  eConnector, versioning and office timeouts (ECONNECTOR, VERSIONING, OFFICE_TIMEOUT), 410, or
  no answer at all.
- Remote-mode throttling (`remote_pacing_seconds`): a request sooner than that after the
  previous one with the same customer key is refused. Open Dental does not document what a
  throttled request gets back; 429 here is a GUESS, so tests must not rely on its shape.
The exact wording of Open Dental's error bodies is not documented either: the texts below
follow the documentation's descriptions, not captured answers.
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
from urllib.parse import unquote, urlsplit

import pymysql

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "opendental" / "schema-21.1.9.sql"
TASK_TABLES = ("task", "tasklist", "taskancestor", "taskunread", "tasksubscription", "signalod")
STATUS_NAMES = {0: "New", 1: "Viewed", 2: "Done"}
OBJECT_TYPES = {"None": 0, "Patient": 1, "Appointment": 2}
PAGE = 100
PRIORITY_CATEGORY = 33
"""definition.Category of task priorities."""
ADDED_IN = {("GET", "tasks"): (22, 3, 16), ("POST", "tasks"): (22, 3, 17),
            ("PUT", "tasks"): (22, 4, 15), ("GET", "tasks/n"): (24, 4, 13),
            ("GET", "tasklists"): (22, 3, 15), ("GET", "userods"): (21, 3, 0),
            ("GET", "definitions"): (21, 1, 0)}
"""The Open Dental version each endpoint was added in (apitasks.html and its neighbours)."""
STATUS_FROM = (24, 2, 10)
"""TaskStatus on PUT: "Added in version 24.2.10"."""
ECONNECTOR = "eConnector is not running at the dental office."
VERSIONING = "Versioning: the version of the dental office is not high enough for this method."
OFFICE_TIMEOUT = "Request timed out while waiting for the dental office."
"""Bodies for the 400s apiimplementation.html describes; Open Dental's exact words are unknown."""


def version_of(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


def create_task_tables(connection: pymysql.connections.Connection) -> None:
    """Open Dental's own CREATE TABLE statements for the task tables, from its 21.1.9 dump."""
    dump = SCHEMA.read_text(encoding="utf-8")
    with connection.cursor() as cursor:
        for name in (*TASK_TABLES, "userod"):
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


def add_users(connection: pymysql.connections.Connection, users: list[tuple[int, str]]) -> None:
    """Open Dental users (userod): (UserNum, UserName)."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
        cursor.executemany("INSERT INTO userod (UserNum, UserName, UserGroupNum, EmployeeNum, "
                           "ClinicNum, ProvNum, IsHidden) VALUES (%s, %s, 1, 0, 0, 0, 0)", users)


@dataclass
class Fault:
    """What the next matching request gets instead of a normal answer."""

    method: str
    status: int = 500
    retry_after: int | None = None
    after_commit: bool = False
    """Do the work, then answer `status` (or hang): the client cannot know it happened."""
    hang_seconds: float = 0.0
    body: str = "Simulated failure."


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
    """The dental office's Open Dental version: decides which endpoints and fields exist."""
    latency_seconds: float = 0.0
    """Before a request is handled."""
    reply_latency_seconds: float = 0.0
    """After it is handled, before the answer: the window where a client cannot know."""
    remote_pacing_seconds: float = 0.0
    """Remote mode's throttle per customer key (1.0 with a write permission); 0: none (the
    Local API and the API Service are not throttled)."""
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    """When each request arrived (time.monotonic())."""
    throttled: int = 0
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

    def _throttle(self) -> bool:
        """Record the request's arrival; True when Remote pacing refuses it."""
        with self.lock:
            now = time.monotonic()
            last = self.arrivals[-1] if self.arrivals else None
            self.arrivals.append(now)
            if self.remote_pacing_seconds and last is not None and (
                    now - last < self.remote_pacing_seconds):
                self.throttled += 1
                return True
        return False

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

    def staff(self, sql: str, *params: Any) -> None:
        """What someone at the front desk does to a task in Open Dental (an UPDATE/DELETE)."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)


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


def parse_query(query: str) -> dict[str, str]:
    """Percent-decoding only, as apiimplementation.html asks clients to encode ("De%20Angelo"):
    a `+` stays a `+`."""
    pairs = (part.partition("=") for part in query.split("&") if part)
    return {unquote(name): unquote(value) for name, _, value in pairs}


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
            self.send_header("X-Stand-In", "tc-sync tests (not Open Dental)")
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
            if state._throttle():
                self._reply(429, "Too many requests.", {"Retry-After": "1"})   # a guess
                return
            if state.latency_seconds:
                time.sleep(state.latency_seconds)
            expected = f"ODFHIR {state.developer_key}/{state.customer_key}"
            if self.headers.get("Authorization") != expected:
                self._reply(401, "Invalid Credentials.")
                return
            fault = state._fault_for(method)
            if fault is not None and not fault.after_commit:
                self._fail(fault)
                return
            status, answer = self._route(method, url.path, parse_query(url.query), body)
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
            self._reply(fault.status, fault.body, headers)

        def _route(self, method: str, path: str, query: dict[str, str],
                   body: dict[str, Any]) -> tuple[int, Any]:
            resource, _, tail = path.removeprefix("/api/v1/").strip("/").partition("/")
            endpoint = (method, f"{resource}/n" if tail else resource)
            if endpoint not in ADDED_IN and (method, resource) not in ADDED_IN:
                return 404, "The specified API resource does not exist."
            if endpoint in ADDED_IN and version_of(state.version) < ADDED_IN[endpoint]:
                return 400, VERSIONING
            with state.pooled().cursor(pymysql.cursors.DictCursor) as cursor:
                if endpoint == ("GET", "tasks"):
                    return _list(cursor, query)
                if endpoint == ("GET", "tasks/n") and tail.isdigit():
                    return _one(cursor, int(tail))
                if endpoint == ("POST", "tasks"):
                    return _create(cursor, body)
                if endpoint == ("PUT", "tasks/n") and tail.isdigit():
                    return _update(cursor, int(tail), body, state.version)
                if endpoint == ("GET", "tasklists"):
                    return _rows(cursor, "SELECT TaskListNum, Descript, Parent FROM tasklist "
                                 "WHERE TaskListStatus = 0 ORDER BY TaskListNum", query)
                if endpoint == ("GET", "userods"):
                    return _rows(cursor, "SELECT UserNum, UserName FROM userod WHERE IsHidden = 0"
                                 " ORDER BY UserNum", query)
                if endpoint == ("GET", "definitions"):
                    category = int(query.get("Category") or 0)
                    return _rows(cursor, "SELECT DefNum, ItemName, Category FROM definition "
                                 f"WHERE IsHidden = 0 AND Category = {category} ORDER BY DefNum",
                                 query)
            return 404, "The specified API resource does not exist."

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


def _rows(cursor: Any, sql: str, query: dict[str, str]) -> tuple[int, Any]:
    offset = int(query.get("Offset") or 0)
    cursor.execute(f"{sql} LIMIT {PAGE} OFFSET {offset}")
    return 200, list(cursor.fetchall())


def _list(cursor: Any, query: dict[str, str]) -> tuple[int, Any]:
    where, params = ["1=1"], []
    if query.get("TaskListNum"):
        where.append("TaskListNum = %s")
        params.append(int(query["TaskListNum"]))
    if query.get("KeyNum"):
        if not query.get("ObjectType"):
            return 400, "ObjectType is required when KeyNum is specified."
        where.append("KeyNum = %s")
        params.append(int(query["KeyNum"]))
    if query.get("ObjectType"):
        if query["ObjectType"] not in OBJECT_TYPES:
            return 400, "ObjectType is invalid."
        where.append("ObjectType = %s")
        params.append(OBJECT_TYPES[query["ObjectType"]])
    if query.get("TaskStatus"):
        names = {v: k for k, v in STATUS_NAMES.items()}
        if query["TaskStatus"] not in names:
            return 400, "TaskStatus is invalid."
        where.append("TaskStatus = %s")
        params.append(names[query["TaskStatus"]])
    since = query.get("DateTimeOriginal") or (datetime.now() - timedelta(days=14)).strftime(
        "%Y-%m-%d %H:%M:%S")
    try:
        datetime.strptime(since, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return 400, "DateTimeOriginal is invalid. Use the format yyyy-MM-dd HH:mm:ss."
    where.append("DateTimeOriginal >= %s")
    params.append(since)
    offset = int(query.get("Offset") or 0)
    cursor.execute(f"SELECT * FROM task WHERE {' AND '.join(where)} ORDER BY TaskNum "
                   f"LIMIT {PAGE} OFFSET {offset}", params)
    return 200, [_task_json(row) for row in cursor.fetchall()]


def _one(cursor: Any, task_num: int) -> tuple[int, Any]:
    cursor.execute("SELECT * FROM task WHERE TaskNum = %s", (task_num,))
    row = cursor.fetchone()
    return (404, "Task not found.") if row is None else (200, _task_json(row))


def _create(cursor: Any, body: dict[str, Any]) -> tuple[int, Any]:
    for required in ("TaskListNum", "Descript", "UserNum"):
        if not body.get(required):
            return 400, f"{required} is required."
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
         body["UserNum"], body.get("PriorityDefNum", 0)))
    return 201, _one(cursor, int(cursor.lastrowid))[1]


def _update(cursor: Any, task_num: int, body: dict[str, Any], version: str) -> tuple[int, Any]:
    cursor.execute("SELECT * FROM task WHERE TaskNum = %s", (task_num,))
    row = cursor.fetchone()
    if row is None:
        return 404, "Task not found."
    sets, params = [], []
    if "TaskStatus" in body:
        # Before 24.2.10 the field does not exist; whether Open Dental then ignores it or
        # refuses is not documented: refusing is the stricter choice.
        status = {v: k for k, v in STATUS_NAMES.items()}.get(body["TaskStatus"])
        if version_of(version) < STATUS_FROM:
            return 400, "TaskStatus cannot be set before version 24.2.10."
        if status is None:
            return 400, "TaskStatus must be New, Viewed or Done."
        sets.append("TaskStatus = %s")
        params.append(status)
        if status == 2:
            sets.append("DateTimeFinished = NOW()")
    if "Descript" in body:
        sets.append("Descript = %s")
        params.append(body["Descript"])
        if row["TaskStatus"] == 2 and "TaskStatus" not in body:
            sets.append("TaskStatus = 1")     # "Sets tasks with a TaskStatus of Done to Viewed"
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
