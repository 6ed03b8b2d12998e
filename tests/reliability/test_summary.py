"""The summary table lines up its columns and keeps the scenarios in the order they ran."""

from tests.reliability.summary import Summary


def test_table_lists_each_scenario_with_its_runs_failures_and_figure() -> None:
    summary = Summary()
    summary.record("crash: sync", runs=120, failures=0, figure="integrity ok after 120 kills")
    summary.record("soak", runs=1000, failures=1, figure="RSS +3 MB")
    lines = summary.table().splitlines()
    assert lines[0].split("|")[1].strip() == "scenario"
    assert "| crash: sync " in lines[2] and "| 120 " in lines[2]
    assert "| 1,000 " in lines[3] and "| 1 " in lines[3] and "RSS +3 MB" in lines[3]
    assert len({len(line) for line in lines}) == 1
