"""A stand-in for Sentry's ingest endpoint: a real HTTP server that keeps every envelope.

It is not Sentry: it accepts `POST /api/<project>/envelope/` as the Sentry SDK sends it (gzip,
or plain), answers 200, and keeps the raw bytes and the parsed items so a test can read what
would have left the practice. Point a DSN at it: http://key@127.0.0.1:<port>/1.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Envelope:
    raw: bytes
    header: dict[str, Any]
    items: list[tuple[dict[str, Any], Any]] = field(default_factory=list)


def parse_envelope(raw: bytes) -> Envelope:
    """Sentry's envelope format: a header line, then per item a header line and a payload."""
    header_line, _, rest = raw.partition(b"\n")
    envelope = Envelope(raw, json.loads(header_line))
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_line)
        length = item_header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1:]
        try:
            body: Any = json.loads(payload)
        except ValueError:
            body = payload
        envelope.items.append((item_header, body))
    return envelope


class SentryStandIn:
    """Runs on 127.0.0.1 at a free port until `close()`."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with standin._lock:
                    standin.paths.append(self.path)
                    standin.envelopes.append(parse_envelope(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.dsn = f"http://standinkey@127.0.0.1:{self.port}/1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def items(self, kind: str) -> list[Any]:
        """Every received item of one type ('event', 'check_in', ...)."""
        with self._lock:
            return [body for envelope in self.envelopes for header, body in envelope.items
                    if header.get("type") == kind]

    def raw_text(self) -> str:
        with self._lock:
            return "\n".join(envelope.raw.decode("utf-8", "replace")
                             for envelope in self.envelopes)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
