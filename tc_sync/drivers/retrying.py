"""The retrying driver: one connection, dropped and made again after a transient error.

Each statement (and the first connect) is retried with tenacity's jittered exponential backoff
while the error is transient (a lost connection, a server restarting, a lock wait), at most
`connection.retries` times, on a new connection: every statement tc-sync sends is a bounded
SELECT, so running it again is harmless. A driver says only what differs: which of its
client's errors are transient, how it connects, how it runs a statement, and how its errors read
(never with row values, which may be PHI). Statements are counted and timed by `Driver.query`.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from tc_sync.config import ConnectionSettings
from tc_sync.drivers.base import Driver, DriverError

log = structlog.get_logger(__name__)
T = TypeVar("T")


class RetryingDriver(Driver):
    """A driver over one DB-API connection, retried and remade on transient errors."""

    errors: tuple[type[BaseException], ...] = ()
    """The client's own errors: those `_query` turns into a DriverError (set per instance
    once the client module is loaded)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__()
        self._settings = settings
        self._connection: Any = None

    @classmethod
    def open(cls, connection: ConnectionSettings) -> Driver:
        return cls(connection)

    def _start(self) -> None:
        """Connect now, retrying transient failures; a DriverError says why it could not."""
        try:
            self._with_retries(self._ensure_connected)
        except self.errors as error:
            raise DriverError(self._describe_connect_error(error)) from None

    def _with_retries(self, action: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception(self._retry_after),
            wait=wait_exponential_jitter(max=self._settings.retry_max_wait, jitter=1),
            stop=stop_after_attempt(self._settings.retries + 1), reraise=True,
            before_sleep=self._log_retry)
        return retrying(action)

    def _retry_after(self, error: BaseException) -> bool:
        """Whether to try again: a transient error also drops the connection."""
        if isinstance(error, self.errors) and self._is_transient(error):
            self._drop()
            return True
        return False

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("pms_retry", attempt=state.attempt_number,
                    error=self._error_label(error) if error is not None else "",
                    sleep=round(state.next_action.sleep, 1) if state.next_action else None)

    def _ensure_connected(self) -> None:
        if self._connection is None:
            self._connection = self._connect()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None

    def _query(self, sql: str, params: Mapping[str, Any]
               ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        try:
            return self._with_retries(lambda: self._execute(sql, params))
        except self.errors as error:
            raise DriverError(self._describe_query_error(error)) from error

    def close(self) -> None:
        self._drop()

    # --- what each driver supplies ---

    @abstractmethod
    def _is_transient(self, error: BaseException) -> bool:
        """True for one of the client's errors worth a retry on a new connection."""

    @abstractmethod
    def _connect(self) -> Any:
        """A new, ready connection (session set up); raises the client's errors."""

    @abstractmethod
    def _execute(self, sql: str, params: Mapping[str, Any]
                 ) -> tuple[list[str], Sequence[Sequence[Any]]]:
        """Run one statement on the connection (connecting first if needed): lower-cased
        column names and every row."""

    @abstractmethod
    def _describe_connect_error(self, error: BaseException) -> str:
        """Why the first connection failed, and where it went (no credentials)."""

    @abstractmethod
    def _describe_query_error(self, error: BaseException) -> str:
        """A statement's error as a sentence, never quoting row values."""

    @abstractmethod
    def _error_label(self, error: BaseException) -> str:
        """The error in a few PHI-free words (class and code), for the retry's log line."""
