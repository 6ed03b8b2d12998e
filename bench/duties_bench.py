"""Benchmark: what the coordinator's further duties cost the PMS (issue 16).

The eight streams lab cases, labs, referrals and their attachments, insurance verifications,
users and the procedures on treatment plans (saved and attached), pulled from the synthetic
practice on MariaDB: a full pull, then an incremental one after the front desk changed a few
rows of each table. For each: seconds, rows, statements, and the longest PMS statement
(target: none over 250 ms).

Usage (MariaDB at 127.0.0.1:3306, root, no password, unless TC_SYNC_TEST_MYSQL_* say otherwise):
    python bench/duties_bench.py --patients 60000           # load the practice, then measure
    python bench/duties_bench.py --reuse                    # database tc_bench as loaded
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sync_bench import HOST, PASSWORD, PORT, USER, connect, load

from tc_sync.config import ConnectionSettings, SourceSettings, SyncSettings
from tc_sync.ledger.db import open_ledger
from tc_sync.pull.run import RunResult, sync_source

STREAMS = ("saved_plan_procedures", "plan_attachments", "lab_cases", "laboratories",
           "referral_attachments", "referrals", "insurance_verifications", "users")
CHANGES = (  # a few rows of each table, as the front desk would touch them
    "UPDATE labcase SET DateTimeRecd = NOW() WHERE LabCaseNum % 500 = 1",
    "UPDATE refattach SET RefToStatus = 3 WHERE RefAttachNum % 500 = 1",
    "UPDATE insverify SET DateLastVerified = CURDATE() WHERE InsVerifyNum % 500 = 1",
    "UPDATE proctp SET FeeAmt = FeeAmt + 1 WHERE ProcTPNum % 500 = 1",
    "DELETE FROM treatplanattach WHERE TreatPlanAttachNum % 1000 = 7",
)
LIMIT_MS = 250


def pull(database: str, ledger: Path, *, full: bool) -> RunResult:
    engine = open_ledger(f"sqlite:///{ledger}")
    source = SourceSettings(kind="opendental", streams=list(STREAMS),
                            connection=ConnectionSettings(
                                driver="pymysql", host=HOST, port=PORT, user=USER,
                                password=PASSWORD or None, database=database))
    try:
        return sync_source(engine, "bench", source, SyncSettings(safety_lag_seconds=10),
                           full=full)
    finally:
        engine.dispose()


def report(title: str, result: RunResult) -> None:
    longest = result.longest_statement_seconds * 1000
    verdict = "ok" if longest <= LIMIT_MS else "OVER"
    print(f"\n{title}: {result.seconds:.2f} s, {result.rows_read:,} rows, "
          f"{result.statements:,} statements, longest {longest:.0f} ms "
          f"(target {LIMIT_MS} ms: {verdict})")
    for stream in result.streams:
        print(f"  {stream.stream:<24} {stream.mode:<11} {stream.rows_read:>9,} rows "
              f"{stream.seconds:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=60_000)
    parser.add_argument("--database", default="tc_bench")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    arguments = parser.parse_args()
    if not arguments.reuse:
        load(arguments.database, arguments.patients, "MyISAM")
    with tempfile.TemporaryDirectory() as folder:
        ledger = Path(folder) / "ledger.db"
        report("full pull", pull(arguments.database, ledger, full=True))
        connection = connect(arguments.database)
        with connection.cursor() as cursor:
            for statement in CHANGES:
                cursor.execute(statement)
        connection.commit()
        connection.close()
        report("incremental pull after a few changes per table",
               pull(arguments.database, ledger, full=False))


if __name__ == "__main__":
    main()
