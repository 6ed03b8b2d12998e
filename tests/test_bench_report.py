"""The benchmark report's verdicts and Markdown (bench/report_md.py, bench/report.py).

Pure functions over made-up figures: nothing here is timed or touches a database.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))  # scripts import by name

import report
import report_md
from items_bench import ItemsFigures
from push_bench import PushFigures
from queues_bench import QueueFigures
from report_md import MET, NOT_MEASURED, NOT_MET, Header, Row, Section, Target
from sync_bench import ClientFigures, Stall, SyncFigures, SyncRun


def test_a_figure_at_its_limit_meets_it_in_either_direction() -> None:
    at_most = Target(3.0, "≤ 3x")
    assert at_most.met(3.0) and at_most.met(0.5)
    assert not at_most.met(3.0001)
    at_least = Target(50.0, "≥ 50 tasks/s", at_least=True)
    assert at_least.met(50.0) and at_least.met(900.0)
    assert not at_least.met(49.99)


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_a_missing_figure_is_not_measured_never_met(value: float | None) -> None:
    assert Row("x", "—", value, Target(1.0, "≤ 1 s"), "—").verdict == NOT_MEASURED


def test_ours_is_said_in_the_target() -> None:
    assert Target(10, "≤ 10 s", ours=True).describe() == "≤ 10 s (ours)"
    assert Target(1, "≤ 1 s").describe() == "≤ 1 s"


def test_growth_is_large_over_small() -> None:
    row = report_md.growth_row("Full sync", 10.0, 41.0, report_md.linear(4.0), "floor 4.0x")
    assert row.value == pytest.approx(4.1)
    assert row.verdict == NOT_MET
    assert row.figure == "10.0 s → 41.0 s = 4.10x"
    memory = report_md.growth_row("Memory", 150, 160, report_md.FLAT, "—", unit="MB")
    assert memory.figure == "150 MB → 160 MB = 1.07x"
    assert memory.verdict == MET
    assert report_md.growth_row("x", 0.0, 1.0, report_md.FLAT, "—").verdict == NOT_MEASURED
    assert report_md.growth_row("x", None, 1.0, report_md.FLAT, "—").verdict == NOT_MEASURED


def test_text_formats() -> None:
    assert report_md.seconds(0.0994) == "99 ms"
    assert report_md.seconds(1.234) == "1.23 s"
    assert report_md.seconds(58.12) == "58.1 s"
    assert report_md.cell("a | b\nc") == "a \\| b c"


def test_the_document_counts_verdicts_and_lists_what_is_not_met() -> None:
    rows = [Row("Fast", "90 ms", 0.09, Target(0.1, "≤ 100 ms"), "full sync 50 s"),
            Row("Slow", "2.0 s", 2.0, Target(1.0, "≤ 1 s"), "full sync 50 s"),
            Row("Lost", "—", None, Target(1.0, "≤ 1 s"), "—")]
    text = report_md.render(
        Header("Report", [("Cores", "2")], notes=["a note"],
               failures=[("push benchmark", "OSError: no\nroute")]),
        [Section("Cycles", rows)])
    assert "**1 of 3 targets met**; **1 NOT MET**; **1 not measured**" in text
    assert "* Cycles: Slow: 2.0 s (target ≤ 1 s)" in text
    assert "* Cycles: Fast" not in text
    assert "| Slow | 2.0 s | ≤ 1 s | **NOT MET** | full sync 50 s |" in text
    assert "| Fast | 90 ms | ≤ 100 ms | met | full sync 50 s |" in text
    assert "| Cores | 2 |" in text
    assert "* push benchmark: `OSError: no route`" in text
    assert text.endswith("* a note\n")


# --- from the benchmarks' figures to rows ----------------------------------------------------


def sync_run(seconds: float, *, memory: float = 150.0, longest: float = 120.0) -> SyncRun:
    return SyncRun("ok", seconds, 4_000_000, 900, longest, 1000, memory)


def practice(label: str, patients: int, scale: float, *, clients: bool = True) -> report.Practice:
    runs = [ClientFigures("mysqlclient", 4_000_000, 20 * scale, sync_run(30 * scale),
                          Stall(80, 500)),
            ClientFigures("pymysql", 4_000_000, 40 * scale, sync_run(62 * scale),
                          Stall(350, 500))] if clients else []
    sync = SyncFigures({"patient": patients, "procedurelog": 2_000_000}, 10 * scale, runs,
                       1.5, Stall(1400, 10), sync_run(0.2), sync_run(0.05),
                       sync_run(0.8), {1: 4.0, 2: 2.1})
    return report.Practice(
        label, f"tc_{label}", patients, sync=sync,
        items=ItemsFigures(30 * scale, 4_000_000, 45 * scale, patients, 50_000, 0.4, 0.5, 600,
                           300),
        queues=QueueFigures(12 * scale, 50_000, 7, 10, 20.0, 2.0, {"xlsx": 10.0}))


def by_measure(sections: list[Section]) -> dict[tuple[str, str], Row]:
    return {(section.title.split(":")[0], row.measure): row
            for section in sections for row in section.rows}


def test_each_figure_is_read_against_its_own_floor_and_target() -> None:
    push = PushFigures("sqlite", 1000, 0.3, 0.8, 1000, 5.0, 1000, 1000)
    rows = by_measure(report.sections(practice("large", 60_000, 1.0),
                                      practice("growth", 15_000, 0.25), push))
    mysqlclient = rows["Full sync against bare extraction", "Full sync, mysqlclient"]
    assert mysqlclient.value == pytest.approx(3.0)       # 30 s over the C client's 10 s
    assert mysqlclient.verdict == MET
    pymysql = rows["Full sync against bare extraction", "Full sync, pymysql"]
    assert pymysql.value == pytest.approx(62 / 40)       # over its own floor, not the C one
    assert pymysql.verdict == NOT_MET
    assert rows["Reconcile (coordination items)", "Full evaluation of the items"].value == \
        pytest.approx(1.5)
    assert rows["Reconcile (coordination items)",
                "Incremental reconcile, 1,000 rows changed"].value == pytest.approx(0.9)
    assert rows["Work queues", "Work queues, every format"].verdict == NOT_MET   # 12 s > 10 s
    throughput = rows["Push through the outbox", "Tasks through the Open Dental API stand-in"]
    assert throughput.value == pytest.approx(200) and throughput.verdict == MET
    assert rows["Push through the outbox", "Outbox overhead per action"].value == \
        pytest.approx(0.8)
    stall = rows["The sync process and the PMS", "Front desk's worst stall during the sync, "
                 "pymysql"]
    assert stall.verdict == NOT_MET and "worst stall 1400 ms" in stall.against
    growth = rows["Growth", "Full sync, mysqlclient"]
    assert growth.value == pytest.approx(4.0) and growth.verdict == MET   # exactly linear
    memory = rows["Growth", "Peak memory of the sync, mysqlclient"]
    assert memory.value == pytest.approx(1.0) and memory.target == report_md.FLAT


def test_the_full_sync_row_bounds_it_by_the_cpu_both_sides_spent() -> None:
    large = practice("large", 60_000, 1.0)
    run = large.client("mysqlclient")
    assert run is not None
    run.full.cpu_seconds, run.full.server_cpu_seconds = 47.0, 15.0
    assert run.full.cpu_floor_seconds(2) == pytest.approx(31.0)
    assert run.full.cpu_floor_seconds(4) == pytest.approx(15.5)
    cores = os.cpu_count() or 1
    rows = by_measure(report.sections(large, practice("growth", 15_000, 0.25), None))
    against = rows["Full sync against bare extraction", "Full sync, mysqlclient"].against
    assert (f"CPU: the sync's process 47.0 s, the PMS server 15.0 s: at least "
            f"{62 / cores:.1f} s on {cores} core") in against
    unmeasured = rows["Full sync against bare extraction", "Full sync, pymysql"].against
    assert "CPU" not in unmeasured     # a run that did not report its CPU says nothing of it


def test_a_step_that_failed_leaves_its_rows_not_measured() -> None:
    large = practice("large", 60_000, 1.0, clients=False)
    large.items = None
    large.queues = None
    rows = by_measure(report.sections(large, practice("growth", 15_000, 0.25), None))
    for key in [("Full sync against bare extraction", "Full sync, mysqlclient"),
                ("Reconcile (coordination items)", "Full evaluation of the items"),
                ("Work queues", "Work queues, every format"),
                ("Push through the outbox", "Tasks through the Open Dental API stand-in"),
                ("The sync process and the PMS", "Peak memory of the sync, pymysql"),
                ("Growth", "Full sync, pymysql"),
                ("Growth", "Work queues, every format")]:
        assert rows[key].verdict == NOT_MEASURED, key


def steady_figures() -> dict[str, object]:
    """Made-up figures of a steady-state run, as bench/steady_state.py measures them."""
    return {
        "freshness": {
            "break": {"kind": "break", "changes": 20, "ledger": [30.0] * 18 + [70.0, 130.0],
                      "queues": [31.0] * 19, "tasks": [45.0] * 15, "task_changes": 20},
            "delete_claim": {"kind": "delete_claim", "changes": 3, "ledger": [],
                             "queues": [], "tasks": []}},
        "run": {"seconds": 600.0, "daemon": 0.02, "server": 0.05, "server_ours": 0.03},
        "idle": {"seconds": 120.0, "daemon": 0.001, "server": 0.014, "server_ours": 0.004},
        "peak_mb": {"sync": 180.0, "queues": 260.0},
        "daemon_vmhwm_mb": 261.0, "stall_ms": 12.0, "desk_statements": 900,
        "longest_statement": {"ms": 40, "mode": "incremental", "runs": 4},
        "quiet_cycle": {"statements": 30, "rows_read": 0, "handler_reads": 1200},
    }


def test_steady_state_rows_survive_the_json_and_keep_their_verdicts(tmp_path: Path) -> None:
    import json

    import steady_report
    import steady_state

    figures = steady_figures()
    path = tmp_path / "steady.json"
    path.write_text(json.dumps({"figures": figures, "rows": steady_state.json_rows(figures),
                                "facts": steady_state.facts(figures, ["--minutes", "3"])}))
    read = steady_report.sections(path)
    verdicts = {row.measure: row.verdict for section in read for row in section.rows}
    assert verdicts["break → items, p95"] == NOT_MET          # 70 s is the 95th of 20
    assert verdicts["break → items, max"] == NOT_MET          # 130 s > 120 s
    assert verdicts["break → queue files, p95"] == MET
    assert verdicts["delete_claim → items, p95"] == NOT_MEASURED   # never seen, never met
    assert verdicts["mariadbd CPU for tc-sync, busy run"] == NOT_MET      # 3 % > 1 %
    assert verdicts["tc-sync CPU, busy run"] == MET
    # 0.4 % on tc-sync's connections, though the whole server (the desk too) spent 1.4 %
    assert verdicts["mariadbd CPU for tc-sync, quiet stretch"] == MET
    assert verdicts["Peak memory, queues"] == NOT_MET
    assert verdicts["Front desk's worst stall"] == MET
    assert verdicts["Longest PMS statement"] == MET
    rows = {row.measure: row for section in read for row in section.rows}
    assert rows["delete_claim → items, p95"].figure == "never seen"
    assert rows["mariadbd CPU for tc-sync, quiet stretch"].against.startswith(
        "the whole server 1.40 %")
    assert rows["break → queue files, p95"].against == "20 changes, 1 never seen"
    assert rows["break → task, p95"].against == "20 changes, 5 never seen"
    assert verdicts["break → task, max"] == MET
    assert "delete_claim → task, p95" not in verdicts       # deleting makes no task
    text = report_md.render(Header("Report", []), read)
    assert "## Steady state (issue 17): Freshness" in text
    assert "A quiet cycle's PMS work 30 statements, 0 rows read" in text


def test_percentiles_are_nearest_rank() -> None:
    import steady_state

    assert steady_state.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert steady_state.percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
    assert math.isnan(steady_state.percentile([], 0.95))


def test_a_steady_state_run_without_per_account_counters_has_its_server_cpu_not_measured(
) -> None:
    import steady_state

    figures = steady_figures()
    figures["run"] = {"seconds": 600.0, "daemon": 0.02, "server": 0.005}
    rows = {row.measure: row for section in steady_state.rows(figures) for row in section.rows}
    assert rows["mariadbd CPU for tc-sync, busy run"].verdict == NOT_MEASURED
    assert rows["mariadbd CPU for tc-sync, busy run"].against.startswith(
        "the whole server 0.50 %")


def test_a_slow_desk_statement_is_set_beside_the_tc_sync_run_in_progress() -> None:
    from datetime import UTC, datetime

    import steady_state

    began = datetime(2026, 12, 6, 14, 3, 5, tzinfo=UTC).timestamp()
    runs: list[dict[str, object]] = [
        {"run_id": 7, "mode": "hinted", "longest_statement_ms": 612,
         "started_at": "2026-12-06 14:03:04.500000", "finished_at": "2026-12-06 14:03:06"},
        {"run_id": 8, "mode": "incremental", "longest_statement_ms": 40,
         "started_at": "2026-12-06 14:03:30", "finished_at": "2026-12-06 14:03:31"}]
    slow = steady_state.slow_beside_runs(
        [(began, 640.4, "DELETE FROM claimproc"), (began + 60, 170.0, "UPDATE appointment SET")],
        runs)
    assert slow == [
        {"at": "14:03:05", "ms": 640, "what": "DELETE FROM claimproc",
         "during": ["hinted run 7 (longest statement 612 ms)"]},
        {"at": "14:04:05", "ms": 170, "what": "UPDATE appointment SET", "during": []}]
    assert steady_state.slow_text({"slow_desk_statements": slow}).endswith(
        "170 ms, during no tc-sync run")


def test_the_daemon_cpu_is_split_by_the_activities_its_log_times() -> None:
    import steady_state

    figures = steady_figures()
    figures["run"] = {"seconds": 600.0, "daemon": 0.05, "server": 0.005}
    figures["cpu_by_event"] = {"queues_built": [16, 19.2], "reconciled": [40, 3.2]}
    assert steady_state.activity_text(figures) == (
        "queue builds 16, 19.2 s (1.20 s each); hinted re-reads 0, 0.0 s (0.00 s each); "
        "reconciles 40, 3.2 s (0.08 s each); the rest 7.6 s (of 30.0 s)")
    assert steady_state.activity_text(steady_figures()).startswith("not measured")
