"""The demo practice's definitions, providers and clinics (the rows everything else refers to)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from tc_sync.demo.context import NONE_DATE, Context, Row
from tc_sync.demo.duties import DutyRows

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


def definitions(ctx: Context, duties: DutyRows) -> Iterator[tuple[str, Row]]:
    """The definition rows; fills ``ctx.defs``, ``ctx.tracking_statuses`` and
    ``ctx.procedure_categories``."""
    for order, (category, item, value, hidden) in enumerate(_DEFINITIONS):
        def_num = ctx.key("definition")
        if not hidden:
            ctx.defs.setdefault(category, []).append(def_num)
        if category == 11:
            ctx.procedure_categories[item] = def_num
        if category == 31:
            ctx.tracking_statuses[item] = def_num
        yield "definition", (def_num, category, order, item, value, 0, hidden)
    for order, (item, value) in enumerate(_MORE_TRACKING_STATUSES, start=len(_DEFINITIONS)):
        def_num = ctx.key("definition")
        ctx.tracking_statuses[item] = def_num
        yield "definition", (def_num, 31, order, item, value, 0, 0)
    yield from duties.definitions(len(_DEFINITIONS) + len(_MORE_TRACKING_STATUSES))


def providers(ctx: Context) -> Iterator[tuple[str, Row]]:
    """Two dentists and a hygienist."""
    provs = (
        ("DOC1", "Hartwell", "Nora", "DDS", 0, "Nora"),
        ("DOC2", "Okafor", "Samuel", "DMD", 0, "Sam"),
        ("HYG1", "Lindqvist", "Mara", "RDH", 1, ""),
    )
    for order, (abbr, last, first, suffix, hyg, pref) in enumerate(provs):
        num = ctx.key("provider")
        yield "provider", (
            num, abbr, order, last, first, "", suffix, 0, 0, hyg, 0, 0, 1,
            f"99900000{num:02d}", ctx.stamp(ctx.rng.randint(-900, -200)), 0, 0, 0,
            date(1970 + 6 * num, num, 10 + num).isoformat(), "", NONE_DATE, pref,
        )


def clinics(ctx: Context) -> Iterator[tuple[str, Row]]:
    """Two clinics."""
    clinics = (("Riverside Family Dental", "RIV", "Riverton"),
               ("Hillcrest Dental Studio", "HIL", "Larkfield"))
    for order, (name, abbr, city) in enumerate(clinics):
        num = ctx.key("clinic")
        yield "clinic", (
            num, name, f"{100 + num} Main St", city, "OR", f"9700{num}",
            f"(555)555-01{num:02d}", 0, 1, f"(555)555-01{num + 10:02d}", 0, 1 + order, 0, 0,
            order, abbr, 0, 0, "", "America/Los_Angeles",
        )
