"""Open Dental tasks through the Open Dental API (API Service, Remote, or the Local API).

POST /tasks creates a task in a task list, from the configured creator user (UserNum is
required), attached to the patient, with the outbox marker at the end of its text; GET /tasks
(by patient, from the action's creation on) finds it again by that marker after any doubt; PUT
/tasks/{TaskNum} marks it Done (Open Dental 24.2.10 and later). Before 24.2.10 the API cannot
set Done and a PUT of the text turns a Done task back into Viewed, so tc-sync reads the task
first: one staff finished (or deleted) is left alone, an open one gets "RESOLVED ..." in front
of the text staff left. Authorization is `ODFHIR {developer key}/{customer key}`; queries are
percent-encoded (`%20`, as apiimplementation.html shows). Remote mode (api.opendental.com) is
paced to one request a second per customer key. Answers map to `Retryable`, `UnknownOutcome`
or `Permanent` (see targets.base); Open Dental's 400s for the eConnector, versioning and the
office's network are passing conditions, retried with backoff.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import sqlalchemy as sa
import structlog
import tenacity

from tc_sync.config.push import OpenDentalApiTarget
from tc_sync.ledger.schema import sync_runs
from tc_sync.push.outbox import Action
from tc_sync.push.targets.base import (
    Permanent,
    PushError,
    Retryable,
    TargetContext,
    UnknownOutcome,
)
from tc_sync.push.text import resolved_text, with_marker

log = structlog.get_logger(__name__)

MINIMUM_VERSION = (22, 4, 15)
"""GET /tasks came in 22.3.16, POST 22.3.17, PUT 22.4.15 (apitasks.html)."""
DONE_SINCE = (24, 2, 10)
"""The first Open Dental version whose API can set TaskStatus to Done."""
PAGE = 100
"""Open Dental's API returns at most this many rows per GET; `Offset` pages on."""
REMOTE_HOST = "api.opendental.com"
REMOTE_PACE_SECONDS = 1.05
"""Remote mode allows one request a second per customer key (with a write permission);
5% spare because Open Dental counts from when a request arrives."""
PRIORITY_CATEGORY = 33
"""definition.Category of task priorities."""
_TIME = "%Y-%m-%d %H:%M:%S"


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return None


@dataclass(frozen=True)
class TaskSeen:
    """One of tc-sync's tasks as Open Dental shows it now. `text` may hold PHI: never log it."""

    task_id: str
    status: str
    """New, Viewed or Done."""
    finished: str | None
    """DateTimeFinished, when Done."""
    task_list: int
    text: str


class _Pacer:
    """Spaces requests sharing one customer key, across this process's targets."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = float("-inf")

    def wait(self, seconds: float) -> None:
        with self.lock:
            delay = self.last + seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.last = time.monotonic()


_PACERS: dict[str, _Pacer] = {}
_PACERS_LOCK = threading.Lock()


def _pacer_for(customer_key: str) -> _Pacer:
    name = hashlib.sha256(customer_key.encode()).hexdigest()
    with _PACERS_LOCK:
        return _PACERS.setdefault(name, _Pacer())


def pace_seconds(settings: OpenDentalApiTarget) -> float:
    """Seconds between requests: as configured, else 1 s for Remote mode, else none (the API
    Service and the Local API are not throttled)."""
    if settings.pace_seconds is not None:
        return settings.pace_seconds
    host = urlsplit(settings.base_url).hostname or ""
    return REMOTE_PACE_SECONDS if host.lower() == REMOTE_HOST else 0.0


def encode_query(params: dict[str, Any]) -> str:
    """Percent-encoding for every reserved character, a space as %20 (never `+`)."""
    return "&".join(f"{quote(str(name), safe='')}={quote(str(value), safe='')}"
                    for name, value in params.items())


def pms_version_reader(engine: sa.Engine, source_id: str) -> Callable[[], str | None]:
    """The PMS version the source's last sync saw (decides how a task is closed)."""
    def read() -> str | None:
        with engine.connect() as connection:
            return connection.execute(
                sa.select(sync_runs.c.pms_version).where(
                    sync_runs.c.source_id == source_id, sync_runs.c.pms_version.is_not(None))
                .order_by(sync_runs.c.run_id.desc()).limit(1)).scalar()
    return read


class OpenDentalApi:
    """One Open Dental API endpoint, for one source's tasks."""

    @classmethod
    def from_settings(cls, name: str, target: OpenDentalApiTarget,
                      context: TargetContext) -> OpenDentalApi:
        return cls(name, target, pms_version_reader(context.engine, target.source))

    def __init__(self, name: str, settings: OpenDentalApiTarget,
                 pms_version: Callable[[], str | None],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.settings = settings
        self._pms_version = pms_version
        self._pace = pace_seconds(settings)
        self._pacer = _pacer_for(settings.customer_key.get_secret_value())
        key = (f"ODFHIR {settings.developer_key.get_secret_value()}/"
               f"{settings.customer_key.get_secret_value()}")
        self.client = httpx.Client(
            base_url=settings.base_url.rstrip("/"), transport=transport,
            headers={"Authorization": key, "Content-Type": "application/json",
                     "User-Agent": "tc-sync"},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=10.0))

    def close(self) -> None:
        self.client.close()

    # The task operations ------------------------------------------------------------------

    def create_task(self, action: Action) -> str:
        payload = action.payload
        if not payload.get("creator_user"):
            raise Permanent("no-creator", "the task names no creator user (it was queued before "
                            "the mappings required one): set creator_user in the mappings")
        body: dict[str, Any] = {
            "TaskListNum": payload["task_list"],
            "Descript": with_marker(payload["text"], action.marker),
            "ObjectType": "Patient", "KeyNum": payload["patient_id"],
            "UserNum": payload["creator_user"],
        }
        if payload.get("priority"):
            body["PriorityDefNum"] = payload["priority"]
        answer = self._call("POST", "/tasks", json=body, creates=True)
        task_num = answer.get("TaskNum") if isinstance(answer, dict) else None
        if not task_num:
            raise UnknownOutcome("no-tasknum", "the API answered without a TaskNum")
        return str(task_num)

    def find_task(self, action: Action) -> str | None:
        marker = f"[{action.marker}]"
        for task in self._tasks(action.payload["patient_id"], action.created_at,
                                task_list=action.payload["task_list"]):
            if marker in str(task.get("Descript", "")):
                return str(task["TaskNum"])
        return None

    def task_state(self, patient_id: int, task_id: str, since: datetime) -> TaskSeen | None:
        """The task as Open Dental shows it now (in whichever list staff put it), or None when
        it is gone: deleted, or no longer attached to the patient. `since` is when tc-sync
        asked for it. Works from 22.3.16 (GET /tasks/{TaskNum} would need 24.4.13)."""
        for task in self._tasks(patient_id, since):
            if str(task.get("TaskNum")) == task_id:
                finished = str(task.get("DateTimeFinished") or "")
                return TaskSeen(
                    task_id=task_id, status=str(task.get("TaskStatus", "")),
                    finished=None if not finished or finished.startswith("0001") else finished,
                    task_list=int(task.get("TaskListNum") or 0),
                    text=str(task.get("Descript", "")))
        return None

    def close_task(self, action: Action, task_id: str, create_payload: dict[str, object]) -> None:
        if self._can_mark_done():
            self._call("PUT", f"/tasks/{task_id}", json={"TaskStatus": "Done"})
            return
        created = create_payload.get("created_at")
        since = (datetime.fromisoformat(created) if isinstance(created, str)
                 else action.created_at - timedelta(days=366))
        seen = self.task_state(int(str(create_payload["patient_id"])), task_id, since)
        if seen is None or seen.status == "Done":
            # Staff deleted it or finished it; a PUT of the text would reopen a Done task.
            log.info("task_left_as_staff_left_it", target=self.name, action_id=action.action_id,
                     task=task_id, state="gone" if seen is None else "done")
            return
        text = resolved_text(seen.text, str(action.payload.get("reason", "resolved")),
                             date.today())
        self._call("PUT", f"/tasks/{task_id}", json={"Descript": text})

    def _can_mark_done(self) -> bool:
        mode = self.settings.mark_done
        if mode != "auto":
            return mode == "always"
        version = version_tuple(self._pms_version())
        return version is not None and version >= DONE_SINCE

    def _tasks(self, patient_id: object, since: datetime,
               task_list: object | None = None) -> Iterable[dict[str, Any]]:
        """The patient's tasks created since `since` (less two days: the server's clock is
        local time), page by page."""
        params: dict[str, Any] = {"ObjectType": "Patient", "KeyNum": patient_id}
        if task_list is not None:
            params["TaskListNum"] = task_list
        params["DateTimeOriginal"] = (since - timedelta(days=2)).strftime(_TIME)
        offset = 0
        while True:
            found = self._call("GET", "/tasks", params={**params, "Offset": offset})
            rows = found if isinstance(found, list) else []
            yield from (row for row in rows if isinstance(row, dict))
            if len(rows) < PAGE:
                return
            offset += PAGE

    # What `tc-sync doctor` asks (reads only) ------------------------------------------------

    def missing(self, users: set[int], task_lists: set[int],
                priorities: set[int]) -> dict[str, list[int]]:
        """Which of these users, task lists and priority definitions Open Dental does not
        have, by kind; raises PushError when the API does not answer."""
        have = {
            "users": self._ids("/userods", "UserNum", {}),
            "task lists": self._ids("/tasklists", "TaskListNum", {}),
            "priorities": (self._ids("/definitions", "DefNum", {"Category": PRIORITY_CATEGORY})
                           if priorities else set()),
        }
        wanted = {"users": users, "task lists": task_lists, "priorities": priorities}
        return {kind: sorted(wanted[kind] - have[kind]) for kind in wanted
                if wanted[kind] - have[kind]}

    def _ids(self, path: str, column: str, params: dict[str, Any]) -> set[int]:
        ids: set[int] = set()
        offset = 0
        while True:
            rows = self._call("GET", path, params={**params, "Offset": offset})
            rows = rows if isinstance(rows, list) else []
            ids.update(int(row[column]) for row in rows if isinstance(row, dict) and column in row)
            if len(rows) < PAGE:
                return ids
            offset += PAGE

    # HTTP -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, Any] | None = None, creates: bool = False) -> Any:
        url = f"{path}?{encode_query(params)}" if params else path
        try:
            response = self._send(method, url, json)
        except httpx.TimeoutException as error:
            if creates and not isinstance(error, httpx.ConnectTimeout):
                raise UnknownOutcome("timeout", "no answer in time; the task may exist") from None
            raise Retryable("timeout", "no answer in time") from None
        except httpx.TransportError as error:
            raise Retryable(type(error).__name__, "cannot reach the Open Dental API",
                            target_down=True) from None
        return self._answer(response, creates)

    @tenacity.retry(retry=tenacity.retry_if_exception_type(httpx.ConnectError),
                    stop=tenacity.stop_after_attempt(3),
                    wait=tenacity.wait_exponential_jitter(max=4.0, jitter=0.5), reraise=True)
    def _send(self, method: str, url: str, json: Any) -> httpx.Response:
        """One request, paced; a refused connection (nothing sent) is tried again within
        seconds."""
        if self._pace:
            self._pacer.wait(self._pace)
        return self.client.request(method, url, json=json)

    def _answer(self, response: httpx.Response, creates: bool) -> Any:
        status = response.status_code
        if status < 300:
            return response.json() if response.content else None
        said = _said(response)
        if status == 429:
            raise Retryable("429", "the API asks to slow down",
                            retry_after=_retry_after(response) or self._pace or None,
                            target_down=True)
        if status in (401, 403):
            raise Retryable(str(status), f"the API refused the keys: check the developer and "
                            f"customer keys and the API's permissions ({said})", target_down=True)
        if status == 400:
            passing = passing_400(said, creates)
            if passing is not None:
                raise passing
        if status >= 500:
            if creates:
                raise UnknownOutcome(str(status), f"the API failed: {said}")
            raise Retryable(str(status), f"the API failed: {said}",
                            retry_after=_retry_after(response))
        raise Permanent(str(status), f"the API rejected the request: {said}")


def passing_400(said: str, creates: bool) -> PushError | None:
    """The error for a 400 that apiimplementation.html lists as a passing condition (the
    eConnector, versioning during an upgrade, the office's network), or None for a request
    Open Dental will refuse again (a bad field). A timeout at the office on a create may have
    made the task: it is looked up by its marker before it is sent again."""
    words = said.lower()
    if "econnector" in words:
        return Retryable("400-econnector", f"the office's eConnector does not answer: {said}",
                         target_down=True)
    if "version" in words:
        return Retryable("400-versioning", "Open Dental at the office is older than this API "
                         f"method needs (22.4.15 or later): {said}", target_down=True)
    if any(word in words for word in ("timed out", "timeout", "network", "connectivity")):
        if creates:
            return UnknownOutcome("400-office-network", f"the office did not answer: {said}")
        return Retryable("400-office-network", f"the office did not answer: {said}",
                         target_down=True)
    if any(word in words for word in ("too many", "throttl", "rate limit")):
        return Retryable("400-throttled", f"the API asks to slow down: {said}",
                         target_down=True)
    return None


def _said(response: httpx.Response) -> str:
    return response.text.strip().replace("\n", " ")[:200] or response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
