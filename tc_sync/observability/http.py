"""The daemon's status server: GET /healthz, /metrics, and /group (HTML) and /group.json (every
practice of the group's configuration, `group_health`), on localhost by default.

/healthz answers 200 while the daemon runs and no source is red, 503 otherwise, with a small
JSON body (each source's id, colour, reason and last successful sync) that a load balancer,
Docker's HEALTHCHECK or a monitoring agent reads. While a source's first sync runs the status
is "starting" (200), the source amber with the reason "first sync in progress". /metrics is
the Prometheus exposition.
"""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
import structlog

from tc_sync.config import Settings
from tc_sync.observability.health import Colour, source_health
from tc_sync.observability.metrics import CONTENT_TYPE, Metrics

log = structlog.get_logger(__name__)

HealthReport = tuple[int, dict[str, Any]]


def health_report(engine: sa.Engine, settings: Settings, running: bool,
                  now: datetime | None = None,
                  problems: Mapping[str, str] | None = None) -> HealthReport:
    """The /healthz answer: (HTTP status, JSON body); `problems` as for `source_health`."""
    try:
        with engine.connect() as connection:
            healths = source_health(connection, settings, now or datetime.now(UTC), problems)
    except sa.exc.SQLAlchemyError as error:
        log.warning("healthz_ledger_unreadable", error_class=type(error).__name__)
        return 503, {"status": "ledger_unavailable", "sources": []}
    sources = [{"id": health.source_id, "colour": health.colour.value, "reason": health.reason,
                "last_success_at": _iso(health.last_success_at)} for health in healths]
    colours = {health.colour for health in healths}
    if not running:
        status = "stopping"
    elif Colour.RED in colours:
        status = "failing"
    elif any(health.first_sync for health in healths):
        status = "starting"
    elif Colour.AMBER in colours:
        status = "degraded"
    else:
        status = "ok"
    return (200 if status in ("ok", "degraded", "starting") else 503), {
        "status": status, "sources": sources}


def port_problem(host: str, port: int, error: OSError) -> str:
    """A sentence for a status port that cannot be opened (98/10048: another program has it)."""
    if error.errno in (errno.EADDRINUSE, 10048):
        return (f"port {port} is in use: another program (or another tc-sync) listens on "
                f"{host}:{port}; stop it or set http.port to a free port")
    if error.errno in (errno.EACCES, 10013):
        return f"port {port} may not be opened by this account: set http.port above 1023"
    if error.errno in (errno.EADDRNOTAVAIL, 10049):
        return f"{host} is not an address of this machine: correct http.host"
    return (f"the status page cannot listen on {host}:{port} "
            f"({error.strerror or type(error).__name__})")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


class StatusServer:
    """A small threaded HTTP server in the daemon; `start()` binds, `stop()` closes."""

    def __init__(self, host: str, port: int, health: Callable[[], HealthReport],
                 metrics: Metrics,
                 group: Callable[[str], tuple[int, str, bytes]] | None = None) -> None:
        """`group` answers /group and /group.json (status, content type, body)."""
        self.host = host
        self.requested_port = port
        self.health = health
        self.metrics = metrics
        self.group = group
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one picked by the system when 0 was asked)."""
        return self._server.server_address[1] if self._server else self.requested_port

    def start(self) -> None:
        """Bind and serve on a background thread; raises OSError when the port is taken."""
        handler = _handler(self)
        self._server = ThreadingHTTPServer((self.host, self.requested_port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={
            "poll_interval": 0.5}, name="tc-sync-http", daemon=True)
        self._thread.start()
        log.info("http_started", host=self.host, port=self.port)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None


def _handler(status: StatusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "tc-sync"

        def do_GET(self) -> None:
            route = self.path.split("?", 1)[0]
            if route == "/healthz":
                code, body = status.health()
                self._send(code, "application/json", json.dumps(body).encode())
            elif route == "/metrics":
                self._send(200, CONTENT_TYPE, status.metrics.render())
            elif route in ("/group", "/group.json") and status.group is not None:
                self._send(*status.group(route))
            else:
                self._send(404, "text/plain; charset=utf-8",
                           b"try /healthz, /metrics or /group\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """No access log: the request line could carry anything a client sent."""

    return Handler
