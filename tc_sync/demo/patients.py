"""The demo practice's patients: who each is (status, family, tenure), the patient row with its
made-up name and contact details, and the contact log."""

from __future__ import annotations

from datetime import timedelta

from tc_sync.demo.context import CITIES, NONE_DATE, NONE_DATETIME, ZERO_DATE, Context, Row, Rows
from tc_sync.demo.model import Person
from tc_sync.demo.scenarios import CLAIM_AGES, Scenario

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
_COMMLOG_NOTES = (
    "Left voicemail about treatment.",
    "Confirmed appointment.",
    "Discussed insurance estimate.",
    "Sent recall reminder.",
    "Patient called to reschedule.",
    "Reviewed treatment plan options.",
    "Texted about outstanding treatment.",
)

# Weighted choices as flat tuples (pick with rng.choice).
_CONTACT_METHODS = (0,) * 30 + (4,) * 25 + (8,) * 20 + (5,) * 10 + (2,) * 8 + (1,) * 3 + (7,) * 2 \
    + (3, 6)
_COMMLOG_MODES = (3,) * 35 + (5,) * 25 + (1,) * 15 + (4,) * 10 + (2,) * 5 + (0,) * 5 + (6,) * 3 \
    + (7, 8)
_COMMLOG_CREATE = 193
"""securitylog.PermType CommlogCreate."""
_PAT_STATUSES = (0,) * 85 + (2,) * 6 + (3,) * 3 + (1,) * 2 + (6,) * 2 + (5, 4)


def person(ctx: Context, pat: int, head: int, sc: Scenario | None) -> Person:
    """Who the patient is: status, family role, and the window they came in."""
    rng = ctx.rng
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
        first_day = min(first_day, -CLAIM_AGES[claim_case][1] - 30)
    if history:
        first_day = ctx.workday(first_day)
    return Person(
        pat, head, status, history, first_day, end_day, age,
        1 if rng.random() < 0.65 else 2, rng.choice((1, 2)), claim_case,
    )


def patient_row(ctx: Context, person: Person, last_day: int) -> Row:
    """The patient row, made last: it is stamped at the patient's last event."""
    rng = ctx.rng
    pat, head = person.pat, person.head
    # A family shares the head's last name, mostly.
    last = _LAST_NAMES[(head * 7919) % len(_LAST_NAMES)]
    if pat != head and rng.random() < 0.2:
        last = _LAST_NAMES[rng.randrange(len(_LAST_NAMES))]
    first = _FIRST_NAMES[rng.randrange(len(_FIRST_NAMES))]
    preferred = _NICKNAMES.get(first, "") if rng.random() < 0.5 else ""
    days_old = person.age * 365 + rng.randrange(365)
    birth = (ctx.today - timedelta(days=days_old)).isoformat()
    if ctx.zero_date == ZERO_DATE and pat % 97 == 13:
        birth = ZERO_DATE  # an old record with an unknown birthdate
    email = ""
    if rng.random() < 0.7:
        email = f"{first}.{last.replace(chr(39), '')}{pat}@example.com".lower()

    def phone(p: float) -> str:
        return f"(555)555-01{rng.randrange(100):02d}" if rng.random() < p else ""

    gender = rng.randrange(2) if rng.random() >= 0.02 else rng.choice((2, 3))
    first_visit = ctx.day(person.first_day) if person.history else NONE_DATE
    return (
        pat, last, first, "" if rng.random() < 0.8 else chr(65 + rng.randrange(26)), preferred,
        person.status, gender, 2 if person.child else rng.choice((0, 1, 1, 3, 4)), birth,
        f"{rng.randint(100, 9999)} {rng.choice(_STREETS)}", rng.choice(CITIES), "OR",
        f"97{rng.randint(100, 999)}", phone(0.6), phone(0.2), phone(0.85), head, email,
        round(rng.choice((0.0, 0.0, 0.0, rng.uniform(10, 900))), 2), person.dentist,
        3 if rng.random() < 0.6 else 0, 0, ctx.defs[4][0 if rng.random() < 0.9 else 1],
        first_visit, person.clinic, rng.choice(_CONTACT_METHODS),
        rng.choice(_CONTACT_METHODS), rng.choice(_CONTACT_METHODS), ctx.stamp(last_day),
        rng.randrange(3), ctx.day(person.first_day - rng.randint(0, 30)),
    )


def commlogs(ctx: Context, person: Person, tx: str, out: Rows) -> None:
    """Contact-log entries, and one about outstanding treatment (``tx``) for a patient with
    history."""
    rng = ctx.rng
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
        commlog, when = ctx.key("commlog"), ctx.at(d, 8 * 60 + rng.randrange(540))
        out.append(("commlog", (
            commlog, person.pat, when, ctx.defnum(27), rng.choice(_COMMLOG_NOTES), mode,
            direction, 1 + rng.randrange(3), "", 0, ctx.stamp(d), NONE_DATETIME, source, 0,
        )))
        out.append(("securitylog", (   # the audit entry Open Dental writes with it
            ctx.key("securitylog"), _COMMLOG_CREATE, 1, when, "", person.pat, "FRONTDESK1",
            commlog, 0, 0, 0, NONE_DATETIME,
        )))

