"""Procedures on the demo practice's charts: the procedurelog row, where in the mouth, and the
procedures no visit made (existing work charted at the first visit, deleted entries)."""

from __future__ import annotations

import random

from tc_sync.demo.context import NONE_DATE, Context, Row, Rows
from tc_sync.demo.model import Code, Person

_SURFACES = {
    1: ("O", "M", "D", "B", "L"),
    2: ("MO", "DO", "OB", "OL"),
    3: ("MOD", "MOB", "DOL"),
    4: ("MODB", "MODL"),
}
_ANTERIOR_SURFACES = {1: ("M", "D", "F", "L"), 2: ("MF", "DL", "MI"), 3: ("MIF", "DIL")}
_QUADS = ("UR", "UL", "LR", "LL")
_ARCHES = ("U", "L")


def procedure_row(
    ctx: Context, num: int, pat: int, apt: int, day: int, code: Code, status: int, prov: int,
    planned: int, clinic: int, date_tp: str, date_complete: str, priority: int, stamp: str,
    tooth: str, surf: str,
) -> Row:
    """A procedurelog row (ProcStatus ``status``) on day ``day``."""
    return (
        num, pat, apt, "", ctx.day(day), code.fee, surf, tooth, "", priority, status, prov,
        0, planned, 0, date_complete if status == 2 else NONE_DATE, clinic, code.num, 1, 0,
        date_tp, stamp, "", 0.0, 0, date_complete,
    )


def site(rng: random.Random, code: Code) -> tuple[str, str]:
    """A tooth number and surface for ``code``."""
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


def existing(ctx: Context, person: Person, out: Rows) -> None:
    """Restorations done before the patient came: status 3 (existing current provider) or
    4 (existing other provider), charted on the first visit; now and then a referral (5)."""
    rng = ctx.rng
    pool = ("D2391", "D2392", "D2150", "D2160", "D2740", "D2750", "D2950", "D3330", "D7140",
            "D6010", "D6065", "D2394")
    day = person.first_day
    stamp = ctx.stamp(day)
    for _ in range(rng.randint(5, 14)):
        code = ctx.codes[rng.choice(pool)]
        tooth, surf = site(rng, code)
        status = 4 if rng.random() < 0.85 else 3
        out.append(("procedurelog", procedure_row(
            ctx, ctx.key("procedurelog"), person.pat, 0, day, code, status, person.dentist, 0,
            person.clinic, ctx.day(day), NONE_DATE, 0, stamp, tooth, surf,
        )))
    if rng.random() < 0.05:
        code = ctx.codes["D7240"]
        out.append(("procedurelog", procedure_row(
            ctx, ctx.key("procedurelog"), person.pat, 0, day, code, 5, person.dentist, 0,
            person.clinic, ctx.day(day), NONE_DATE, 0, stamp,
            str(rng.choice((1, 16, 17, 32))), "",
        )))


def deleted(ctx: Context, person: Person, out: Rows) -> None:
    """A few procedures charted and then deleted (status 6)."""
    rng = ctx.rng
    for _ in range(rng.randint(1, 3)):
        day = rng.randint(person.first_day, person.end_day)
        code = ctx.codes[rng.choice(("D2391", "D2392", "D0220", "D1206", "D2740"))]
        tooth, surf = site(rng, code)
        out.append(("procedurelog", procedure_row(
            ctx, ctx.key("procedurelog"), person.pat, 0, day, code, 6, person.dentist, 0,
            person.clinic, ctx.day(day), NONE_DATE, 0, ctx.stamp(day), tooth, surf,
        )))
