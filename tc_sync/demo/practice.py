"""A deterministic synthetic dental practice in Open Dental's tables (demos, tests, benchmarks).

Everything here is made up: names come from small built-in lists, phone numbers are 555-01xx,
e-mail addresses are at example.com. The same :class:`PracticeSpec` always gives the same rows.

Volumes scale with the number of patients (per patient, on average: about 33 procedures, 6.7
appointments, 5 claims, 15 claim procedures, 3 contact-log entries, 1 treatment plan, 1 coverage),
and every case the coordination features care about is present several times, dated relative to
``spec.today``: treatment planned and not scheduled, scheduled in the future, planned appointments
scheduled or not, broken and unscheduled-list appointments, pending and returned
predeterminations, claims unsent, sent and aging (0-30, 31-60, 61-90, 90+ days), paid, denied and
underpaid, custom claim tracking (with its status history, some statuses suppressing a claim from
the Outstanding Claims report for a number of days), plans renewing in January and in other months,
uninsured, inactive and archived patients with treatment planned, and Open Dental's "none" dates.

:func:`write_sqlite` builds a SQLite file; :func:`write_mysql` loads MySQL/MariaDB quickly enough
for the 60,000-patient benchmark practice (``python -m tc_sync.demo.practice --help``).
"""

from __future__ import annotations

import argparse
import queue
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pymysql

from tc_sync.demo.duties import Appointment as DutyAppointment
from tc_sync.demo.duties import DutyRows, PlannedProcedure
from tc_sync.demo.duties import Plan as DutyPlan
from tc_sync.demo.odschema import (
    PLANNEDAPPT_DROPPED_IN,
    TABLES,
    Table,
    mysql_ddl,
    sqlite_ddl,
    version_at_least,
)

__all__ = [
    "DEFAULT_TODAY",
    "PracticeSpec",
    "Row",
    "iter_rows",
    "main",
    "write_mysql",
    "write_sqlite",
]

#: The ``today`` of a spec that is not given one (callers normally pass their own).
DEFAULT_TODAY = date(2025, 6, 16)

#: One row: values in the column order of ``odschema.table(name).column_names(version)``.
Row = tuple[int | float | str | None, ...]

NONE_DATE = "0001-01-01"
NONE_DATETIME = "0001-01-01 00:00:00"
ZERO_DATE = "0000-00-00"


@dataclass(frozen=True)
class PracticeSpec:
    """What practice to generate: how many patients, the random seed, and the day it is "today"."""

    patients: int = 300
    seed: int = 7
    today: date = DEFAULT_TODAY

    def __post_init__(self) -> None:
        """Reject sizes the generator cannot honour."""
        if self.patients < 1:
            raise ValueError("a practice needs at least one patient")

    @classmethod
    def demo(cls, *, today: date | None = None, seed: int = 7) -> PracticeSpec:
        """The demo practice: 300 patients, every case present several times."""
        return cls(patients=300, seed=seed, today=today or DEFAULT_TODAY)

    @classmethod
    def large(
        cls, patients: int = 60_000, *, today: date | None = None, seed: int = 7
    ) -> PracticeSpec:
        """A large practice for benchmarks: 60,000 patients is about 3.9 million rows."""
        return cls(patients=patients, seed=seed, today=today or DEFAULT_TODAY)


# --- built-in vocabularies (all made up) -------------------------------------------------------

_FIRST_NAMES = (
    "Avery", "Blake", "Carmen", "Dana", "Elliot", "Farah", "Gideon", "Harper", "Imani", "Jonah",
    "Kira", "Luca", "Mina", "Nolan", "Opal", "Pablo", "Quinn", "Rosa", "Silas", "Tessa", "Umar",
    "Vera", "Wade", "Xenia", "Yusuf", "Zara", "Ada", "Bruno", "Celia", "Dmitri", "Edie", "Felix",
    "Greta", "Hugo", "Iris", "Jasper", "Kenji", "Lena", "Milo", "Nadia", "Oscar", "Priya",
    "Rafael", "Sana", "Theo", "Uma", "Victor", "Willa", "Yara", "Zeke",
)
_LAST_NAMES = (
    "Abernathy", "Brightwater", "Castellano", "Delacroix", "Eastwood", "Fairbanks", "Galloway",
    "Holloway", "Ingram", "Jorgensen", "Kowalczyk", "Lindgren", "Montoya", "Nakamura", "O'Hara",
    "Pemberton", "Quintero", "Ravensworth", "Stroud", "Thistlewood", "Underhill", "Valdez",
    "Whitcombe", "Yamamoto", "Zeller", "Ashdown", "Birchfield", "Cromwell", "Dunmore",
    "Ellingham", "Foxworth", "Greenhalgh", "Hartigan", "Ivanova", "Kettering", "Larkspur",
    "Merriweather", "Northcott", "Okonkwo", "Pennington",
)
_NICKNAMES = {"Elliot": "Eli", "Gideon": "Gid", "Dmitri": "Dima", "Rafael": "Rafa", "Victor": "Vic"}
_STREETS = (
    "Alder St", "Birch Ave", "Cedar Ln", "Dogwood Ct", "Elm St", "Fern Way", "Grove Rd",
    "Hawthorn Dr", "Juniper Pl", "Larch Blvd", "Maple Ave", "Oak Terrace", "Pine Ridge Rd",
)
_CITIES = ("Riverton", "Maple Hollow", "Cedar Bend", "Larkfield", "Stonebrook", "Ashford Glen")
_CARRIER_WORDS = (
    "Acme", "Bluebird", "Cascade", "Delta Point", "Evergreen", "Frontier", "Granite", "Harbor",
    "Keystone", "Lighthouse", "Meridian", "Northstar", "Pinnacle", "Redwood", "Summit", "Trillium",
    "Union Peak", "Vista", "Westward", "Zenith",
)
_CARRIER_KINDS = ("Dental Mutual", "Benefit Services", "Dental Plans")
_EMPLOYERS = (
    "Northwind Logistics", "Contoso School District", "Fabrikam Foods", "Tailspin Aviation",
    "Litware Labs", "Adventure Works", "Proseware Inc", "Wingtip Retail", "Coho Vineyard",
    "Margie Travel", "Lucerne Publishing", "Woodgrove Credit Union",
)
_COMMLOG_NOTES = (
    "Left voicemail about treatment.",
    "Confirmed appointment.",
    "Discussed insurance estimate.",
    "Sent recall reminder.",
    "Patient called to reschedule.",
    "Reviewed treatment plan options.",
    "Texted about outstanding treatment.",
)

# Definitions: (category, name, value, hidden). Categories 2, 4 and 10 are not read by tc-sync.
# Claim custom tracking (31): the value is the status's "Days Suppressed" (none when empty).
_DEFINITIONS: tuple[tuple[int, str, str, int], ...] = (
    (2, "Not Called", "", 0),
    (2, "Unconfirmed", "", 0),
    (2, "Appointment Confirmed", "", 0),
    (2, "Left Msg", "", 0),
    (4, "Standard Account", "", 0),
    (4, "Insurance Only", "", 0),
    (10, "Check", "", 0),
    (10, "Credit Card", "", 0),
    (11, "Exams & Xrays", "", 0),
    (11, "Cleanings", "", 0),
    (11, "Fillings", "", 0),
    (11, "Endo", "", 0),
    (11, "Perio", "", 0),
    (11, "Dentures", "", 0),
    (11, "Cosmetic", "", 0),
    (11, "Implants", "", 0),
    (11, "Crown & Bridge", "", 0),
    (11, "Oral Surgery", "", 0),
    (11, "Ortho", "", 0),
    (11, "Misc", "", 0),
    (11, "Obsolete", "", 1),
    (13, "Appointment Scheduled", "AptSchd", 0),
    (13, "Call Back, Not Ready", "CallBak", 0),
    (13, "Patient Will Call Us", "CallUs", 0),
    (13, "Left Msg on Ans. Mach", "LeftMsg", 0),
    (13, "Not Home, Call Again", "NotHome", 0),
    (13, "Discon Ph Num", "DiscNum", 0),
    (13, "Texted", "Texted", 0),
    (13, "Sent Email", "Email", 1),
    (20, "1", "", 0),
    (20, "2", "", 0),
    (20, "3", "", 0),
    (20, "Next", "", 0),
    (20, "Low", "", 0),
    (20, "Wait", "", 1),
    (27, "ApptRelated", "APPT", 0),
    (27, "Insurance", "", 0),
    (27, "Financial", "FIN", 0),
    (27, "Recall", "RECALL", 0),
    (27, "Treatment Follow-up", "TXFU", 0),
    (27, "Misc", "MISC", 1),
    (31, "Review", "", 0),
    (31, "On Hold", "", 0),
    (31, "Appealed", "0", 0),
    (31, "Resubmitted", "30", 0),
    (31, "Awaiting EOB", "", 1),
)

# Claim custom tracking statuses added after the list above, so that the main random stream (which
# picks among the statuses above) is unchanged: (name, days suppressed).
_MORE_TRACKING_STATUSES: tuple[tuple[str, str], ...] = (("Called carrier", "14"),)

# Statuses set on sent claims, with how many days ago: (status, fewest, most). The first claims
# more than 30 days at the carrier take them in turn, so every case is there in a small practice:
# suppressed now (Resubmitted, Called carrier lately), suppression over (Called carrier long
# ago), a status that suppresses nothing (Appealed: 0 days; Review: no value).
_STATUS_PLAN: tuple[tuple[str, int, int], ...] = (
    ("Resubmitted", 3, 25),
    ("Called carrier", 2, 12),
    ("Appealed", 5, 60),
    ("Called carrier", 16, 40),
    ("Review", 1, 30),
)
_TRACKING_NOTES = (
    "Called the carrier: claim in process.",
    "Resubmitted with the x-rays attached.",
    "Appeal letter sent.",
    "Carrier asked for the narrative; faxed.",
    "",
)

# Coverage categories (covcat numbers) a code is billed under; percentages per plan below.
_DIAG, _XRAY, _PREV, _RESTO, _ENDO, _PERIO, _SURG, _CROWN, _PROS, _ORTHO, _NONE = range(1, 12)

# Procedure codes: (code, description, abbreviation, category, fee, treat area, covcat, kind)
# Treat area: 1 surface, 2 tooth, 3 mouth, 4 quadrant, 6 arch.
# Kind: x exam/xray, h hygiene, r restorative, m major, s surgery, o other.
_CODES: tuple[tuple[str, str, str, str, float, int, int, str], ...] = (
    ("D0120", "periodic oral evaluation", "PerEx", "Exams & Xrays", 65.0, 3, _DIAG, "x"),
    ("D0140", "limited oral evaluation - problem focused", "LimEx", "Exams & Xrays", 89.0, 3,
     _DIAG, "x"),
    ("D0150", "comprehensive oral evaluation", "CompEx", "Exams & Xrays", 110.0, 3, _DIAG, "x"),
    ("D0170", "re-evaluation - limited, problem focused", "ReEval", "Exams & Xrays", 70.0, 3,
     _DIAG, "x"),
    ("D0180", "comprehensive periodontal evaluation", "PerioEx", "Exams & Xrays", 115.0, 3,
     _DIAG, "x"),
    ("D0210", "intraoral - comprehensive series of images", "FMX", "Exams & Xrays", 150.0, 3,
     _XRAY, "x"),
    ("D0220", "intraoral - periapical first image", "PA", "Exams & Xrays", 50.0, 2, _XRAY, "x"),
    ("D0230", "intraoral - periapical each additional image", "PA+", "Exams & Xrays", 50.0, 2,
     _XRAY, "x"),
    ("D0272", "bitewings - two images", "2BW", "Exams & Xrays", 60.0, 3, _XRAY, "x"),
    ("D0274", "bitewings - four images", "4BW", "Exams & Xrays", 80.0, 3, _XRAY, "x"),
    ("D0330", "panoramic image", "Pano", "Exams & Xrays", 135.0, 3, _XRAY, "x"),
    ("D0350", "2D oral/facial photographic image", "Photo", "Exams & Xrays", 55.0, 3, _NONE,
     "x"),
    ("D1110", "prophylaxis - adult", "Pro", "Cleanings", 115.0, 3, _PREV, "h"),
    ("D1120", "prophylaxis - child", "ProChild", "Cleanings", 85.0, 3, _PREV, "h"),
    ("D1206", "topical application of fluoride varnish", "FlVarn", "Cleanings", 55.0, 3, _NONE,
     "h"),
    ("D1208", "topical application of fluoride", "Flo", "Cleanings", 50.0, 3, _PREV, "h"),
    ("D1351", "sealant - per tooth", "Seal", "Cleanings", 60.0, 2, _PREV, "h"),
    ("D1510", "space maintainer - fixed, unilateral", "SpMaint", "Misc", 390.0, 4, _PREV, "r"),
    ("D2140", "amalgam - one surface, primary or permanent", "A1", "Fillings", 140.0, 1, _RESTO,
     "r"),
    ("D2150", "amalgam - two surfaces, primary or permanent", "A2", "Fillings", 175.0, 1, _RESTO,
     "r"),
    ("D2160", "amalgam - three surfaces, primary or permanent", "A3", "Fillings", 210.0, 1,
     _RESTO, "r"),
    ("D2330", "resin-based composite - one surface, anterior", "C1", "Fillings", 160.0, 1,
     _RESTO, "r"),
    ("D2331", "resin-based composite - two surfaces, anterior", "C2", "Fillings", 190.0, 1,
     _RESTO, "r"),
    ("D2332", "resin-based composite - three surfaces, anterior", "C3", "Fillings", 230.0, 1,
     _RESTO, "r"),
    ("D2391", "resin-based composite - one surface, posterior", "CP1", "Fillings", 180.0, 1,
     _RESTO, "r"),
    ("D2392", "resin-based composite - two surfaces, posterior", "CP2", "Fillings", 225.0, 1,
     _RESTO, "r"),
    ("D2393", "resin-based composite - three surfaces, posterior", "CP3", "Fillings", 275.0, 1,
     _RESTO, "r"),
    ("D2394", "resin-based composite - four or more surfaces, posterior", "CP4", "Fillings",
     315.0, 1, _RESTO, "r"),
    ("D2740", "crown - porcelain/ceramic", "CrnPorc", "Crown & Bridge", 1350.0, 2, _CROWN, "m"),
    ("D2750", "crown - porcelain fused to high noble metal", "PFM", "Crown & Bridge", 1280.0, 2,
     _CROWN, "m"),
    ("D2790", "crown - full cast high noble metal", "FGC", "Crown & Bridge", 1220.0, 2, _CROWN,
     "m"),
    ("D2920", "re-cement or re-bond crown", "Recem", "Crown & Bridge", 110.0, 2, _RESTO, "r"),
    ("D2930", "prefabricated stainless steel crown - primary tooth", "SSC", "Crown & Bridge",
     310.0, 2, _RESTO, "r"),
    ("D2950", "core buildup, including any pins when required", "BU", "Crown & Bridge", 295.0, 2,
     _CROWN, "m"),
    ("D2954", "prefabricated post and core in addition to crown", "PostCore", "Crown & Bridge",
     350.0, 2, _CROWN, "m"),
    ("D2962", "labial veneer (porcelain laminate)", "Veneer", "Cosmetic", 1250.0, 2, _NONE, "m"),
    ("D3220", "therapeutic pulpotomy", "Pulpot", "Endo", 210.0, 2, _ENDO, "r"),
    ("D3310", "endodontic therapy, anterior tooth", "RCTAnt", "Endo", 820.0, 2, _ENDO, "m"),
    ("D3320", "endodontic therapy, premolar tooth", "RCTPre", "Endo", 960.0, 2, _ENDO, "m"),
    ("D3330", "endodontic therapy, molar tooth", "RCTMol", "Endo", 1180.0, 2, _ENDO, "m"),
    ("D4260", "osseous surgery - four or more teeth per quadrant", "Osseous", "Perio", 1150.0, 4,
     _PERIO, "m"),
    ("D4341", "periodontal scaling and root planing - four or more teeth per quadrant", "SRP4",
     "Perio", 255.0, 4, _PERIO, "m"),
    ("D4342", "periodontal scaling and root planing - one to three teeth per quadrant", "SRP13",
     "Perio", 175.0, 4, _PERIO, "r"),
    ("D4355", "full mouth debridement", "FMD", "Perio", 175.0, 3, _PERIO, "h"),
    ("D4381", "localized delivery of antimicrobial agents", "Arestin", "Perio", 85.0, 2, _PERIO,
     "r"),
    ("D4910", "periodontal maintenance", "PerMaint", "Perio", 160.0, 3, _PERIO, "h"),
    ("D5110", "complete denture - maxillary", "CDMax", "Dentures", 1950.0, 6, _PROS, "m"),
    ("D5120", "complete denture - mandibular", "CDMand", "Dentures", 1950.0, 6, _PROS, "m"),
    ("D5213", "maxillary partial denture - cast metal framework", "PartMax", "Dentures", 2050.0,
     6, _PROS, "m"),
    ("D6010", "surgical placement of implant body: endosteal implant", "Impl", "Implants",
     2300.0, 2, _PROS, "m"),
    ("D6057", "custom fabricated abutment", "Abut", "Implants", 850.0, 2, _PROS, "m"),
    ("D6065", "implant supported porcelain/ceramic crown", "ImplCrn", "Implants", 1500.0, 2,
     _PROS, "m"),
    ("D6240", "pontic - porcelain fused to high noble metal", "Pontic", "Crown & Bridge", 1180.0,
     2, _PROS, "m"),
    ("D6750", "retainer crown - porcelain fused to high noble metal", "RetCrn", "Crown & Bridge",
     1240.0, 2, _PROS, "m"),
    ("D7140", "extraction, erupted tooth or exposed root", "Ext", "Oral Surgery", 185.0, 2,
     _SURG, "s"),
    ("D7210", "extraction, erupted tooth requiring removal of bone", "SurgExt", "Oral Surgery",
     300.0, 2, _SURG, "s"),
    ("D7240", "removal of impacted tooth - completely bony", "ImpBony", "Oral Surgery", 470.0, 2,
     _SURG, "s"),
    ("D7953", "bone replacement graft for ridge preservation", "Graft", "Oral Surgery", 540.0, 2,
     _SURG, "s"),
    ("D8080", "comprehensive orthodontic treatment of the adolescent dentition", "OrthoAdol",
     "Ortho", 2950.0, 3, _ORTHO, "m"),
    ("D8090", "comprehensive orthodontic treatment of the adult dentition", "OrthoAdult", "Ortho",
     3000.0, 3, _ORTHO, "m"),
    ("D9110", "palliative treatment of dental pain", "Pall", "Misc", 95.0, 3, _SURG, "o"),
    ("D9230", "inhalation of nitrous oxide/analgesia", "N2O", "Misc", 70.0, 3, _NONE, "o"),
    ("D9310", "consultation", "Consult", "Misc", 110.0, 3, _DIAG, "o"),
    ("D9944", "occlusal guard - hard appliance, full arch", "Guard", "Misc", 520.0, 6, _NONE, "m"),
    ("D9972", "external bleaching - per arch", "Bleach", "Cosmetic", 300.0, 6, _NONE, "o"),
    ("D9986", "missed appointment", "Missed", "Misc", 50.0, 3, _NONE, "o"),
)

_SURFACES = {
    1: ("O", "M", "D", "B", "L"),
    2: ("MO", "DO", "OB", "OL"),
    3: ("MOD", "MOB", "DOL"),
    4: ("MODB", "MODL"),
}
_ANTERIOR_SURFACES = {1: ("M", "D", "F", "L"), 2: ("MF", "DL", "MI"), 3: ("MIF", "DIL")}
_QUADS = ("UR", "UL", "LR", "LL")
_ARCHES = ("U", "L")

# Weighted choices as flat tuples (pick with rng.choice).
_CONTACT_METHODS = (0,) * 30 + (4,) * 25 + (8,) * 20 + (5,) * 10 + (2,) * 8 + (1,) * 3 + (7,) * 2 \
    + (3, 6)
_COMMLOG_MODES = (3,) * 35 + (5,) * 25 + (1,) * 15 + (4,) * 10 + (2,) * 5 + (0,) * 5 + (6,) * 3 \
    + (7, 8)
_PAT_STATUSES = (0,) * 85 + (2,) * 6 + (3,) * 3 + (1,) * 2 + (6,) * 2 + (5, 4)
_TX_STATES = ("none",) * 34 + ("unscheduled",) * 22 + ("scheduled",) * 16 + ("planned",) * 9 \
    + ("planned_scheduled",) * 7 + ("broken",) * 7 + ("unsched_list",) * 5
_TP_KINDS = ("r",) * 5 + ("m",) * 4 + ("s",) * 1

_CLAIM_BUCKETS = {
    "U": (3, 10),
    "S:0-30": (8, 25),
    "S:31-60": (38, 55),
    "S:61-90": (66, 85),
    "S:90+": (100, 260),
    "S:tracking": (20, 120),
    "R:paid": (60, 200),
    "R:denied": (30, 200),
    "R:under": (30, 200),
}


@dataclass(frozen=True)
class _Scenario:
    """A case forced onto one of the first patients, so small practices cover every case."""

    tx: str
    insured: bool = True
    status: int = 0
    preauth: str | None = None
    claim: str | None = None


_FORCED = (
    _Scenario("unscheduled", claim="S:0-30"),
    _Scenario("unscheduled", preauth="pending", claim="S:31-60"),
    _Scenario("unscheduled", preauth="returned", claim="S:61-90"),
    _Scenario("scheduled", claim="S:90+"),
    _Scenario("scheduled", preauth="returned", claim="U"),
    _Scenario("planned", claim="R:denied"),
    _Scenario("planned_scheduled", claim="R:under"),
    _Scenario("broken", claim="S:tracking"),
    _Scenario("unsched_list", claim="R:paid"),
    _Scenario("unscheduled", status=2),
    _Scenario("unscheduled", status=3),
    _Scenario("none", insured=False),
    _Scenario("unscheduled", insured=False),
    _Scenario("planned", preauth="pending"),
    _Scenario("broken", insured=False),
    _Scenario("none", claim="S:0-30"),
)
_FORCED_ROUNDS = 4


@dataclass(frozen=True)
class _Code:
    num: int
    code: str
    abbr: str
    fee: float
    area: int
    covcat: int
    kind: str
    hygiene: bool
    anterior_only: bool


@dataclass
class _Plan:
    num: int
    plan_type: str
    pct: dict[int, int]
    write_off: float


@dataclass
class _Sub:
    num: int
    plan: _Plan
    relat: int
    eff_day: int
    term_day: int | None


@dataclass
class _Person:
    pat: int
    head: int
    status: int
    history: bool
    first_day: int
    end_day: int
    age: int
    clinic: int
    dentist: int
    claim_case: str | None

    @property
    def child(self) -> bool:
        return self.age < 18


@dataclass
class _Proc:
    num: int
    code: _Code
    fee: float
    day: int
    prov: int


class _Generator:
    """Builds the rows. One instance per run; the random stream depends only on the spec."""

    def __init__(self, spec: PracticeSpec, version: str, zero_dates: bool) -> None:
        self.spec = spec
        self.version = version
        self.new_schema = version_at_least(version, PLANNEDAPPT_DROPPED_IN)
        self.zero_date = ZERO_DATE if zero_dates else NONE_DATE
        # Synthetic data, not security: a seeded PRNG is what makes the output reproducible.
        self.rng = random.Random(spec.seed)  # noqa: S311
        # Claim status history draws from its own stream, so the rows it adds leave every row
        # the main stream makes as it was before the history existed.
        self.tracking_rng = random.Random(f"{spec.seed}:claimtracking")  # noqa: S311
        self.tracking_statuses: dict[str, int] = {}
        self.claims_tracked = 0
        self.today = spec.today
        self._past = 12 * 366
        self._days = [
            (spec.today + timedelta(days=d)).isoformat() for d in range(-self._past, 500)
        ]
        self._times = [
            f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86_400)
        ]
        self._weekday0 = spec.today.weekday()
        self.keys: dict[str, int] = {t.name: 0 for t in TABLES}
        self.defs: dict[int, list[int]] = {}
        self.codes: dict[str, _Code] = {}
        self.plans: list[_Plan] = []
        self.carriers = min(40, max(8, spec.patients // 25))
        # Lab cases, referrals, verifications, plans' procedures: their own random stream.
        self.duties = DutyRows(spec.seed, self.key, self.day, self.at)
        self._patplans: list[int] = []
        self._plans: list[DutyPlan] = []
        self._seat: DutyAppointment | None = None
        self._planned: tuple[int, int] | None = None
        self._planned_procs: list[PlannedProcedure] = []
        self.n_plans = min(300, max(20, spec.patients // 10))

    # --- small helpers ---

    def key(self, table_name: str) -> int:
        self.keys[table_name] += 1
        return self.keys[table_name]

    def day(self, d: int) -> str:
        """The date ``d`` days from today, 'YYYY-MM-DD'."""
        return self._days[d + self._past]

    def at(self, d: int, minute: int) -> str:
        """'YYYY-MM-DD HH:MM:00' on day ``d`` at ``minute`` after midnight."""
        return self._days[d + self._past] + " " + self._times[minute * 60]

    def stamp(self, d: int) -> str:
        """A DateTStamp/SecDateTEdit for a row whose last event was on day ``d``: in the past
        (never today), within the last two years, usually shortly after the event."""
        rng = self.rng
        if d < -730:
            s = rng.randint(-730, -1)
        elif d >= -1:
            s = rng.randint(-60, -1)
        else:
            s = min(d + rng.randint(0, 30), -1)
        return self._days[s + self._past] + " " + self._times[rng.randrange(25_200, 75_600)]

    def workday(self, d: int) -> int:
        """Move ``d`` off a weekend (backwards in the past, forwards in the future)."""
        wd = (self._weekday0 + d) % 7
        if wd == 5:
            return d + 2 if d > 0 else d - 1
        if wd == 6:
            return d + 1 if d > 0 else d - 2
        return d

    def defnum(self, category: int) -> int:
        return self.rng.choice(self.defs[category])

    # --- reference data ---

    def reference_rows(self) -> Iterator[tuple[str, Row]]:
        rng = self.rng
        proc_cats: dict[str, int] = {}
        for order, (category, item, value, hidden) in enumerate(_DEFINITIONS):
            def_num = self.key("definition")
            if not hidden:
                self.defs.setdefault(category, []).append(def_num)
            if category == 11:
                proc_cats[item] = def_num
            if category == 31:
                self.tracking_statuses[item] = def_num
            yield "definition", (def_num, category, order, item, value, 0, hidden)
        for order, (item, value) in enumerate(_MORE_TRACKING_STATUSES, start=len(_DEFINITIONS)):
            def_num = self.key("definition")
            self.tracking_statuses[item] = def_num
            yield "definition", (def_num, 31, order, item, value, 0, 0)
        yield from self.duties.definitions(len(_DEFINITIONS) + len(_MORE_TRACKING_STATUSES))
        yield from self._providers()
        yield from self._clinics()
        for code, descript, abbr, cat, fee, area, covcat, kind in _CODES:
            num = self.key("procedurecode")
            hyg = kind == "h"
            self.codes[code] = _Code(
                num, code, abbr, fee, area, covcat, kind, hyg, code in ("D2330", "D2331", "D2332")
            )
            yield "procedurecode", (
                num, code, descript, abbr, "/XX/" if hyg else "/XXX/", proc_cats[cat], area,
                1 if covcat == _NONE else 0, 1 if kind == "m" and covcat in (_CROWN, _PROS) else 0,
                1 if hyg else 0, 0, 0, 0, self.stamp(rng.randint(-1500, -400)), 0, 0, "", "",
            )
        yield from self._coverage_categories()
        yield from self._insurance()
        yield from self.duties.reference()
        for plan in self.plans:
            yield from self.duties.plan_verification(plan.num)

    def _coverage_categories(self) -> Iterator[tuple[str, Row]]:
        # CovCatNum = the module's category constants; EbenefitCat as Open Dental seeds them.
        for order, (num, name, percent, ebenefit) in enumerate((
                (_DIAG, "Diagnostic", 100, 2), (_XRAY, "X-Ray", 100, 13),
                (_PREV, "Preventive", 100, 12), (_RESTO, "Restorative", 80, 4),
                (_ENDO, "Endo", 80, 5), (_PERIO, "Perio", 80, 3),
                (_SURG, "Oral Surgery", 80, 11), (_CROWN, "Crowns", 50, 7),
                (_PROS, "Prosthodontics", 50, 10), (_ORTHO, "Orthodontics", 50, 9),
                (_NONE, "General", -1, 1))):
            yield "covcat", (num, name, percent, order, 0, ebenefit)
        # The code ranges of each category, as Open Dental's setup lists them.
        for span, (num, low, high) in enumerate((
                (_DIAG, "D0100", "D0999"), (_XRAY, "D0200", "D0399"),
                (_PREV, "D1000", "D1999"), (_RESTO, "D2000", "D2699"),
                (_ENDO, "D3000", "D3999"), (_PERIO, "D4000", "D4999"),
                (_SURG, "D7000", "D7999"), (_CROWN, "D2700", "D2999"),
                (_PROS, "D5000", "D6999"), (_ORTHO, "D8000", "D8999")), start=1):
            yield "covspan", (span, num, low, high)

    def _providers(self) -> Iterator[tuple[str, Row]]:
        provs = (
            ("DOC1", "Hartwell", "Nora", "DDS", 0, "Nora"),
            ("DOC2", "Okafor", "Samuel", "DMD", 0, "Sam"),
            ("HYG1", "Lindqvist", "Mara", "RDH", 1, ""),
        )
        for order, (abbr, last, first, suffix, hyg, pref) in enumerate(provs):
            num = self.key("provider")
            yield "provider", (
                num, abbr, order, last, first, "", suffix, 0, 0, hyg, 0, 0, 1,
                f"99900000{num:02d}", self.stamp(self.rng.randint(-900, -200)), 0, 0, 0,
                date(1970 + 6 * num, num, 10 + num).isoformat(), "", NONE_DATE, pref,
            )

    def _clinics(self) -> Iterator[tuple[str, Row]]:
        clinics = (("Riverside Family Dental", "RIV", "Riverton"),
                   ("Hillcrest Dental Studio", "HIL", "Larkfield"))
        for order, (name, abbr, city) in enumerate(clinics):
            num = self.key("clinic")
            yield "clinic", (
                num, name, f"{100 + num} Main St", city, "OR", f"9700{num}",
                f"(555)555-01{num:02d}", 0, 1, f"(555)555-01{num + 10:02d}", 0, 1 + order, 0, 0,
                order, abbr, 0, 0, "", "America/Los_Angeles",
            )

    def _insurance(self) -> Iterator[tuple[str, Row]]:
        rng = self.rng
        for i in range(self.carriers):
            num = self.key("carrier")
            word = _CARRIER_WORDS[i % len(_CARRIER_WORDS)]
            kind = _CARRIER_KINDS[(i // len(_CARRIER_WORDS)) % len(_CARRIER_KINDS)]
            yield "carrier", (
                num, f"{word} {kind}", f"PO Box {1000 + i}", "", rng.choice(_CITIES), "OR",
                f"9{rng.randint(1000, 9999)}", f"(555)555-01{i % 100:02d}", f"{60000 + i}",
                0, 0, 0, 1 if i == self.carriers - 1 else 0, 1, self.day(-1400),
                self.stamp(rng.randint(-1400, -300)), "", 0, 0, 0,
            )
        for i in range(self.n_plans):
            num = self.key("insplan")
            plan_type = "c" if i % 20 == 19 else "f" if i % 20 == 9 else "p" if i % 2 else ""
            month = 0 if i % 4 != 3 else (2, 4, 7, 9, 10, 6)[(i // 4) % 6]
            prev = rng.choice((100, 100, 80))
            basic = rng.choice((80, 80, 70))
            major = rng.choice((50, 50, 60))
            pct = {
                _DIAG: prev, _XRAY: prev, _PREV: prev, _RESTO: basic, _ENDO: basic,
                _PERIO: basic, _SURG: basic, _CROWN: major, _PROS: major, _ORTHO: 50, _NONE: 0,
            }
            plan = _Plan(num, plan_type, pct, rng.uniform(0.15, 0.35) if plan_type == "p" else 0.0)
            self.plans.append(plan)
            employer = _EMPLOYERS[i % len(_EMPLOYERS)]
            yield "insplan", (
                num, employer, f"G{10000 + i}", "", 0, plan_type, 1, 0, 0, 0, 0,
                1 + rng.randrange(self.carriers), 0, "", "", 0, 0, 0, month, 0, 1,
                self.day(-1400), self.stamp(rng.randint(-1400, -30)), 0, 0,
            )
            yield from self._plan_benefits(plan, month)

    def _plan_benefits(self, plan: _Plan, month: int) -> Iterator[tuple[str, Row]]:
        rng = self.rng
        period = 2 if month == 0 else 1
        entered = self.at(-1400, 9 * 60)

        def benefit(
            covcat: int, btype: int, percent: int, amount: float, tperiod: int, qual: int = 0,
            qty: int = 0, code: int = 0, level: int = 0,
        ) -> tuple[str, Row]:
            return "benefit", (
                self.key("benefit"), plan.num, 0, covcat, btype, percent, amount, tperiod, qual,
                qty, code, level, entered, self.stamp(rng.randint(-1400, -20)),
            )

        for covcat in (_DIAG, _XRAY, _PREV, _RESTO, _ENDO, _PERIO, _SURG, _CROWN, _PROS):
            yield benefit(covcat, 1, plan.pct[covcat], -1.0, 0)
        # Annual maximum: a limitation with no category, individual, per benefit year.
        yield benefit(0, 5, -1, float(rng.choice((1000, 1250, 1500, 2000, 2500))), period, level=1)
        yield benefit(0, 2, -1, 50.0, period, level=1)
        yield benefit(0, 2, -1, 150.0, period, level=2)
        if rng.random() < 0.5:
            yield benefit(_PREV, 2, -1, 0.0, period, level=1)
        if rng.random() < 0.3:
            yield benefit(_ORTHO, 5, -1, 1500.0, 3, level=1)
            yield benefit(_ORTHO, 1, 50, -1.0, 0)
        yield benefit(0, 5, -1, -1.0, period, qual=1, qty=2, code=self.codes["D1110"].num)
        yield benefit(0, 5, -1, -1.0, 4, qual=4, qty=1, code=self.codes["D0274"].num)
        if rng.random() < 0.5:
            yield benefit(0, 5, -1, -1.0, 0, qual=2, qty=14, code=self.codes["D1208"].num)

    # --- patients ---

    def patient_rows(self) -> Iterator[tuple[str, Row]]:
        out: list[tuple[str, Row]] = []
        head = 0
        head_subs: list[_Sub] = []
        family = 0
        forced_count = len(_FORCED) * _FORCED_ROUNDS
        for idx in range(self.spec.patients):
            scenario = _FORCED[idx % len(_FORCED)] if idx < forced_count else None
            new_family = head == 0 or family >= 4 or self.rng.random() < 0.62
            if new_family:
                head, family, head_subs = idx + 1, 0, []
            family += 1
            subs = self._patient(idx + 1, head, head_subs, scenario, out)
            if idx + 1 == head:
                head_subs = subs
            yield from out
            out.clear()

    def _person(self, pat: int, head: int, sc: _Scenario | None) -> _Person:
        """Who the patient is: status, family role, and the window they came in."""
        rng = self.rng
        status = sc.status if sc else rng.choice(_PAT_STATUSES)
        history = status in (0, 2, 3, 5)
        # Tenure and the window in which the patient came in (or, with no history, was entered).
        first_day = -rng.randint(20, 3650) if history else -rng.randint(2, 90)
        end_day = -1
        if status in (2, 3, 5):
            first_day = min(first_day, -900)
            end_day = max(first_day, -rng.randint(400, 1500))
        age = rng.randint(25, 85) if pat == head or rng.random() < 0.45 else rng.randint(4, 17)
        claim_case = sc.claim if sc and status == 0 else None
        if claim_case:
            first_day = min(first_day, -_CLAIM_BUCKETS[claim_case][1] - 30)
        if history:
            first_day = self.workday(first_day)
        return _Person(
            pat, head, status, history, first_day, end_day, age,
            1 if rng.random() < 0.65 else 2, rng.choice((1, 2)), claim_case,
        )

    def _outlook(
        self, person: _Person, sc: _Scenario | None, primary: _Sub | None
    ) -> tuple[str, str | None]:
        """Where the patient's treatment stands, and any predetermination for it."""
        rng = self.rng
        if sc:
            tx = sc.tx
        elif person.status in (2, 3):
            tx = rng.choice(("none", "unscheduled", "unscheduled", "planned"))
        elif person.status == 0:
            tx = rng.choice(_TX_STATES)
        else:
            tx = "none"
        preauth = sc.preauth if sc else None
        if sc is None and tx != "none" and rng.random() < 0.3:
            preauth = "pending" if rng.random() < 0.5 else "returned"
        if primary is None or primary.plan.plan_type == "c":
            preauth = None
        return tx, preauth

    def _patient(
        self, pat: int, head: int, head_subs: list[_Sub], sc: _Scenario | None,
        out: list[tuple[str, Row]],
    ) -> list[_Sub]:
        rng = self.rng
        person = self._person(pat, head, sc)
        # Insurance. Forced claim and predetermination cases need a plan that gets claims.
        insured = sc.insured if sc else rng.random() < 0.85
        billable = sc is not None and (sc.claim is not None or sc.preauth is not None)
        subs: list[_Sub] = []
        if insured and person.status not in (1, 4, 6):
            subs = self._coverage(person, head_subs, billable, out)
        primary = subs[0] if subs else None
        if primary is None:
            person.claim_case = None
        tx, preauth = self._outlook(person, sc, primary)

        planned_order = 0
        last_day = person.first_day
        if person.history:
            visits = self._visit_days(person.first_day, person.end_day, person.claim_case)
            for n, vday in enumerate(visits):
                kind = "new" if n == 0 else self._visit_kind()
                forced = person.claim_case if n == len(visits) - 1 else None
                planned_order = self._visit(person, vday, kind, subs, forced, planned_order, out)
            last_day = visits[-1]
            self._existing(person, out)
        tp_day: int | None = None
        if tx != "none":
            if person.status == 0:
                lo = max(person.first_day, -360)
                tp_day = rng.randint(lo, max(lo, -5))
            else:
                tp_day = person.end_day
            last_day = max(last_day, tp_day)
            self._treatment(person, tx, tp_day, primary, preauth, planned_order, out)
        if person.status == 0 and tx in ("none", "scheduled", "planned_scheduled"):
            if rng.random() < 0.45:
                self._recall(person, primary, out)
        elif person.status == 6:
            self._new_patient_booking(person, out)
        if person.history and rng.random() < 0.55:
            self._deleted(person, out)
        self._treatplans(person, tx, tp_day, out)
        self._commlogs(person, tx, out)
        self._duty_rows(person, out)
        out.append(("patient", self._patient_row(person, last_day)))
        return subs

    def _duty_rows(self, person: _Person, out: list[tuple[str, Row]]) -> None:
        """The patient's plans' procedures, lab cases, referrals and enrollment checks."""
        duties, pat = self.duties, person.pat
        out.extend(duties.plan_procedures(pat, self._plans, self._planned_procs))
        planned = self._planned[0] if self._planned else 0
        if self._seat is not None:
            out.extend(duties.lab_case(pat, self._seat, planned))
        elif self._planned is not None:
            out.extend(duties.planned_lab_case(pat, *self._planned))
        if person.status == 0 and person.history:
            out.extend(duties.referrals(pat, person.first_day))
        for patplan in self._patplans:
            out.extend(duties.enrollment_verification(patplan))
        self._patplans, self._plans, self._planned_procs = [], [], []
        self._seat = self._planned = None

    def _patient_row(self, person: _Person, last_day: int) -> Row:
        rng = self.rng
        pat, head = person.pat, person.head
        # A family shares the head's last name, mostly.
        last = _LAST_NAMES[(head * 7919) % len(_LAST_NAMES)]
        if pat != head and rng.random() < 0.2:
            last = _LAST_NAMES[rng.randrange(len(_LAST_NAMES))]
        first = _FIRST_NAMES[rng.randrange(len(_FIRST_NAMES))]
        preferred = _NICKNAMES.get(first, "") if rng.random() < 0.5 else ""
        days_old = person.age * 365 + rng.randrange(365)
        birth = (self.today - timedelta(days=days_old)).isoformat()
        if self.zero_date == ZERO_DATE and pat % 97 == 13:
            birth = ZERO_DATE  # an old record with an unknown birthdate
        email = ""
        if rng.random() < 0.7:
            email = f"{first}.{last.replace(chr(39), '')}{pat}@example.com".lower()

        def phone(p: float) -> str:
            return f"(555)555-01{rng.randrange(100):02d}" if rng.random() < p else ""

        gender = rng.randrange(2) if rng.random() >= 0.02 else rng.choice((2, 3))
        first_visit = self.day(person.first_day) if person.history else NONE_DATE
        return (
            pat, last, first, "" if rng.random() < 0.8 else chr(65 + rng.randrange(26)), preferred,
            person.status, gender, 2 if person.child else rng.choice((0, 1, 1, 3, 4)), birth,
            f"{rng.randint(100, 9999)} {rng.choice(_STREETS)}", rng.choice(_CITIES), "OR",
            f"97{rng.randint(100, 999)}", phone(0.6), phone(0.2), phone(0.85), head, email,
            round(rng.choice((0.0, 0.0, 0.0, rng.uniform(10, 900))), 2), person.dentist,
            3 if rng.random() < 0.6 else 0, 0, self.defs[4][0 if rng.random() < 0.9 else 1],
            first_visit, person.clinic, rng.choice(_CONTACT_METHODS),
            rng.choice(_CONTACT_METHODS), rng.choice(_CONTACT_METHODS), self.stamp(last_day),
            rng.randrange(3), self.day(person.first_day - rng.randint(0, 30)),
        )

    def _coverage(
        self, person: _Person, head_subs: list[_Sub], billable: bool, out: list[tuple[str, Row]]
    ) -> list[_Sub]:
        rng = self.rng
        pat, first_day = person.pat, person.first_day
        subs: list[_Sub] = []
        shared = head_subs and not (billable and head_subs[0].plan.plan_type == "c")
        if pat != person.head and shared and rng.random() < 0.85:
            # A dependent on the family head's subscription.
            relat = 2 if person.child else 1
            for ordinal, hs in enumerate(head_subs, start=1):
                subs.append(_Sub(hs.num, hs.plan, relat, hs.eff_day, hs.term_day))
                self._patplan(pat, ordinal, relat, hs.num, first_day, out)
            return subs
        n = 2 if rng.random() < 0.18 else 1
        for ordinal in range(1, n + 1):
            plan = self.plans[rng.randrange(len(self.plans))]
            while billable and ordinal == 1 and plan.plan_type == "c":
                plan = self.plans[rng.randrange(len(self.plans))]
            num = self.key("inssub")
            term_day = -rng.randint(30, 400) if rng.random() < 0.03 and not billable else None
            if not billable and first_day < -60 and rng.random() < 0.2:
                # Coverage that began while the patient was already coming in.
                eff_day = rng.randint(first_day, -30)
                eff = self.day(eff_day)
            else:
                eff_day = -self._past
                eff = NONE_DATE if rng.random() < 0.2 else self.day(first_day - rng.randint(0, 400))
            out.append(("inssub", (
                num, plan.num, pat, eff, self.day(term_day) if term_day else NONE_DATE, 1, 1,
                f"ID{pat:07d}{ordinal}", "", "", 1, self.day(first_day), self.stamp(first_day),
            )))
            subs.append(_Sub(num, plan, 0, eff_day, term_day))
            self._patplan(pat, ordinal, 0, num, first_day, out)
        return subs

    def _patplan(
        self, pat: int, ordinal: int, relat: int, sub: int, first_day: int,
        out: list[tuple[str, Row]],
    ) -> None:
        num = self.key("patplan")
        self._patplans.append(num)
        out.append(("patplan", (
            num, pat, ordinal, 0, relat, "", sub, -1.0, NONE_DATE,
            self.at(first_day, 9 * 60 + self.rng.randrange(480)), self.stamp(first_day),
        )))
        if self.rng.random() < 0.01:
            # A rare patient-level override: benefits attached to the patplan, PlanNum 0.
            out.append(("benefit", (
                self.key("benefit"), 0, num, _RESTO, 1, 90, -1.0, 0, 0, 0, 0, 0,
                self.at(first_day, 600), self.stamp(first_day),
            )))

    def _visit_days(self, first_day: int, end_day: int, claim_case: str | None) -> list[int]:
        rng = self.rng
        years = (end_day - first_day) / 365.0
        n = max(1, min(40, round(years * rng.uniform(0.65, 1.95))))
        days = {first_day}
        for _ in range(n - 1):
            days.add(self.workday(rng.randint(first_day, end_day)))
        if claim_case:
            lo, hi = _CLAIM_BUCKETS[claim_case]
            forced = -rng.randint(lo, hi)
            days = {d for d in days if d < forced - 3} or {first_day}
            days.add(forced)
        return sorted(d for d in days if d <= -1)

    def _visit_kind(self) -> str:
        r = self.rng.random()
        if r < 0.60:
            return "recall"
        if r < 0.85:
            return "resto"
        if r < 0.97:
            return "major"
        return "emergency"

    def _visit_codes(self, kind: str, child: bool) -> list[str]:
        rng = self.rng
        if kind in ("new", "recall"):
            return self._hygiene_codes(kind == "new", child)
        if kind == "resto":
            pool = ("D2391", "D2392", "D2393", "D2394", "D2330", "D2331", "D2140", "D2150",
                    "D2160", "D2332", "D4342", "D4381", "D2920")
            codes = [rng.choice(pool) for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.3:
                codes.append("D9230")
            return codes
        if kind == "major":
            return self._major_codes()
        return ["D0140", "D0220", rng.choice(("D9110", "D7140", "D2391"))]

    def _hygiene_codes(self, new: bool, child: bool) -> list[str]:
        rng = self.rng
        codes = ["D0150" if new else "D0120"]
        perio = not child and rng.random() < 0.2
        codes.append("D1120" if child else "D4910" if perio else "D1110")
        if new:
            codes.append("D0210" if rng.random() < 0.7 else "D0330")
            codes.append("D0350")
        elif rng.random() < 0.45:
            codes.append("D0274" if not child else "D0272")
        if child or rng.random() < 0.35:
            codes.append("D1208" if child else "D1206")
        r = rng.random()
        if r < 0.3:
            codes.append("D0220")
            if r < 0.1:
                codes.append("D0230")
        if child and rng.random() < 0.3:
            codes.extend(("D1351", "D1351"))
        return codes

    def _major_codes(self) -> list[str]:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            codes = ["D2950", rng.choice(("D2740", "D2750", "D2790")), "D9230"]
        elif r < 0.6:
            codes = [rng.choice(("D3310", "D3320", "D3330")), "D0220", "D9230"]
        elif r < 0.75:
            codes = ["D4341", "D4341", "D4341", "D4341"]
        elif r < 0.88:
            codes = ["D7953", "D6010", "D9230"]
        else:
            codes = [rng.choice(("D7210", "D7240", "D9944", "D9972")), "D0220"]
        return codes

    def _proc_row(
        self, num: int, pat: int, apt: int, day: int, code: _Code, status: int, prov: int,
        planned: int, clinic: int, date_tp: str, date_complete: str, priority: int, stamp: str,
        tooth: str, surf: str,
    ) -> Row:
        return (
            num, pat, apt, "", self.day(day), code.fee, surf, tooth, "", priority, status, prov,
            0, planned, 0, date_complete if status == 2 else NONE_DATE, clinic, code.num, 1, 0,
            date_tp, stamp, "", 0.0, 0, date_complete,
        )

    def _site(self, code: _Code) -> tuple[str, str]:
        """A tooth number and surface for ``code``."""
        rng = self.rng
        area = code.area
        if area == 1:
            if code.anterior_only:
                tooth = rng.choice((6, 7, 8, 9, 10, 11, 22, 23, 24, 25, 26, 27))
                surfaces = _ANTERIOR_SURFACES[min(3, int(code.abbr[-1]))]
            else:
                tooth = rng.choice((2, 3, 4, 5, 12, 13, 14, 15, 18, 19, 20, 21, 28, 29, 30, 31))
                n = int(code.abbr[-1]) if code.abbr[-1].isdigit() else 2
                surfaces = _SURFACES[min(4, n)]
            return str(tooth), rng.choice(surfaces)
        if area == 2:
            return str(rng.randint(1, 32)), ""
        if area == 4:
            return "", rng.choice(_QUADS)
        if area == 6:
            return "", rng.choice(_ARCHES)
        return "", ""

    def _appointment(
        self, person: _Person, apt: int, status: int, when: str, hyg: int, next_apt: int,
        unsched: int, descript: str, stamp: str, entered: str, planned_order: int,
        minutes: int, *, arrived: bool = False, new_patient: bool = False,
    ) -> list[tuple[str, Row]]:
        rng = self.rng
        pattern = "//" + "X" * max(1, minutes // 5 - 4) + "//"
        op = 0
        if status not in (3, 6):
            op = 1 + rng.randrange(4) if person.clinic == 1 else 5 + rng.randrange(2)
        times = (NONE_DATETIME, NONE_DATETIME, NONE_DATETIME)
        if arrived:
            t0 = int(when[11:13]) * 60 + int(when[14:16])
            base = when[:10] + " "
            times = (base + self._times[(t0 - 5) * 60],
                     base + self._times[(t0 + 3) * 60],
                     base + self._times[(t0 + minutes) * 60])
        row: Row = (
            apt, person.pat, status, pattern, self.defnum(2) if status in (1, 2) else 0, 0, op,
            "", person.dentist, hyg, when, next_apt, unsched, 1 if new_patient else 0, descript,
            0, person.clinic, 1 if hyg else 0, stamp, times[0], times[1], times[2], 0, 0, "", 0,
            entered, 1 if status == 1 and rng.random() < 0.05 else 0, "", "",
        )
        if self.new_schema:
            return [("appointment", (*row, planned_order if status == 6 else 0))]
        rows: list[tuple[str, Row]] = [("appointment", row)]
        if status == 6:
            rows.append(("plannedappt", (self.key("plannedappt"), person.pat, apt, planned_order)))
        return rows

    def _visit(
        self, person: _Person, vday: int, kind: str, subs: list[_Sub], forced: str | None,
        planned_order: int, out: list[tuple[str, Row]],
    ) -> int:
        """A completed visit: appointment, completed procedures, and the claim for them."""
        rng = self.rng
        pat = person.pat
        codes = [self.codes[c] for c in self._visit_codes(kind, person.child)]
        hygiene = kind in ("new", "recall")
        descript = ", ".join(c.abbr for c in codes)
        planned = 0
        if kind == "major" and rng.random() < 0.3:
            # It was a planned appointment first; the completed one points back at it.
            planned = self.key("appointment")
            planned_order += 1
            pday = max(vday - rng.randint(7, 60), 1 - self._past)
            out.extend(self._appointment(
                person, planned, 6, NONE_DATETIME, 0, 0, 0, descript, self.stamp(vday),
                self.at(pday, 600), planned_order, 60,
            ))
        apt = self.key("appointment")
        daystr = self.day(vday)
        stamp = self.stamp(vday)
        procs: list[_Proc] = []
        # The same draw with or without zero dates keeps SQLite and MySQL practices identical.
        old = rng.random() < 0.03 and vday < -1825 and self.zero_date == ZERO_DATE
        tp_lag = 0 if hygiene or kind == "emergency" else rng.randint(7, 90)
        date_tp = ZERO_DATE if old else self.day(max(vday - tp_lag, 1 - self._past))
        for code in codes:
            num = self.key("procedurelog")
            prov = 3 if code.hygiene and not person.child and kind != "new" else person.dentist
            tooth, surf = self._site(code)
            out.append(("procedurelog", self._proc_row(
                num, pat, apt, vday, code, 2, prov, planned, person.clinic, date_tp, daystr, 0,
                stamp, tooth, surf,
            )))
            procs.append(_Proc(num, code, code.fee, vday, prov))
        booked = max(vday - rng.randint(1, 180), 1 - self._past)
        out.extend(self._appointment(
            person, apt, 2, self.at(vday, 8 * 60 + 10 * rng.randrange(48)), 3 if hygiene else 0,
            planned, 0, descript, stamp, self.at(booked, 8 * 60 + rng.randrange(540)), 0,
            60 if hygiene else 90, arrived=rng.random() < 0.6, new_patient=kind == "new",
        ))
        if subs:
            self._claims(person, vday, subs, procs, forced, out)
        return planned_order

    def _existing(self, person: _Person, out: list[tuple[str, Row]]) -> None:
        """Restorations done before the patient came: status 3 (existing current provider) or
        4 (existing other provider), charted on the first visit; now and then a referral (5)."""
        rng = self.rng
        pool = ("D2391", "D2392", "D2150", "D2160", "D2740", "D2750", "D2950", "D3330", "D7140",
                "D6010", "D6065", "D2394")
        day = person.first_day
        stamp = self.stamp(day)
        for _ in range(rng.randint(5, 14)):
            code = self.codes[rng.choice(pool)]
            tooth, surf = self._site(code)
            status = 4 if rng.random() < 0.85 else 3
            out.append(("procedurelog", self._proc_row(
                self.key("procedurelog"), person.pat, 0, day, code, status, person.dentist, 0,
                person.clinic, self.day(day), NONE_DATE, 0, stamp, tooth, surf,
            )))
        if rng.random() < 0.05:
            code = self.codes["D7240"]
            out.append(("procedurelog", self._proc_row(
                self.key("procedurelog"), person.pat, 0, day, code, 5, person.dentist, 0,
                person.clinic, self.day(day), NONE_DATE, 0, stamp,
                str(rng.choice((1, 16, 17, 32))), "",
            )))

    def _tp_codes(self, preauth: bool) -> list[_Code]:
        rng = self.rng
        kind = "m" if preauth else rng.choice(_TP_KINDS)
        if kind == "r":
            pool: Sequence[str] = ("D2391", "D2392", "D2393", "D2330", "D2331", "D2150",
                                   "D4342", "D2920", "D2930")
            return [self.codes[rng.choice(pool)] for _ in range(rng.randint(1, 4))]
        if kind == "s":
            return [self.codes[rng.choice(("D7140", "D7210", "D7240"))], self.codes["D9230"]]
        r = rng.random()
        if r < 0.45:
            names = ["D2950", rng.choice(("D2740", "D2750", "D2790"))]
        elif r < 0.65:
            names = [rng.choice(("D3320", "D3330")), "D2950", "D2740"]
        elif r < 0.8:
            names = ["D4341"] * rng.randint(2, 4)
        elif r < 0.92:
            names = ["D7953", "D6010", "D6057", "D6065"]
        else:
            names = [rng.choice(("D5110", "D5213", "D8090", "D2962"))]
        return [self.codes[n] for n in names]

    def _treatment(
        self, person: _Person, tx: str, tp_day: int, primary: _Sub | None, preauth: str | None,
        planned_order: int, out: list[tuple[str, Row]],
    ) -> None:
        """The outstanding treatment plan and where it stands (``tx``)."""
        rng = self.rng
        codes = self._tp_codes(preauth is not None)
        descript = ", ".join(c.abbr for c in codes)
        priority = self.defnum(20) if rng.random() < 0.6 else 0
        apt = planned = 0
        apt_day = tp_day
        entered = self.at(tp_day, 600 + rng.randrange(300))
        if tx in ("planned", "planned_scheduled"):
            planned = self.key("appointment")
            unsched = self.defnum(13) if rng.random() < 0.3 else 0
            out.extend(self._appointment(
                person, planned, 6, NONE_DATETIME, 0, 0, unsched, descript, self.stamp(tp_day),
                entered, planned_order + 1, 90,
            ))
        if planned:
            self._planned = (planned, tp_day)
        if tx in ("scheduled", "planned_scheduled"):
            apt_day = self.workday(rng.randint(1, 90))
            lab_work = any(c.covcat in (_CROWN, _PROS) for c in codes)
            if lab_work and self.duties.seat_this_week():
                # The main stream's draws stay the same whatever day the seat is on.
                apt_day = self.duties.rng.randint(0, 3)
            apt = self.key("appointment")
            self._seat = DutyAppointment(apt, apt_day, lab_work)
            out.extend(self._appointment(
                person, apt, 1, self.at(apt_day, 8 * 60 + 10 * rng.randrange(48)), 0, planned,
                0, descript, self.stamp(tp_day), entered, 0, 90,
            ))
        elif tx in ("broken", "unsched_list"):
            apt_day = self.workday(rng.randint(min(tp_day + 1, -2), -2))
            apt = self.key("appointment")
            status = 5 if tx == "broken" else 3
            unsched = self.defnum(13) if rng.random() < (0.7 if status == 5 else 0.95) else 0
            out.extend(self._appointment(
                person, apt, status, self.at(apt_day, 8 * 60 + 10 * rng.randrange(48)), 0, 0,
                unsched, descript, self.stamp(apt_day), entered, 0, 90,
            ))
            if status == 5 and rng.random() < 0.3:
                # The practice charged the missed appointment (not attached to it).
                out.append(("procedurelog", self._proc_row(
                    self.key("procedurelog"), person.pat, 0, apt_day, self.codes["D9986"], 2,
                    person.dentist, 0, person.clinic, self.day(apt_day), self.day(apt_day), 0,
                    self.stamp(apt_day), "", "",
                )))
        date_tp = self.day(tp_day)
        stamp = self.stamp(max(tp_day, apt_day) if apt_day < 0 else tp_day)
        proc_day = apt_day if tx in ("scheduled", "planned_scheduled") else tp_day
        status = 8 if tx == "unscheduled" and rng.random() < 0.03 else 1
        procs: list[_Proc] = []
        for code in codes:
            num = self.key("procedurelog")
            tooth, surf = self._site(code)
            out.append(("procedurelog", self._proc_row(
                num, person.pat, apt, proc_day, code, status, person.dentist, planned,
                person.clinic, date_tp, NONE_DATE, priority, stamp, tooth, surf,
            )))
            procs.append(_Proc(num, code, code.fee, proc_day, person.dentist))
        if status == 1:
            self._planned_procs = [PlannedProcedure(p.num, p.code.code, p.fee) for p in procs]
        if primary is not None and primary.plan.plan_type != "c":
            for p in procs:
                self._estimate(person, p, primary, out)
            if preauth:
                self._preauth(person, tp_day, primary, procs, preauth, out)

    def _recall(self, person: _Person, primary: _Sub | None, out: list[tuple[str, Row]]) -> None:
        """A future recall visit, booked at the last one, with its procedures attached as TP."""
        rng = self.rng
        day = self.workday(rng.randint(1, 180))
        booked = -rng.randint(1, 170)
        codes = [self.codes["D0120"], self.codes["D1120" if person.child else "D1110"]]
        if rng.random() < 0.4:
            codes.append(self.codes["D0274"])
        apt = self.key("appointment")
        stamp = self.stamp(booked)
        out.extend(self._appointment(
            person, apt, 1, self.at(day, 8 * 60 + 10 * rng.randrange(48)), 3, 0, 0,
            ", ".join(c.abbr for c in codes), stamp, self.at(booked, 600), 0, 60,
        ))
        for code in codes:
            num = self.key("procedurelog")
            prov = 3 if code.hygiene else person.dentist
            out.append(("procedurelog", self._proc_row(
                num, person.pat, apt, day, code, 1, prov, 0, person.clinic, self.day(booked),
                NONE_DATE, 0, stamp, "", "",
            )))
            if primary is not None and primary.plan.plan_type != "c":
                self._estimate(person, _Proc(num, code, code.fee, day, prov), primary, out)

    def _new_patient_booking(self, person: _Person, out: list[tuple[str, Row]]) -> None:
        """A prospective patient: a first visit booked, nothing done yet."""
        rng = self.rng
        day = self.workday(rng.randint(2, 40))
        apt = self.key("appointment")
        code = self.codes["D0150"]
        stamp = self.stamp(-rng.randint(1, 20))
        out.extend(self._appointment(
            person, apt, 1, self.at(day, 8 * 60 + 10 * rng.randrange(48)), 0, 0, 0, code.abbr,
            stamp, self.at(-2, 600), 0, 60, new_patient=True,
        ))
        out.append(("procedurelog", self._proc_row(
            self.key("procedurelog"), person.pat, apt, day, code, 1, person.dentist, 0,
            person.clinic, self.day(-2), NONE_DATE, 0, stamp, "", "",
        )))

    def _deleted(self, person: _Person, out: list[tuple[str, Row]]) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            day = rng.randint(person.first_day, person.end_day)
            code = self.codes[rng.choice(("D2391", "D2392", "D0220", "D1206", "D2740"))]
            tooth, surf = self._site(code)
            out.append(("procedurelog", self._proc_row(
                self.key("procedurelog"), person.pat, 0, day, code, 6, person.dentist, 0,
                person.clinic, self.day(day), NONE_DATE, 0, self.stamp(day), tooth, surf,
            )))

    # --- insurance claims ---

    def _estimate(
        self, person: _Person, proc: _Proc, sub: _Sub, out: list[tuple[str, Row]]
    ) -> None:
        """An insurance estimate (claimproc status 6, no claim) for a planned procedure."""
        pct = sub.plan.pct[proc.code.covcat]
        wo = round(proc.fee * sub.plan.write_off, 2)
        est = round((proc.fee - wo) * pct / 100.0, 2)
        daystr = self.day(proc.day)
        entered = min(proc.day, -1)
        out.append(("claimproc", (
            self.key("claimproc"), proc.num, 0, person.pat, proc.prov, 0.0, est, 0.0, 6, 0.0, "",
            0, sub.plan.num, daystr, 0.0, proc.code.code, -1.0, pct, -1, -1.0, 0, -1.0, est,
            -1.0, daystr, daystr, 0, 0.0, est, wo if wo else -1.0, person.clinic, sub.num, 0, 1,
            self.day(entered), self.stamp(entered), NONE_DATE, 0,
        )))

    def _claim_state(self, age: int) -> str:
        rng = self.rng
        if age > 120:
            r = rng.random()
            return "U" if r < 0.01 else "S" if r < 0.04 else "R"
        received = min(0.9, age / 70.0)
        if rng.random() < received:
            return "R"
        return "U" if rng.random() < (0.35 if age <= 10 else 0.08) else "S"

    def _claims(
        self, person: _Person, vday: int, subs: list[_Sub], procs: list[_Proc],
        forced: str | None, out: list[tuple[str, Row]],
    ) -> None:
        """The primary claim for a visit and, for dual coverage, the secondary one."""
        rng = self.rng
        primary = subs[0]
        plan = primary.plan
        if plan.plan_type == "c" or vday < primary.eff_day or (
            primary.term_day is not None and vday > primary.term_day
        ):
            return
        billable = [p for p in procs if p.code.covcat != _NONE]
        if not billable:
            return
        age = -vday
        state = forced.split(":", 1)[0] if forced else self._claim_state(age)
        outcome = forced.split(":", 1)[1] if forced and state == "R" else "paid"
        if state == "R" and not forced:
            r = rng.random()
            outcome = "denied" if r < 0.05 else "under" if r < 0.12 else "paid"
        tracked = (
            forced == "S:tracking"
            or (state == "S" and rng.random() < 0.12)
            or (outcome == "denied" and rng.random() < 0.3)
        )
        tracking = self.defnum(31) if tracked else 0
        sent = min(vday + (0 if rng.random() < 0.7 else rng.randint(1, 3)), -1)
        received = min(sent + rng.randint(7, 45), -1) if state == "R" else None
        secondary = subs[1] if len(subs) > 1 else None
        self._claim(
            person, vday, primary, secondary, "P", (state, outcome), tracking, sent, received,
            billable, 1.0, out,
        )
        # The secondary plan is billed for what the primary left unpaid.
        rest = [p for p in billable if plan.pct[p.code.covcat] < 100]
        if (
            secondary is not None and rest and state == "R"
            and secondary.plan.plan_type != "c" and rng.random() < 0.8
        ):
            s_state = "R" if rng.random() < 0.8 or age > 120 else "S"
            s_sent = min((received or sent) + rng.randint(1, 5), -1)
            s_received = min(s_sent + rng.randint(7, 30), -1) if s_state == "R" else None
            self._claim(
                person, vday, secondary, primary, "S", (s_state, "paid"), 0, s_sent, s_received,
                rest, 0.2, out,
            )

    def _claim(
        self, person: _Person, vday: int, sub: _Sub, other: _Sub | None, claim_type: str,
        result: tuple[str, str], tracking: int, sent: int, received: int | None,
        procs: list[_Proc], share: float, out: list[tuple[str, Row]],
    ) -> None:
        """One claim and its claim procedures. ``result`` is (ClaimStatus, paid/denied/under)."""
        rng = self.rng
        state, outcome = result
        pat, clinic, dentist = person.pat, person.clinic, person.dentist
        claim = self.key("claim")
        plan = sub.plan
        fee_total = est_total = paid_total = wo_total = ded_total = 0.0
        rows: list[tuple[str, Row]] = []
        daystr = self.day(vday)
        rec = self.day(received) if received is not None else NONE_DATE
        status = 1 if state == "R" else 0
        ded_left = 50.0 if rng.random() < 0.15 else 0.0
        remark = ""
        if outcome == "denied":
            remark = rng.choice(("Frequency limitation", "Not a covered benefit",
                                 "Missing tooth clause"))
        stamp_day = received if received is not None else sent
        for line, p in enumerate(procs, start=1):
            pct = plan.pct[p.code.covcat]
            wo = round(p.fee * plan.write_off, 2) if claim_type == "P" else 0.0
            ded = 0.0
            if ded_left and pct < 100:
                ded, ded_left = min(ded_left, p.fee - wo), 0.0
            est = round(max(0.0, (p.fee - wo - ded) * pct / 100.0) * share, 2)
            paid = 0.0
            if state == "R":
                if outcome == "paid":
                    paid = est
                elif outcome == "under":
                    paid = round(est * rng.uniform(0.25, 0.6), 2)
            writeoff = wo if outcome != "denied" else 0.0
            fee_total += p.fee
            est_total += est
            paid_total += paid
            wo_total += writeoff
            ded_total += ded
            date_cp = rec if state == "R" else daystr
            rows.append(("claimproc", (
                self.key("claimproc"), p.num, claim, pat, p.prov, p.fee, est, ded, status, paid,
                remark, 0, plan.num, date_cp, writeoff, p.code.code, -1.0, pct, -1, -1.0, 0,
                -1.0 if claim_type == "P" else 0.0, est, -1.0, daystr, date_cp, line, ded, est,
                wo, clinic, sub.num, 0, 1, daystr, self.stamp(stamp_day), rec, 0,
            )))
        old = rng.random() < 0.03 and vday < -1095 and self.zero_date == ZERO_DATE
        unsent = state == "U"
        sent_orig = NONE_DATE if unsent else ZERO_DATE if old else self.day(sent)
        reason = "Paid at a reduced fee schedule" if outcome == "under" else ""
        stamp = self.stamp(stamp_day)
        tracking, stamp = self._status_history(
            claim, tracking, sent, received, stamp, out,
            may_set=claim_type == "P" and state == "S")
        out.append(("claim", (
            claim, pat, daystr, daystr if unsent else self.day(sent), state, rec, plan.num,
            dentist, round(fee_total, 2), round(est_total, 2), round(paid_total, 2),
            round(ded_total, 2), "", reason, None, claim_type, dentist, 0, sub.relat,
            other.plan.num if other else 0, other.relat if other else 0, round(wo_total, 2),
            clinic, 0, sub.num, other.num if other else 0, tracking, NONE_DATE, 0,
            f"{pat}/{claim}", "", 1, daystr, stamp, sent_orig,
        )))
        out.extend(rows)

    def _preauth(
        self, person: _Person, tp_day: int, sub: _Sub, procs: list[_Proc], state: str,
        out: list[tuple[str, Row]],
    ) -> None:
        """A predetermination for the planned work: pending (sent, nothing back) or returned."""
        rng = self.rng
        pat = person.pat
        claim = self.key("claim")
        plan = sub.plan
        sent = min(tp_day + rng.randint(0, 5), -1)
        if state == "pending":
            # Various ages: from a few days to months.
            sent = -rng.choice((rng.randint(2, 20), rng.randint(25, 60), rng.randint(75, 200)))
            sent = max(sent, tp_day)
        received = min(sent + rng.randint(10, 40), -1) if state == "returned" else None
        rec = self.day(received) if received is not None else NONE_DATE
        stamp_day = received if received is not None else sent
        fee_total = est_total = paid_total = 0.0
        rows: list[tuple[str, Row]] = []
        for line, p in enumerate(procs, start=1):
            pct = plan.pct[p.code.covcat]
            wo = round(p.fee * plan.write_off, 2)
            est = round((p.fee - wo) * pct / 100.0, 2)
            # A returned predetermination holds the carrier's figure in InsPayAmt.
            answer = round(est * rng.choice((1.0, 1.0, 0.9, 0.8)), 2) if received else 0.0
            fee_total += p.fee
            est_total += est
            paid_total += answer
            daystr = self.day(p.day)
            rows.append(("claimproc", (
                self.key("claimproc"), p.num, claim, pat, p.prov, p.fee, est, 0.0, 2, answer, "",
                0, plan.num, rec, 0.0, p.code.code, -1.0, pct, -1, -1.0, 0, -1.0, est, -1.0,
                daystr, rec, line, 0.0, est, wo, person.clinic, sub.num, 0, 1, self.day(sent),
                self.stamp(stamp_day), NONE_DATE, 0,
            )))
        tracking = self.defnum(31) if rng.random() < 0.1 else 0
        stamp = self.stamp(stamp_day)
        tracking, stamp = self._status_history(claim, tracking, sent, received, stamp, out,
                                               may_set=False)
        out.append(("claim", (
            claim, pat, NONE_DATE, self.day(sent), "R" if received else "S", rec, plan.num,
            person.dentist, round(fee_total, 2), round(est_total, 2), round(paid_total, 2), 0.0,
            "", "", None, "PreAuth", person.dentist, 0, sub.relat, 0, 0, 0.0, person.clinic, 0,
            sub.num, 0, tracking, NONE_DATE, 0, f"{pat}/{claim}", "", 1, self.day(sent),
            stamp, self.day(sent),
        )))
        out.extend(rows)

    def _status_history(
        self, claim: int, tracking: int, sent: int, received: int | None, stamp: str,
        out: list[tuple[str, Row]], *, may_set: bool,
    ) -> tuple[int, str]:
        """The claim's custom tracking history; returns its status and SecDateTEdit.

        Open Dental writes a claimtracking row (TrackingType 'StatusHistory') each time a status
        is set. A claim the main stream gave a status gets that row; a sent claim (``may_set``)
        may get a status now, sometimes after an earlier one. Draws only from
        ``tracking_rng``. A status set here updates the claim row, so its stamp moves to the
        change; an existing status's row is dated no later than the claim's stamp.
        """
        rng = self.tracking_rng
        last = received if received is not None else -1
        entries: list[tuple[int, int]] = []  # (day, DefNum), oldest first
        if tracking:
            day = rng.randint(min(sent, last), last)
            entered = min(self.at(day, rng.randrange(8 * 60, 17 * 60)), stamp)
            self._history_row(claim, entered, tracking, out)
            return tracking, stamp
        if may_set:
            outstanding = -sent > 30
            plan_turn = outstanding and self.claims_tracked < 2 * len(_STATUS_PLAN)
            if not plan_turn and rng.random() >= 0.15:
                return tracking, stamp
            if plan_turn:
                name, fewest, most = _STATUS_PLAN[self.claims_tracked % len(_STATUS_PLAN)]
                self.claims_tracked += 1
            else:
                name, fewest, most = rng.choice(_STATUS_PLAN)
            day = max(-rng.randint(fewest, most), sent)
            if day - sent > 2 and rng.random() < 0.5:
                # An earlier status (the same one again, at times: a status set twice).
                earlier = rng.choice(_STATUS_PLAN)[0]
                entries.append((rng.randint(sent, day - 1), self.tracking_statuses[earlier]))
            tracking = self.tracking_statuses[name]
            entries.append((day, tracking))
        for day, def_num in entries:
            entered = self.at(day, rng.randrange(8 * 60, 17 * 60))
            self._history_row(claim, entered, def_num, out)
            stamp = max(stamp, entered)
        return tracking, stamp

    def _history_row(self, claim: int, entered: str, def_num: int,
                     out: list[tuple[str, Row]]) -> None:
        rng = self.tracking_rng
        out.append(("claimtracking", (
            self.key("claimtracking"), claim, "StatusHistory", 1 + rng.randrange(3), entered,
            rng.choice(_TRACKING_NOTES), def_num, 0,
        )))

    # --- plans and contacts ---

    def _treatplans(
        self, person: _Person, tx: str, tp_day: int | None, out: list[tuple[str, Row]]
    ) -> None:
        rng = self.rng

        def plan(status: int, heading: str, day: int | None, when: int, signed: bool) -> None:
            num = self.key("treatplan")
            self._plans.append(DutyPlan(num, status, when))
            presenter = 1 + person.pat % 3 if status == 0 else 0  # users 1-3 present
            out.append(("treatplan", (
                num, person.pat,
                self.day(day) if day is not None else NONE_DATE, heading, "", "", 0, 0, 0,
                status, 1, self.day(when), self.stamp(when), presenter, 0, "",
                self.at(when, 600 + rng.randrange(400)) if signed else NONE_DATETIME,
                NONE_DATETIME, "", "",
            )))

        if tp_day is not None:
            when = min(tp_day, -1)
            plan(1, "Active Treatment Plan", None, when, signed=False)
            if rng.random() < 0.4:
                plan(0, "Proposed Treatment Plan", when, when, signed=rng.random() < 0.4)
        elif person.history and rng.random() < 0.35:
            day = rng.randint(person.first_day, person.end_day)
            plan(0, "Proposed Treatment Plan", day, day, signed=True)
        if person.history and rng.random() < 0.2:
            plan(2, "Inactive Treatment Plan", None, person.end_day, signed=False)

    def _commlogs(self, person: _Person, tx: str, out: list[tuple[str, Row]]) -> None:
        rng = self.rng
        lo, hi = max(person.first_day, -1500), person.end_day
        n = rng.randint(0, 5) if person.history else rng.randint(0, 1)
        days = sorted(rng.randint(lo, hi) for _ in range(n))
        if tx in ("unscheduled", "broken", "unsched_list", "planned") and person.history:
            # A follow-up about the outstanding treatment.
            days.append(-rng.randint(1, 60) if hi == -1 else hi)
        for d in days:
            mode = rng.choice(_COMMLOG_MODES)
            r = rng.random()
            direction = 1 if r < 0.6 else 2 if r < 0.85 else 0
            source = None if rng.random() < 0.03 else 3 if mode == 5 and r < 0.3 else 0
            out.append(("commlog", (
                self.key("commlog"), person.pat, self.at(d, 8 * 60 + rng.randrange(540)),
                self.defnum(27), rng.choice(_COMMLOG_NOTES), mode, direction,
                1 + rng.randrange(3), "", 0, self.stamp(d), NONE_DATETIME, source, 0,
            )))

    def rows(self) -> Iterator[tuple[str, Row]]:
        yield from self.reference_rows()
        yield from self.patient_rows()


def iter_rows(
    spec: PracticeSpec, version: str = "24.3.10.0", *, zero_dates: bool = False
) -> Iterator[tuple[str, Row]]:
    """Generate the practice as ``(table name, row)`` pairs, streaming.

    Rows are tuples in the column order of ``odschema.table(name).column_names(version)``; dates
    are 'YYYY-MM-DD' strings and datetimes 'YYYY-MM-DD HH:MM:SS'. ``version`` decides whether
    planned-appointment order goes to ``appointment.ItemOrderPlanned`` or table ``plannedappt``.
    ``zero_dates`` puts a few MySQL zero dates ('0000-00-00') where old Open Dental data has
    them; leave it off for SQLite. The same arguments always give the same rows.
    """
    return _Generator(spec, version, zero_dates).rows()


# --- writers -----------------------------------------------------------------------------------


def write_sqlite(path: Path, spec: PracticeSpec, version: str = "24.3.10.0") -> None:
    """Create a SQLite database at ``path`` (replacing any file there) holding the practice."""
    path = Path(path)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    try:
        for statement in sqlite_ddl(version):
            conn.execute(statement)
        inserts = {
            t.name: f'INSERT INTO "{t.name}" VALUES ({",".join("?" * len(t.columns_for(version)))})'
            for t in TABLES
            if t.in_version(version)
        }
        batch: dict[str, list[Row]] = {name: [] for name in inserts}
        for name, row in iter_rows(spec, version):
            rows = batch[name]
            rows.append(row)
            if len(rows) >= 5000:
                conn.executemany(inserts[name], rows)
                rows.clear()
        for name, rows in batch.items():
            if rows:
                conn.executemany(inserts[name], rows)
        conn.commit()
    finally:
        conn.close()


_MYSQL_ROWS_PER_INSERT = 4000
_MYSQL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\0": "\\0", "\n": "\\n", "\r": "\\r",
                                "\x1a": "\\Z"})


def _mysql_literal(value: int | float | str | None) -> str:
    if value.__class__ is str:
        text: str = value
        if "'" in text or "\\" in text or "\n" in text or "\r" in text or "\0" in text \
                or "\x1a" in text:
            text = text.translate(_MYSQL_ESCAPES)
        return "'" + text + "'"
    if value is None:
        return "NULL"
    return repr(value)


class _MySQLValues:
    """Formats one table's rows as the VALUES list of a multi-row INSERT.

    Numbers are written as Python writes them, the generator's date and datetime strings are
    quoted as they are, and text (or anything that may be NULL) goes through
    :func:`_mysql_literal`, which escapes it.
    """

    def __init__(self, table: Table, version: str) -> None:
        parts: list[str] = []
        self.convert: list[int] = []
        for i, col in enumerate(table.columns_for(version)):
            if col.nullable or col.kind == "text":
                parts.append("%s")
                self.convert.append(i)
            elif col.kind in ("int", "real"):
                parts.append("%r")
            else:
                parts.append("'%s'")
        self.template = "(" + ",".join(parts) + ")"

    def __call__(self, rows: list[Row]) -> str:
        template, convert, lit = self.template, self.convert, _mysql_literal
        out: list[str] = []
        for row in rows:
            values = list(row)
            for i in convert:
                values[i] = lit(values[i])
            out.append(template % tuple(values))
        return ",".join(out)


class _Sender(threading.Thread):
    """Runs SQL statements on the connection while the main thread generates the next ones."""

    def __init__(self, cursor: pymysql.cursors.Cursor) -> None:
        super().__init__(name="tc-demo-mysql-loader", daemon=True)
        self.cursor = cursor
        self.jobs: queue.Queue[str | None] = queue.Queue(maxsize=6)
        self.error: BaseException | None = None

    def run(self) -> None:
        while True:
            sql = self.jobs.get()
            if sql is None:
                return
            if self.error is None:
                try:
                    self.cursor.execute(sql)
                except BaseException as exc:  # reported to the caller by put()/finish()
                    self.error = exc

    def put(self, sql: str) -> None:
        """Queue a statement; raise the loader's error if one failed already."""
        if self.error is not None:
            raise self.error
        self.jobs.put(sql)

    def stop(self) -> None:
        """Let the queued statements run (or be skipped after an error) and end the thread."""
        self.jobs.put(None)
        self.join()

    def finish(self) -> None:
        """Stop, and raise the loader's error if a statement failed."""
        self.stop()
        if self.error is not None:
            raise self.error


def _create_mysql_tables(cur: pymysql.cursors.Cursor, engine: str, version: str) -> None:
    for t in TABLES:
        cur.execute(f"DROP TABLE IF EXISTS `{t.name}`")
    for statement in mysql_ddl(version, engine):
        cur.execute(statement)


def _stream_mysql_rows(
    conn: pymysql.connections.Connection, spec: PracticeSpec, version: str
) -> dict[str, int]:
    """Send the rows as multi-row INSERTs, formatting the next batch while one is loading."""
    tables = [t for t in TABLES if t.in_version(version)]
    heads = {
        t.name: f"INSERT INTO `{t.name}` ({','.join(f'`{c}`' for c in t.column_names(version))}) "
        "VALUES "
        for t in tables
    }
    formats = {t.name: _MySQLValues(t, version) for t in tables}
    counts = {t.name: 0 for t in tables}
    batch: dict[str, list[Row]] = {t.name: [] for t in tables}
    sender = _Sender(conn.cursor())
    sender.start()
    try:
        for name, row in iter_rows(spec, version, zero_dates=True):
            rows = batch[name]
            rows.append(row)
            if len(rows) >= _MYSQL_ROWS_PER_INSERT:
                sender.put(heads[name] + formats[name](rows))
                counts[name] += len(rows)
                batch[name] = []
        for name, rows in batch.items():
            if rows:
                sender.put(heads[name] + formats[name](rows))
                counts[name] += len(rows)
    except BaseException:
        sender.stop()
        raise
    sender.finish()
    return counts


def _load_mysql(
    conn: pymysql.connections.Connection, spec: PracticeSpec, engine: str, version: str
) -> dict[str, int]:
    """Create the tables and load the rows; return the rows per table."""
    cur = conn.cursor()
    cur.execute("SELECT @@SESSION.sql_mode")
    previous = cur.fetchone()
    cur.execute("SET SESSION sql_mode=''")
    tables = [t.name for t in TABLES if t.in_version(version)]
    # MyISAM (and Aria) rebuild their secondary indexes in one sort pass after the load.
    rebuild_keys = engine.lower() in ("myisam", "aria")
    try:
        _create_mysql_tables(cur, engine, version)
        if rebuild_keys:
            for name in tables:
                cur.execute(f"ALTER TABLE `{name}` DISABLE KEYS")
        else:
            cur.execute("SET SESSION unique_checks=0, foreign_key_checks=0")
            conn.begin()
        try:
            counts = _stream_mysql_rows(conn, spec, version)
        except BaseException:
            if not rebuild_keys:
                conn.rollback()
            raise
        if rebuild_keys:
            for name in tables:
                cur.execute(f"ALTER TABLE `{name}` ENABLE KEYS")
        else:
            conn.commit()
            cur.execute("SET SESSION unique_checks=1, foreign_key_checks=1")
    finally:
        cur.execute("SET SESSION sql_mode=%s", (previous[0] if previous else "",))
    counts["preference"] += 1  # the DataBaseVersion row of mysql_ddl()
    return counts


def write_mysql(
    conn: pymysql.connections.Connection,
    spec: PracticeSpec,
    *,
    engine: str = "MyISAM",
    version: str = "24.3.10.0",
) -> None:
    """Load the practice into the connection's current database.

    Drops the fixture tables there first, creates them with :func:`odschema.mysql_ddl`, then
    streams the rows in multi-row INSERTs (with ``sql_mode=''``, as Open Dental runs, so the few
    zero dates load; MyISAM indexes are disabled during the load and rebuilt at the end).
    """
    _load_mysql(conn, spec, engine, version)


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, out: Callable[[str], None] | None = None) -> int:
    """Generate a practice into MySQL/MariaDB or a SQLite file and print rows per table."""
    say = out or (lambda line: sys.stdout.write(line + "\n"))
    parser = argparse.ArgumentParser(
        prog="python -m tc_sync.demo.practice",
        description="Load a synthetic Open Dental practice (made-up data) for demos and "
        "benchmarks.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--mysql-database", help="database to (re)load; created if missing")
    target.add_argument("--sqlite", type=Path, help="SQLite file to write")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the practice's today, YYYY-MM-DD (default: the real today)")
    parser.add_argument("--schema-version", default="24.3.10.0")
    parser.add_argument("--engine", default="MyISAM")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    spec = PracticeSpec(patients=args.patients, seed=args.seed, today=args.today or date.today())
    started = time.perf_counter()
    if args.sqlite is not None:
        write_sqlite(args.sqlite, spec, args.schema_version)
        conn = sqlite3.connect(args.sqlite)
        try:
            counts = {
                t.name: int(conn.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0])
                for t in TABLES
                if t.in_version(args.schema_version)
            }
        finally:
            conn.close()
    else:
        database = args.mysql_database
        if not database.replace("_", "").isalnum():
            parser.error(f"not a plain database name: {database!r}")
        conn_my = pymysql.connect(
            host=args.host, port=args.port, user=args.user, password=args.password,
            charset="utf8mb4", autocommit=True,
        )
        try:
            with conn_my.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8")
                cur.execute(f"USE `{database}`")
            counts = _load_mysql(conn_my, spec, args.engine, args.schema_version)
        finally:
            conn_my.close()
    seconds = time.perf_counter() - started
    width = max(len(name) for name in counts)
    for name, n in counts.items():
        say(f"{name:<{width}}  {n:>10,}")
    say(f"{'total':<{width}}  {sum(counts.values()):>10,}")
    say(f"loaded {spec.patients:,} patients in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
