"""`python -m tc_sync` runs for the crash tests, forked from a process that imported tc-sync once.

Importing tc-sync takes about a second, several times longer than the runs the crash tests kill,
and 200 kills would spend minutes importing. So, as multiprocessing's forkserver does, one
server process imports tc-sync's modules (and opens nothing: no ledger, no PMS connection),
then for each command line the test sends it forks a child that sets `sys.argv` and runs the
`tc_sync` package as `__main__`: what `python -m tc_sync ARGS` runs, to its normal interpreter
exit. The test kills that child by its pid, as it would kill `python -m tc_sync`.

Protocol, one run at a time: the test writes the command line as a JSON list on a line of the
server's stdin; the server answers `started PID`, then `ended PID CODE` (CODE as Popen's
`returncode`: negative for a signal). The ended child stays a zombie, its pid reserved, until
the next line arrives, so the test never signals a pid that could have been reused. An empty
line or the end of stdin ends the server. The children's stderr is the server's.
"""

from __future__ import annotations

import json
import os
import runpy
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("tc_sync.cli", "tc_sync.commands.sync", "tc_sync.commands.outbox", "tc_sync.cycle",
           "tc_sync.drivers.mysql", "tc_sync.items.reconcile", "tc_sync.ledger.db",
           "tc_sync.push.dispatcher", "tc_sync.push.targets.opendental_api", "tc_sync.pull.run")


# --- the server side ----------------------------------------------------------------------


def _serve() -> list[str] | None:
    """Fork a child per command line. Returns, in a child, its command line; in the server,
    None once stdin ends."""
    for module in PRELOAD:
        __import__(module)
    ended: int | None = None
    while True:
        line = sys.stdin.buffer.readline()
        if ended is not None:
            os.waitpid(ended, 0)                      # reap the last child only now
            ended = None
        if not line.strip():
            return None
        argv = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return [str(part) for part in argv]
        sys.stdout.write(f"started {pid}\n")
        sys.stdout.flush()
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        assert info is not None
        code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        ended = pid
        sys.stdout.write(f"ended {pid} {code}\n")
        sys.stdout.flush()


def main() -> None:
    argv = _serve()
    if argv is None:
        return
    null = os.open(os.devnull, os.O_RDWR)            # the protocol's pipes are not the child's
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.argv = ["tc-sync", *argv]
    runpy.run_module("tc_sync", run_name="__main__", alter_sys=True)


# --- the test side ------------------------------------------------------------------------


class Forked:
    """One forked `python -m tc_sync` run: the part of Popen's interface the tests use."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.server.read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"tc_sync (pid {self.pid})", timeout or 0)
            self.server.read(left)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:                       # not ended: its pid is still its own
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """Starts `python -m tests.reliability.cli_forkserver` and runs tc-sync commands in it."""

    def __init__(self, log: Path) -> None:
        self.log: BinaryIO = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.cli_forkserver"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.current: Forked | None = None
        self._buffer = b""

    def run(self, *argv: str) -> Forked:
        """`python -m tc_sync ARGV` in a new child (the one before must have ended)."""
        assert self.current is None or self.current.returncode is not None, "one at a time"
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(list(argv)).encode() + b"\n")
        self.process.stdin.flush()
        self.current = None
        deadline = time.monotonic() + 120
        while self.current is None:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the tc-sync fork server did not start a child")
            self.read(1.0)
        return self.current

    def push(self, config: Path) -> Forked:
        """`tc-sync --config CONFIG push`."""
        return self.run("--config", str(config), "push")

    def read(self, timeout: float | None) -> None:
        """Take in what the server said within `timeout` seconds."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        readable, _, _ = select.select([descriptor], [], [], timeout)
        if readable:
            chunk = os.read(descriptor, 4096)
            if not chunk:
                raise RuntimeError("the tc-sync fork server ended (see its log)")
            self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            word, pid, *code = line.decode().split()
            if word == "started":
                self.current = Forked(self, int(pid))
            elif self.current is not None and self.current.pid == int(pid):
                self.current.returncode = int(code[0])

    def close(self) -> None:
        if self.current is not None and self.current.returncode is None:
            self.current.kill()
            self.current.wait(30)
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


if __name__ == "__main__":
    main()
