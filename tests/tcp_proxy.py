"""A real TCP proxy the tests control, to cut the PMS database off, bring it back, or slow it.

`cut()` drops every connection and refuses new ones (a server stopped: the client hears at
once); `cut(hang=True)` drops them and then accepts new ones but never answers (a network that
drops packets: the client waits for its own timeouts). `latency` delays every chunk of bytes,
in each direction, by that many seconds after it arrived (a slow WAN link; throughput is not
limited, only each chunk's delivery is late).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time

_Chunks = queue.SimpleQueue[tuple[float, bytes] | None]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream server; `cut()` drops every connection and
    refuses new ones until `restore()`."""

    def __init__(self, upstream_host: str, upstream_port: int, *, latency: float = 0.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency = latency
        """Seconds each chunk waits, per direction; may be changed while connections run."""
        self.accepted = 0
        """Connections forwarded upstream so far."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._hang = False
        self._sockets: list[socket.socket] = []
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                if self._hang:
                    with self._lock:
                        self._held.append(client)      # never answered, never closed
                else:
                    client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                self.accepted += 1
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        if not self.latency:
            self._relay(source, target)
            return
        chunks: _Chunks = queue.SimpleQueue()
        threading.Thread(target=self._deliver, args=(chunks, source, target),
                         daemon=True).start()
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                chunks.put((time.monotonic() + self.latency, data))
        chunks.put(None)

    @staticmethod
    def _relay(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        TcpProxy._shut(source, target)

    @staticmethod
    def _deliver(chunks: _Chunks, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while (chunk := chunks.get()) is not None:
                due, data = chunk
                time.sleep(max(0.0, due - time.monotonic()))
                target.sendall(data)
        TcpProxy._shut(source, target)

    @staticmethod
    def _shut(*ends: socket.socket) -> None:
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self, *, hang: bool = False) -> None:
        """Drop every connection; new ones are refused, or (`hang`) accepted and left
        unanswered until `restore()`."""
        self._hang = hang
        self._open.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for end in sockets:
            self._shut(end)
            end.close()

    def restore(self) -> None:
        self._open.set()
        with self._lock:
            held, self._held = self._held, []
        for end in held:
            end.close()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.restore()
        self._open.clear()
        self._listener.close()
