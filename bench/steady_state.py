"""Benchmark (issue 17): the daemon at its default settings, living with a busy front desk.

Loads (or reuses) the synthetic Open Dental practice in MariaDB, starts `tc-sync run` at its
default settings (SQLite ledger, queues, status port; tasks through the Open Dental API stand-in
of tests/od_api_standin.py unless --no-tasks), waits for the first full sync and its cycle,
watches one quiet stretch (--idle-minutes, by default one period of the hinted tables' walks;
extended until one whole cycle ran in it), then runs
a scripted front desk (bench/steady_desk.py) at --rate changes a minute for --minutes with a
burst of --burst changes at the midpoint, and waits for the daemon to catch up. Reports, each
beside the issue's target: freshness per kind of change (commit -> ledger event -> queue files
-> task), the daemon's and mariadbd's CPU as shares of one core, the daemon's peak memory per
phase, the front desk's worst stall, the longest PMS statement, and what a quiet cycle costs.

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    python bench/steady_state.py                 # 60,000 patients: 30 quiet minutes, 10 busy
    python bench/steady_state.py --patients 3000 --minutes 3 --idle-minutes 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.od_* helpers

import sync_bench
from report_md import Header, Row, Section, Target, count, render, seconds
from steady_desk import KINDS, SLOW_MS, Change, make_desk, work
from steady_watch import Reached, Watcher, cost, epoch, freshness, memory_mb

from tc_sync.config import ScheduleSettings, SyncSettings

FRESH_P95 = Target(60.0, "p95 ≤ 60 s")
FRESH_MAX = Target(120.0, "max ≤ 120 s")
PMS_CPU = Target(1.0, "≤ 1 % of a core")
OUR_CPU = Target(5.0, "≤ 5 % of a core")
MEMORY = Target(250.0, "≤ 250 MB")
STALL = Target(300.0, "≤ 300 ms")
STATEMENT = Target(250.0, "≤ 250 ms")
UNSEEN = Target(0.0, "none", ours=True)
SOURCE = "main"
TASK_LIST, TASK_USER = 31, 1
TASK_KINDS = ["unscheduled_treatment", "broken_appointment", "claim_unsent"]
HANDLERS = "SHOW GLOBAL STATUS LIKE 'Handler_read%'"
READER = ("tc_bench_reader", "bench-reader")
"""tc-sync's account in the practice, granted as docs/INSTALL.md says (synthetic password)."""
TASK_API = ("tc_bench_api", "bench-api")
"""The Open Dental API stand-in's account: the tasks tc-sync pushes cost the server too."""


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def stand_in(database: str, tasks: bool) -> Iterator[str | None]:
    """The Open Dental API stand-in over the practice's own task tables; None: no tasks."""
    if not tasks:
        yield None
        return
    from tests.od_api_standin import StandIn, add_task_lists, add_users, create_task_tables, serve

    with sync_bench.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT UserNum, UserName FROM userod")
        users = [(int(num), str(name)) for num, name in cursor.fetchall()]
        create_task_tables(connection)        # drops and recreates userod: its rows go back
        add_users(connection, users)
        add_task_lists(connection, [(TASK_LIST, "tc-sync follow-ups", 0)])
    server = serve(StandIn(sync_bench.HOST, sync_bench.PORT, *TASK_API, database))
    try:
        yield next(server).base_url
    finally:
        next(server, None)                    # runs serve()'s shutdown


def one_value(cursor: Any) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row[0]


@contextmanager
def accounts(database: str) -> Iterator[Callable[[], float]]:
    """tc-sync's read-only account and the task API's, with mariadbd's per-account statistics
    on (`userstat`); yields what gives the server's CPU seconds on those accounts' connections
    so far (information_schema.USER_STATISTICS). The accounts are dropped afterwards."""
    names = (READER[0], TASK_API[0])
    with sync_bench.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@GLOBAL.userstat")
        was_on = bool(one_value(cursor))
        for (user, password), grant in ((READER, "SELECT, SHOW VIEW"),
                                        (TASK_API, "ALL PRIVILEGES")):
            cursor.execute(f"CREATE USER IF NOT EXISTS '{user}'@'%%' IDENTIFIED BY %s",
                           (password,))
            cursor.execute(f"GRANT {grant} ON `{database}`.* TO '{user}'@'%'")
        cursor.execute("SET GLOBAL userstat = 1")

    def spent() -> float:
        with sync_bench.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(SUM(CPU_TIME), 0) FROM "
                           "information_schema.USER_STATISTICS WHERE USER IN (%s, %s)", names)
            return float(one_value(cursor))

    try:
        yield spent
    finally:
        with sync_bench.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"SET GLOBAL userstat = {int(was_on)}")
            for user in names:
                cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")


def write_config(folder: Path, database: str, port: int, api: str | None) -> Path:
    """Default settings but for where things go (and the task target when there is one)."""
    settings: dict[str, object] = {
        "ledger": {"url": f"sqlite:///{folder / 'ledger.db'}"},
        "http": {"port": port},
        "queues": {"folder": str(folder / "queues")},
        "reports": {"folder": str(folder / "reports")},
        "logging": {"file": str(folder / "tc-sync.log")},
        "sources": {SOURCE: {"kind": "opendental", "connection": {
            "host": sync_bench.HOST, "port": sync_bench.PORT, "user": READER[0],
            "password": READER[1], "database": database}}},
    }
    if api:
        (folder / "mappings.yaml").write_text(yaml.safe_dump({"version": 1, "tasks": {
            "kinds": TASK_KINDS, "creator_user": TASK_USER,
            "lists": [{"task_list": TASK_LIST}]}}), encoding="utf-8")
        settings["mappings_file"] = str(folder / "mappings.yaml")
        settings["push"] = {"targets": {"od-api": {
            "kind": "opendental_api", "source": SOURCE, "base_url": api,
            "developer_key": "dev-key", "customer_key": "cust-key"}}}
    path = folder / "tc-sync.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def handler_reads(database: str) -> int:
    with sync_bench.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(HANDLERS)
        return sum(int(value) for _, value in cursor.fetchall())


def quiet_cycle(watcher: Watcher, database: str, minutes: float) -> dict[str, float]:
    """Sit idle for `minutes`, and on until one whole cycle ran; Handler_read_* around that
    cycle: read 2 s before it is due (cycles start every interval from the first) and just
    after its sync_finished is logged."""
    interval = ScheduleSettings().interval_seconds
    began = time.time()
    first = watcher.logged["sync_started"]
    due = first + interval * math.ceil((began + 2 - first) / interval)
    time.sleep(max(0.0, due - 2 - time.time()))
    before, at = handler_reads(database), time.time()
    reads = {"before": float(before)}
    if watcher.wait_for("sync_finished", at, interval + 300):
        reads["after"] = float(handler_reads(database))
        reads["seconds"] = time.time() - at
    time.sleep(max(0.0, began + minutes * 60 - time.time()))
    return reads


def longest_label(log_file: Path) -> str:
    """The first line of the longest statement's SQL, from the runs' sync_finished events."""
    best, label = -1, ""
    for line in log_file.read_text(encoding="utf-8").splitlines():
        if '"sync_finished"' not in line and '"hinted_sync_finished"' not in line:
            continue
        event = json.loads(line)
        if int(event.get("longest_statement_ms", -1)) > best:
            best, label = int(event["longest_statement_ms"]), str(event.get("longest_statement"))
    return label


def last_runs(ledger: sa.Engine) -> list[dict[str, object]]:
    with ledger.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT run_id, mode, statements, longest_statement_ms, rows_read, started_at, "
            "finished_at FROM sync_runs ORDER BY run_id")).mappings().all()
    return [dict(row) for row in rows]


def slow_beside_runs(slow: list[tuple[float, float, str]], runs: list[dict[str, object]]
                     ) -> list[dict[str, object]]:
    """Each slow desk statement with the tc-sync runs in progress when it began (a MyISAM
    table lock held by one of their statements would have kept it waiting)."""
    found: list[dict[str, object]] = []
    for began, ms, what in slow:
        during = [f"{run['mode']} run {run['run_id']} (longest statement "
                  f"{run['longest_statement_ms']} ms)" for run in runs
                  if run["finished_at"] is not None
                  and epoch(str(run["started_at"])) <= began <= epoch(str(run["finished_at"]))]
        found.append({"at": datetime.fromtimestamp(began, UTC).strftime("%H:%M:%S"),
                      "ms": round(ms), "what": what, "during": during})
    return found


def slow_text(figures: dict[str, object]) -> str:
    slow = figures.get("slow_desk_statements")
    if not isinstance(slow, list):
        return "not recorded"
    return "; ".join(f"{s['at']} UTC {s['what']} {s['ms']} ms, during "
                     f"{', '.join(s['during']) or 'no tc-sync run'}" for s in slow) or "none"


def measure(arguments: argparse.Namespace, say: object = print) -> dict[str, object]:
    """Run the whole benchmark; the figures as plain data (JSON-ready)."""
    assert callable(say)
    database = arguments.database
    figures: dict[str, object] = {"database": database, "minutes": arguments.minutes,
                                  "rate": arguments.rate, "burst": arguments.burst}
    place = (nullcontext(tempfile.mkdtemp(prefix="tc-steady-")) if arguments.keep
             else tempfile.TemporaryDirectory(prefix="tc-steady-"))
    with (place as temp, accounts(database) as server_ours,
          stand_in(database, not arguments.no_tasks) as api):
        folder = Path(temp)
        if arguments.keep:
            say(f"ledger, log and queues in {folder} (kept)")
        config = write_config(folder, database, free_port(), api)
        figures["tasks"] = api is not None
        started = time.time()
        daemon = subprocess.Popen([sys.executable, "-m", "tc_sync", "--config", str(config),
                                   "run"], cwd=folder, stdout=subprocess.DEVNULL,
                                  stderr=(folder / "stderr.txt").open("wb"))
        server_pid = int(subprocess.run(["pidof", "mariadbd"], capture_output=True, text=True,
                                        check=True).stdout.split()[0])
        watcher = Watcher(daemon.pid, folder / "tc-sync.log", folder / "queues")
        watcher.start()
        ledger = sa.create_engine(f"sqlite:///{folder / 'ledger.db'}")
        try:
            if not watcher.wait_for("cycle_finished", started, 3600):
                raise SystemExit("the first cycle did not finish: "
                                 + (folder / "stderr.txt").read_text()[-2000:])
            figures["first_cycle_seconds"] = time.time() - started
            say(f"first cycle done in {figures['first_cycle_seconds']:.0f} s; quiet stretch")
            reads: dict[str, float] = {}
            idle = cost(daemon.pid, server_pid, lambda: reads.update(quiet_cycle(
                watcher, database, arguments.idle_minutes)), server_ours)
            quiet_run = last_runs(ledger)[-1]
            figures["idle"] = asdict(idle)
            figures["quiet_cycle"] = {
                "statements": quiet_run["statements"],
                "longest_statement_ms": quiet_run["longest_statement_ms"],
                "rows_read": quiet_run["rows_read"],
                "handler_reads": reads["after"] - reads["before"] if "after" in reads
                else None, "handler_seconds": reads.get("seconds")}
            with sync_bench.connect(database) as connection:
                desk = make_desk(connection, ledger, SOURCE)
                say("front desk: " + ", ".join(f"{name} {len(pool)}"
                                               for name, pool in desk.pools.items()))
                run_began = time.time()
                busy = cost(daemon.pid, server_pid, lambda: catch_up(
                    desk, watcher, ledger, arguments, say), server_ours)
            figures["run"] = asdict(busy)
            figures["cpu_by_event"] = watcher.cpu_by_event(run_began, time.time())
            figures["daemon_vmhwm_mb"] = memory_mb(daemon.pid, "VmHWM")
            runs = last_runs(ledger)
            longest = max(runs, key=lambda run: int(str(run["longest_statement_ms"])))
            figures["longest_statement"] = {"ms": longest["longest_statement_ms"],
                                            "mode": longest["mode"], "runs": len(runs),
                                            "what": longest_label(folder / "tc-sync.log")}
            figures["stall_ms"] = desk.worst_stall_ms
            figures["slow_desk_statements"] = slow_beside_runs(desk.slow, runs)
            figures["desk_statements"] = desk.statements
            figures["skipped"] = desk.skipped
            figures["cycles_during_run"] = watcher.count("sync_started", run_began)
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=120)
            except subprocess.TimeoutExpired:
                daemon.kill()
            watcher.stop.set()
            watcher.join()
        tasks_for = set(TASK_KINDS) if api else set()
        reached = freshness(ledger, desk.changes, watcher.queue_writes, tasks_for)
        ledger.dispose()
        figures["freshness"] = {kind: asdict(found) for kind, found in reached.items()}
        figures["peak_mb"] = watcher.peak_mb
    return figures


CATCH_UP_SECONDS = 300.0
"""At most this long after the desk stops for its changes to reach the ledger (one scan)."""
PUSH_PASS_SECONDS = 35.0
"""The push job's next pass (every 30 s by default), after the last change reached it."""


def catch_up(desk: object, watcher: Watcher, ledger: sa.Engine, arguments: argparse.Namespace,
             say: object) -> None:
    """The front desk's work, then until its changes reached the ledger and then queue files
    written after each one's event (each at most `CATCH_UP_SECONDS`), and a push pass. The tail ends
    when the work is done, not after so many cycles: a look that finds nothing new logs no
    cycle, so counting cycles stretched the tail, and diluted the CPU figures, by up to a
    scan's interval."""
    assert callable(say)
    work(desk, arguments.minutes, arguments.rate, arguments.burst,  # type: ignore[arg-type]
         lambda: say(f"burst of {arguments.burst} changes"))
    ended = time.time()
    say("front desk done; waiting for its changes to reach the ledger and the queue files")
    changes = desk.changes  # type: ignore[attr-defined]
    deadline = ended + CATCH_UP_SECONDS
    while time.time() < deadline and _reached(ledger, changes, []) < len(changes):
        time.sleep(2)
    reached = time.time()
    while time.time() < reached + CATCH_UP_SECONDS and _reached(
            ledger, changes, list(watcher.queue_writes), files=True) < len(changes):
        time.sleep(1)
    time.sleep(max(0.0, reached + PUSH_PASS_SECONDS - time.time()))


def _reached(ledger: sa.Engine, changes: list[Change], queue_writes: list[float], *,
             files: bool = False) -> int:
    """How many changes' item events are in the ledger (`files`: and in queue files written
    after the event: a rewrite that came before this was asked still counts, which waiting
    for a rewrite after the ledger was caught up did not, and then waited the full tail)."""
    found = freshness(ledger, changes, queue_writes, set())
    return sum(len(reached.queues if files else reached.ledger) for reached in found.values())


# --- the figures beside their targets -------------------------------------------------------


def rows(figures: dict[str, object]) -> list[Section]:
    """The figures as report rows (bench/report.py reads them back from the JSON)."""
    fresh: list[Row] = []
    found = figures.get("freshness", {})
    assert isinstance(found, dict)
    for kind in KINDS:
        if kind not in found:
            continue
        reached = Reached(**found[kind])
        for where, values, expected in (
                ("items", reached.ledger, reached.changes),
                ("queue files", reached.queues, reached.changes),
                ("task", reached.tasks, reached.task_changes)):
            if not expected:
                continue
            p95, most = percentile(values, 0.95), max(values, default=math.nan)
            figure = (f"p50 {seconds(percentile(values, 0.5))}, p95 {seconds(p95)}, max "
                      f"{seconds(most)}" if values else "never seen")
            against = f"{count(expected)} changes, {expected - len(values)} never seen"
            fresh.append(Row(f"{kind} → {where}, p95", figure, p95, FRESH_P95, against))
            fresh.append(Row(f"{kind} → {where}, max", f"{seconds(most)}" if values else "—",
                             most, FRESH_MAX, against))
    run, idle = figures.get("run", {}), figures.get("idle", {})
    assert isinstance(run, dict) and isinstance(idle, dict)
    cpu = [row for stretch, got in (("busy run", run), ("quiet stretch", idle)) if got
           for row in cpu_rows(stretch, got)]
    peak = figures.get("peak_mb", {})
    assert isinstance(peak, dict)
    memory = [Row(f"Peak memory, {phase}", f"{value:.0f} MB (sampled RSS every 0.25 s)", value,
                  MEMORY, f"VmHWM overall {figures.get('daemon_vmhwm_mb', 0):.0f} MB")
              for phase, value in peak.items()]
    longest = figures.get("longest_statement", {})
    assert isinstance(longest, dict)
    pms = [Row("Front desk's worst stall", f"{figures.get('stall_ms', 0):.0f} ms over "
               f"{count(int(str(figures.get('desk_statements', 0))))} statements",
               float(str(figures.get("stall_ms", "nan"))), STALL, "its slowest statement"),
           Row("Longest PMS statement", f"{longest.get('ms', '—')} ms ({longest.get('mode')} "
               f"run; of {longest.get('runs')} runs): {longest.get('what') or '?'}",
               float(str(longest.get("ms", "nan"))),
               STATEMENT, "sync_runs.longest_statement_ms (performance_schema is off)")]
    return [Section("Freshness (commit → items → queue files → task)", fresh),
            Section("CPU as a share of one core", cpu), Section("Memory", memory),
            Section("The PMS", pms)]


def cpu_rows(stretch: str, got: dict[str, float]) -> list[Row]:
    """The PMS server's CPU spent for tc-sync (on its reader's and the task API's connections:
    mariadbd's per-account counters), and tc-sync's own."""
    over = f"over {seconds(got['seconds'])}"
    ours = got.get("server_ours")
    return [Row(f"mariadbd CPU for tc-sync, {stretch}",
                f"{ours * 100:.2f} % {over}" if ours is not None else "—",
                ours * 100 if ours is not None else None, PMS_CPU,
                f"the whole server {got['server'] * 100:.2f} %: the front desk's own "
                "statements count there"),
            Row(f"tc-sync CPU, {stretch}", f"{got['daemon'] * 100:.2f} % {over}",
                got["daemon"] * 100, OUR_CPU, "the machine is shared: it runs the PMS too")]


def quiet_text(figures: dict[str, object]) -> str:
    quiet = figures.get("quiet_cycle", {})
    assert isinstance(quiet, dict)
    return (f"{quiet.get('statements')} statements, {quiet.get('rows_read')} rows read; "
            f"{quiet.get('handler_reads')} Handler_read_* over "
            f"{float(str(quiet.get('handler_seconds') or 'nan')):.1f} s, from 2 s before it to "
            "just after its sync_finished (server-wide: other clients' reads count too)")


ACTIVITIES = {"queues_built": "queue builds", "hinted_sync_finished": "hinted re-reads",
              "reconciled": "reconciles"}


def activity_text(figures: dict[str, object]) -> str:
    """Where the daemon's CPU went while the desk worked: each logged activity's count and
    thread CPU, and what no activity logged (the push, scans, the scheduler...)."""
    found = figures.get("cpu_by_event")
    run = figures.get("run")
    if not isinstance(found, dict) or not isinstance(run, dict):
        return "not measured (an older run)"
    total = float(run["daemon"]) * float(run["seconds"])
    parts, logged = [], 0.0
    for event, label in ACTIVITIES.items():
        count, spent = found.get(event, (0, 0.0))
        logged += spent
        parts.append(f"{label} {count}, {spent:.1f} s ({spent / max(count, 1):.2f} s each)")
    parts.append(f"the rest {total - logged:.1f} s (of {total:.1f} s)")
    return "; ".join(parts)


def facts(figures: dict[str, object], argv: list[str]) -> list[tuple[str, str]]:
    """The run's circumstances, printed above the rows."""
    return [("Command", " ".join(["bench/steady_state.py", *argv])),
             ("First cycle", seconds(float(str(figures.get("first_cycle_seconds", 0))))),
             ("Tasks", "on (Open Dental API stand-in)" if figures.get("tasks") else "off"),
             ("Cycles during the busy run", str(figures.get("cycles_during_run"))),
             ("Changes skipped (no subject left)", str(figures.get("skipped"))),
             ("A quiet cycle's PMS work", quiet_text(figures)),
             (f"Desk statements over {SLOW_MS:.0f} ms", slow_text(figures)),
             ("tc-sync CPU by activity, busy run", activity_text(figures)),
             ("Machine", "shared with other work: CPU figures include its noise")]


def print_report(figures: dict[str, object], argv: list[str]) -> None:
    print(render(Header("tc-sync steady state", facts(figures, argv)), rows(figures)))


def json_rows(figures: dict[str, object]) -> list[dict[str, object]]:
    """Every row, for bench/report.py: measure, figure, value, target, against, section."""
    return [{"section": section.title, "measure": row.measure, "figure": row.figure,
             "value": row.value if row.value is None or math.isfinite(row.value) else None,
             "limit": row.target.limit if math.isfinite(row.target.limit) else None,
             "target": row.target.text, "ours": row.target.ours, "against": row.against,
             "verdict": row.verdict}
            for section in rows(figures) for row in section.rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--patients", type=int, default=60_000)
    parser.add_argument("--database", default="tc_steady")
    parser.add_argument("--engine", default="MyISAM", choices=["MyISAM", "InnoDB"])
    parser.add_argument("--reuse", action="store_true", help="use the database as loaded")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=60, help="changes a minute")
    parser.add_argument("--burst", type=int, default=200, help="changes at the midpoint")
    parser.add_argument(
        "--idle-minutes", type=float, default=ScheduleSettings().hinted_scan_seconds / 60,
        help="the quiet stretch (default one period of schedule.hinted_scan_seconds: each "
             "table the hints re-read is walked once in it, so its figures are an idle "
             "hour's; a shorter one shows whichever walks fall inside it)")
    parser.add_argument("--no-tasks", action="store_true", help="no push target")
    parser.add_argument("--keep", action="store_true",
                        help="keep the daemon's folder (ledger, log, queues) and say where")
    parser.add_argument("--json", type=Path, help="write the figures and rows here too")
    arguments = parser.parse_args(argv)
    if not arguments.reuse:
        print(f"loading {arguments.patients:,} patients into {arguments.database}")
        sync_bench.load(arguments.database, arguments.patients, arguments.engine, date.today())
        # The daemon's first cursors look back sync.safety_lag_seconds: tables the load wrote
        # within that would make the "quiet" cycle re-scan them all. Let the load age past it.
        lag = SyncSettings().safety_lag_seconds + 2
        print(f"waiting {lag} s for the load to age past the cursors' safety lag")
        time.sleep(lag)
    figures = measure(arguments)
    given = list(argv if argv is not None else sys.argv[1:])
    print_report(figures, given)
    if arguments.json:
        arguments.json.write_text(json.dumps({"figures": figures, "rows": json_rows(figures),
                                              "facts": facts(figures, given)},
                                             indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
