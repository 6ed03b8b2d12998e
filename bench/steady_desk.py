"""The steady-state benchmark's scripted front desk: Open Dental rows changed the way Open
Dental's client changes them (sql_mode '', no foreign keys: tests/od_office.py), with the
audit-trail entry Open Dental writes for each edit (securitylog), each change recorded with
its commit time and the ledger item it should move.

Subjects come from the ledger's open items and the PMS as they are when the desk starts; each
patient is touched once, so one change never hides another's effect.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pymysql
import sqlalchemy as sa

from tests.od_office import Office

KINDS = ("schedule", "complete", "break", "delete_appointment", "delete_claim", "create_claim",
         "send_claim", "receive_claim", "plan_treatment", "commlog")
"""Each kind of change, in the order the desk makes them."""
# securitylog.PermType (Open Dental's Permissions enum) of the audit entry each change writes
PROC_COMPLETE_CREATE, APPOINTMENT_CREATE, APPOINTMENT_EDIT, PROC_EDIT = 23, 25, 27, 100
CLAIM_SEND, CLAIM_DELETE, CLAIM_EDIT, COMMLOG_CREATE, APPOINTMENT_DELETE = 104, 118, 150, 193, 237


@dataclass
class Change:
    """One front-desk change: what it was, the item it should move, when it committed."""

    kind: str
    item_key: str
    committed_at: float
    """time.time() just after the last statement returned (autocommit, MyISAM)."""
    expect: str
    """The item event the change should cause: opened, resolved or contacted."""


SLOW_MS = 150.0
"""A desk statement this slow is kept with its time, to set beside tc-sync's runs."""


@dataclass
class Desk:
    """Makes changes and times every statement it runs."""

    office: Office
    source: str
    rng: random.Random
    pools: dict[str, list[tuple[int, ...]]]
    used: set[int] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    worst_stall_ms: float = 0.0
    statements: int = 0
    slow: list[tuple[float, float, str]] = field(default_factory=list)
    """Statements over `SLOW_MS`: when each began (epoch s), its ms, its first three words."""

    def run(self, sql: str, *params: object) -> int:
        began, started = time.time(), time.perf_counter()
        key = self.office.run(sql, *params)
        elapsed = (time.perf_counter() - started) * 1000
        self.worst_stall_ms = max(self.worst_stall_ms, elapsed)
        if elapsed > SLOW_MS:
            self.slow.append((began, elapsed, " ".join(sql.split()[:3])))
        self.statements += 1
        return key

    def insert(self, table: str, **values: object) -> int:
        marks = ", ".join(["%s"] * len(values))
        return self.run(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                        *values.values())

    def audit(self, patient: int, perm_type: int, fkey: int = 0) -> None:
        """The audit-trail entry Open Dental's client writes with the edit (securitylog:
        LogDateTime is the server's NOW(); `fkey` is the edited row, zeroed for a deleted
        appointment)."""
        self.run("INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, "
                 "CompName, FKey, LogSource, DefNum, DefNumError, DateTPrevious) VALUES "
                 "(%s, 1, NOW(), '', %s, 'FRONTDESK1', %s, 0, 0, 0, '0001-01-01')",
                 perm_type, patient, fkey)

    def take(self, pool: str) -> tuple[int, ...] | None:
        """A subject whose patient (first field after the key) no change has touched yet."""
        candidates = self.pools.get(pool, [])
        while candidates:
            subject = candidates.pop()
            if subject[1] not in self.used:
                self.used.add(subject[1])
                return subject
        return None

    def change(self, kind: str) -> bool:
        """Make one change of `kind`; False when no subject is left for it."""
        made = getattr(self, f"_{kind}")()
        if made is None:
            self.skipped[kind] = self.skipped.get(kind, 0) + 1
            return False
        key, expect = made
        self.changes.append(Change(kind, key, time.time(), expect))
        return True

    def key(self, kind: str, subject: int) -> str:
        return f"{kind}:{self.source}:{subject}"

    # --- the changes ------------------------------------------------------------------------

    def _appointment_for(self, patient: int, status: int, when: datetime, proc_status: int
                         ) -> None:
        """A new appointment with the patient's planned procedures attached."""
        apt = self.insert("appointment", PatNum=patient, AptStatus=status,
                          AptDateTime=when.strftime("%Y-%m-%d %H:%M:%S"), ProvNum=1, Op=1,
                          Pattern="//XX//", DateTimeArrived="0001-01-01 00:00:00")
        if proc_status == 2:
            self.run("UPDATE procedurelog SET AptNum = %s, ProcStatus = 2, ProcDate = %s "
                     "WHERE PatNum = %s AND ProcStatus = 1", apt, when.date().isoformat(),
                     patient)
        else:
            self.run("UPDATE procedurelog SET AptNum = %s WHERE PatNum = %s AND ProcStatus = 1",
                     apt, patient)
        self.audit(patient, APPOINTMENT_CREATE, apt)
        if proc_status == 2:
            self.audit(patient, PROC_COMPLETE_CREATE, apt)

    def _schedule(self) -> tuple[str, str] | None:
        found = self.take("unscheduled")
        if found is None:
            return None
        when = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0)
        self._appointment_for(found[1], 1, when + timedelta(days=self.rng.randint(7, 60)), 1)
        return self.key("unscheduled_treatment", found[1]), "resolved"

    def _complete(self) -> tuple[str, str] | None:
        found = self.take("unscheduled")
        if found is None:
            return None
        self._appointment_for(found[1], 2, datetime.now().replace(microsecond=0), 2)
        return self.key("unscheduled_treatment", found[1]), "resolved"

    def _break(self) -> tuple[str, str] | None:
        found = self.take("future")
        if found is None:
            return None
        self.run("UPDATE appointment SET AptStatus = 5 WHERE AptNum = %s", found[0])
        self.audit(found[1], APPOINTMENT_EDIT, found[0])
        return self.key("broken_appointment", found[0]), "opened"

    def _delete_appointment(self) -> tuple[str, str] | None:
        found = self.take("broken")
        if found is None:
            return None
        self.run("DELETE FROM appointment WHERE AptNum = %s", found[0])
        self.run("UPDATE procedurelog SET AptNum = 0 WHERE AptNum = %s", found[0])
        self.audit(found[1], APPOINTMENT_DELETE)
        return self.key("broken_appointment", found[0]), "resolved"

    def _delete_claim(self) -> tuple[str, str] | None:
        found = self.take("claims")
        if found is None:
            return None
        self.run("DELETE FROM claimproc WHERE ClaimNum = %s", found[0])
        self.run("DELETE FROM claim WHERE ClaimNum = %s", found[0])
        self.audit(found[1], CLAIM_DELETE, found[0])
        return self.key(self.claim_kinds[found[0]], found[0]), "resolved"

    def _create_claim(self) -> tuple[str, str] | None:
        found = self.take("billable")
        if found is None:
            return None
        proc, patient, plan, sub, fee, served = found
        service = date.fromordinal(served).isoformat()
        claim = self.insert("claim", PatNum=patient, PlanNum=plan, InsSubNum=sub,
                            ClaimStatus="U", ClaimType="P", DateService=service,
                            DateSent="0001-01-01", DateSentOrig="0001-01-01",
                            DateReceived="0001-01-01", ClaimFee=fee / 100, InsPayAmt=0,
                            InsPayEst=fee / 200, ProvTreat=1, ProvBill=1)
        self.insert("claimproc", ClaimNum=claim, ProcNum=proc, PatNum=patient, PlanNum=plan,
                    InsSubNum=sub, Status=0, InsPayEst=fee / 200, InsPayAmt=0,
                    ProcDate=service, FeeBilled=fee / 100, ProvNum=1)
        self.audit(patient, CLAIM_EDIT, claim)
        return self.key("claim_unsent", claim), "opened"

    def _send_claim(self) -> tuple[str, str] | None:
        found = self.take("unsent")
        if found is None:
            return None
        today = date.today().isoformat()
        self.run("UPDATE claim SET ClaimStatus = 'S', DateSent = %s, DateSentOrig = %s "
                 "WHERE ClaimNum = %s", today, today, found[0])
        self.audit(found[1], CLAIM_SEND, found[0])
        return self.key("claim_unsent", found[0]), "resolved"

    def _receive_claim(self) -> tuple[str, str] | None:
        found = self.take("outstanding")
        if found is None:
            return None
        self.run("UPDATE claimproc SET Status = 1, InsPayAmt = InsPayEst, DateCP = %s "
                 "WHERE ClaimNum = %s", date.today().isoformat(), found[0])
        self.run("UPDATE claim SET ClaimStatus = 'R', DateReceived = %s, InsPayAmt = InsPayEst "
                 "WHERE ClaimNum = %s", date.today().isoformat(), found[0])
        self.audit(found[1], CLAIM_EDIT, found[0])
        return self.key("claim_outstanding", found[0]), "resolved"

    def _plan_treatment(self) -> tuple[str, str] | None:
        found = self.take("unplanned")
        if found is None:
            return None
        today = date.today().isoformat()
        self.insert("procedurelog", PatNum=found[1], CodeNum=self.code, ProcStatus=1,
                    ProcFee=1150, UnitQty=1, BaseUnits=0, DateTP=today, ProcDate=today,
                    AptNum=0, PlannedAptNum=0, ProvNum=1)
        self.audit(found[1], PROC_EDIT)
        return self.key("unscheduled_treatment", found[1]), "opened"

    def _commlog(self) -> tuple[str, str] | None:
        found = self.take("unscheduled")
        if found is None:
            return None
        self.insert("commlog", PatNum=found[1], CommDateTime=datetime.now().replace(
            microsecond=0).strftime("%Y-%m-%d %H:%M:%S"), CommType=self.comm_type,
            Note="Left a message about treatment.", Mode_=3, SentOrReceived=1, UserNum=1,
            Signature="", SigIsTopaz=0, CommSource=0, ProgramNum=0)
        self.audit(found[1], COMMLOG_CREATE)
        return self.key("unscheduled_treatment", found[1]), "contacted"

    code: int = 0
    comm_type: int = 0
    claim_kinds: dict[int, str] = field(default_factory=dict)


def _open_items(ledger: sa.Engine, kinds: tuple[str, ...]) -> list[tuple[str, int, int, int]]:
    """(kind, subject id, patient, 0) of the ledger's open items of these kinds."""
    marks = ", ".join(f"'{kind}'" for kind in kinds)
    with ledger.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT kind, item_key, patient_id FROM items WHERE status = 'open' "
            f"AND kind IN ({marks}) ORDER BY item_key")).all()
    return [(kind, int(key.rsplit(":", 1)[1]), int(patient), 0) for kind, key, patient in rows]


def _pms(connection: pymysql.connections.Connection, sql: str) -> list[tuple[int, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [tuple(int(value) for value in row) for row in cursor.fetchall()]


def make_desk(connection: pymysql.connections.Connection, ledger: sa.Engine, source: str,
              seed: int = 17) -> Desk:
    """A desk whose subject pools are read now from the ledger and the PMS."""
    rng = random.Random(seed)
    opened = _open_items(ledger, ("unscheduled_treatment", "broken_appointment", "claim_unsent",
                                  "claim_outstanding", "claim_denied", "claim_underpaid"))
    claim_kinds = {subject: kind for kind, subject, _, _ in opened if kind.startswith("claim_")}
    pools: dict[str, list[tuple[int, ...]]] = {
        "unscheduled": [(s, p) for k, s, p, _ in opened if k == "unscheduled_treatment"],
        "broken": [(s, p) for k, s, p, _ in opened if k == "broken_appointment"],
        "unsent": [(s, p) for k, s, p, _ in opened if k == "claim_unsent"],
        "outstanding": [(s, p) for k, s, p, _ in opened if k == "claim_outstanding"],
        "claims": [(s, p) for k, s, p, _ in opened if k.startswith("claim_")],
        # a patient's only appointment from today on, still to come: breaking it leaves them
        # unscheduled (one earlier today would count as seen)
        "future": _pms(connection, "SELECT MIN(AptNum), PatNum FROM appointment WHERE "
                       "AptStatus = 1 AND AptDateTime >= CURDATE() GROUP BY PatNum "
                       "HAVING COUNT(*) = 1 AND MIN(AptDateTime) > NOW()"),
        # active patients with nothing planned and nothing scheduled
        "unplanned": _pms(connection, "SELECT p.PatNum, p.PatNum FROM patient p WHERE "
                          "p.PatStatus = 0 AND NOT EXISTS (SELECT 1 FROM procedurelog l WHERE "
                          "l.PatNum = p.PatNum AND l.ProcStatus = 1) AND NOT EXISTS (SELECT 1 "
                          "FROM appointment a WHERE a.PatNum = p.PatNum AND a.AptStatus = 1 "
                          "AND a.AptDateTime > NOW()) LIMIT 5000"),
        # a completed procedure on no claim, served 5-300 days ago, of an insured patient
        "billable": _pms(connection, "SELECT l.ProcNum, l.PatNum, s.PlanNum, s.InsSubNum, "
                         "ROUND(l.ProcFee * 100), TO_DAYS(l.ProcDate) - 365 FROM procedurelog l "
                         "JOIN patplan pp ON pp.PatNum = l.PatNum AND pp.Ordinal = 1 "
                         "JOIN inssub s ON s.InsSubNum = pp.InsSubNum WHERE l.ProcStatus = 2 "
                         "AND l.ProcFee > 0 AND l.ProcDate BETWEEN CURDATE() - INTERVAL 300 DAY "
                         "AND CURDATE() - INTERVAL 5 DAY AND NOT EXISTS (SELECT 1 FROM "
                         "claimproc c WHERE c.ProcNum = l.ProcNum AND c.ClaimNum > 0) "
                         "LIMIT 5000"),
    }
    for subjects in pools.values():
        rng.shuffle(subjects)
    desk = Desk(Office(connection), source, rng, pools, claim_kinds=claim_kinds)
    desk.code = desk.office.code("D2740")
    found = _pms(connection, "SELECT DefNum FROM definition WHERE Category = 27 AND ItemName "
                 "NOT LIKE '%%recall%%' AND ItemName NOT LIKE '%%remind%%' AND ItemName NOT "
                 "LIKE '%%insur%%' ORDER BY ItemName LIKE '%%treat%%' DESC, ItemOrder LIMIT 1")
    desk.comm_type = found[0][0] if found else 0
    return desk


def work(desk: Desk, minutes: float, rate: float, burst: int,
         on_burst: Callable[[], None] = lambda: None) -> None:
    """`rate` changes a minute for `minutes`, kinds in turn, and `burst` changes at once at the
    midpoint."""
    started = time.monotonic()
    end, midpoint = started + minutes * 60, started + minutes * 30
    made, bursted = 0, burst <= 0
    while (now := time.monotonic()) < end:
        if not bursted and now >= midpoint:
            on_burst()
            for number in range(burst):
                desk.change(KINDS[number % len(KINDS)])
            bursted = True
        desk.change(KINDS[made % len(KINDS)])
        made += 1
        time.sleep(max(0.0, started + made * 60 / rate - time.monotonic()))
