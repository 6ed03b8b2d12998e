"""Open Dental tasks through the Open Dental API (Local API, API Service or Remote).

POST /tasks creates a task in a task list, attached to the patient, with the outbox marker at
the end of its text; GET /tasks (by patient, newest two weeks by default) finds it again by
that marker after a crash; PUT /tasks/{TaskNum} marks it Done (Open Dental 24.2.10 and later)
or, before that, rewrites its text to say the follow-up is resolved. Authorization is
`ODFHIR {developer key}/{customer key}`. 429 is honoured (Retry-After); other answers map to
`Retryable`, `UnknownOutcome` or `Permanent` (see targets.base).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import tenacity

from tc_sync.push.outbox import Action, marker_of
from tc_sync.push.settings import OpenDentalApiTarget
from tc_sync.push.targets.base import Permanent, Retryable, UnknownOutcome
from tc_sync.push.text import resolved_text, with_marker

DONE_SINCE = (24, 2, 10)
"""The first Open Dental version whose API can set TaskStatus to Done."""
PAGE = 100
"""Open Dental's API returns at most this many rows per GET; `Offset` pages on."""


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return None


class OpenDentalApi:
    """One Open Dental API endpoint, for one source's tasks."""

    def __init__(self, name: str, settings: OpenDentalApiTarget,
                 pms_version: Callable[[], str | None],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.settings = settings
        self._pms_version = pms_version
        key = (f"ODFHIR {settings.developer_key.get_secret_value()}/"
               f"{settings.customer_key.get_secret_value()}")
        self.client = httpx.Client(
            base_url=settings.base_url.rstrip("/"), transport=transport,
            headers={"Authorization": key, "Content-Type": "application/json",
                     "User-Agent": "tc-sync"},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=10.0))

    def close(self) -> None:
        self.client.close()

    # The three operations -------------------------------------------------------------------

    def create_task(self, action: Action) -> str:
        payload = action.payload
        body: dict[str, Any] = {
            "TaskListNum": payload["task_list"],
            "Descript": with_marker(payload["text"], action.marker),
            "ObjectType": "Patient", "KeyNum": payload["patient_id"],
        }
        if payload.get("creator_user"):
            body["UserNum"] = payload["creator_user"]
        if payload.get("priority"):
            body["PriorityDefNum"] = payload["priority"]
        answer = self._call("POST", "/tasks", json=body, creates=True)
        task_num = answer.get("TaskNum") if isinstance(answer, dict) else None
        if not task_num:
            raise UnknownOutcome("no-tasknum", "the API answered without a TaskNum")
        return str(task_num)

    def find_task(self, action: Action) -> str | None:
        since = action.created_at - timedelta(days=2)      # the server's clock is local time
        params: dict[str, Any] = {
            "ObjectType": "Patient", "KeyNum": action.payload["patient_id"],
            "TaskListNum": action.payload["task_list"],
            "DateTimeOriginal": since.strftime("%Y-%m-%d %H:%M:%S")}
        offset = 0
        while True:
            found = self._call("GET", "/tasks", params={**params, "Offset": offset})
            rows = found if isinstance(found, list) else []
            for task in rows:
                if f"[{action.marker}]" in str(task.get("Descript", "")):
                    return str(task["TaskNum"])
            if len(rows) < PAGE:
                return None
            offset += PAGE

    def close_task(self, action: Action, task_id: str, create_payload: dict[str, object]) -> None:
        if self._can_mark_done():
            self._call("PUT", f"/tasks/{task_id}", json={"TaskStatus": "Done"})
            return
        text = resolved_text(str(create_payload.get("text", "")),
                             str(action.payload.get("reason", "resolved")), date.today())
        create_marker = marker_of(str(action.payload["create_key"]))
        self._call("PUT", f"/tasks/{task_id}", json={"Descript": with_marker(text, create_marker)})

    def _can_mark_done(self) -> bool:
        mode = self.settings.mark_done
        if mode != "auto":
            return mode == "always"
        version = version_tuple(self._pms_version())
        return version is not None and version >= DONE_SINCE

    # HTTP -------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: Any = None,
              params: dict[str, Any] | None = None, creates: bool = False) -> Any:
        try:
            response = self._send(method, path, json, params)
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
    def _send(self, method: str, path: str, json: Any,
              params: dict[str, Any] | None) -> httpx.Response:
        """One request; a refused connection (nothing sent) is tried again within seconds."""
        return self.client.request(method, path, json=json, params=params)

    def _answer(self, response: httpx.Response, creates: bool) -> Any:
        status = response.status_code
        if status < 300:
            return response.json() if response.content else None
        said = _said(response)
        if status == 429:
            raise Retryable("429", "the API asks to slow down",
                            retry_after=_retry_after(response), target_down=True)
        if status in (401, 403):
            raise Retryable(str(status), f"the API refused the keys: check the developer and "
                            f"customer keys and the API's permissions ({said})", target_down=True)
        if status >= 500:
            if creates:
                raise UnknownOutcome(str(status), f"the API failed: {said}")
            raise Retryable(str(status), f"the API failed: {said}",
                            retry_after=_retry_after(response))
        raise Permanent(str(status), f"the API rejected the request: {said}")


def _said(response: httpx.Response) -> str:
    return response.text.strip().replace("\n", " ")[:200] or response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
