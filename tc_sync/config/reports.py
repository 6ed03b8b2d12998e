"""The `reports:` section of the configuration: report folder, acceptance window, schedules, digest.

The digest goes out through one of `push.targets` (an email target); `digest_problems` checks
that pairing, and that full patient detail only travels over an encrypted connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from tc_sync.config.push import EmailTarget
from tc_sync.config.section import Section

_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"
Address = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")



class Recipients(Section):
    """Who receives a digest: addresses per item owner and per queue. An address listed for
    several owners or queues gets one digest covering all of them."""

    owners: dict[str, list[Address]] = Field(default_factory=dict)
    """e.g. {dana: [dana@office.example]}: the items assigned to dana."""
    queues: dict[str, list[Address]] = Field(default_factory=dict)
    """e.g. {insurance: [billing@office.example]}: every item in the insurance queue."""

    def empty(self) -> bool:
        """No owner or queue is mapped (the digest then goes to the email target's `to`)."""
        return not any(self.owners.values()) and not any(self.queues.values())


class DigestSettings(Section):
    """The daily digest: counts per queue, what is overdue, the top items by priority."""

    enabled: bool = False
    """Send it every day at `send_at` from the daemon (`tc-sync digest` works either way)."""
    email_target: str | None = None
    """The name of an email target under push.targets: its server, login and sender."""
    recipients: Recipients = Field(default_factory=Recipients)
    detail: Literal["minimum", "full"] = "minimum"
    """minimum: initials, PMS ids and amounts; full: names, phone numbers, treatment (needs
    an email target with security starttls or tls)."""
    send_at: str = Field("07:00", pattern=_TIME)
    """Time of day, in the practice's time zone."""
    top: int = Field(10, ge=1, le=100)
    """How many of the highest-priority items each digest lists."""
    overdue_limit: int = Field(25, ge=1, le=500)
    """How many overdue items each digest lists (the count always covers them all)."""


class WeeklySchedule(Section):
    """When the daemon writes the weekly report of the week just ended (Monday to Sunday)."""

    enabled: bool = False
    """true: the daemon writes it (`tc-sync report weekly` works either way)."""
    day: Weekday = "mon"
    at: str = Field("06:00", pattern=_TIME)


class MonthlySchedule(Section):
    """When the daemon writes the monthly report of the month just ended."""

    enabled: bool = False
    """true: the daemon writes it (`tc-sync report monthly` works either way)."""
    day: int = Field(1, ge=1, le=28)
    at: str = Field("06:00", pattern=_TIME)


class ReportsSettings(Section):
    """Weekly and monthly reports (HTML with charts, Excel) and the daily digest."""

    folder: Path | None = None
    """Where report files go. Default: `reports` beside a SQLite ledger, else ./reports."""
    group: str | None = Field(None, min_length=1, max_length=64)
    """The group given the report files (0640); None: the same as queues.group."""
    acceptance_window_days: int = Field(90, ge=0, le=730)
    """Treatment counts as accepted when it is completed, or booked for a date, within this
    many days of being planned."""
    weekly: WeeklySchedule = Field(default_factory=WeeklySchedule)
    monthly: MonthlySchedule = Field(default_factory=MonthlySchedule)
    digest: DigestSettings = Field(default_factory=DigestSettings)


Problem = tuple[tuple[str | int, ...], str]


def digest_target(reports: ReportsSettings, targets: Mapping[str, object]
                  ) -> EmailTarget | None:
    """The email target the digest uses, if it names one that exists and is an email target."""
    target = targets.get(reports.digest.email_target or "")
    return target if isinstance(target, EmailTarget) else None


def digest_problems(reports: ReportsSettings, targets: Mapping[str, object]) -> list[Problem]:
    """What is wrong with the digest's pairing to push.targets, each with the field it is at."""
    digest = reports.digest
    where = ("reports", "digest")
    name = digest.email_target
    if name is None:
        if digest.enabled or digest.detail == "full":
            return [((*where, "email_target"), "name the email target under push.targets "
                     "that sends the digest")]
        return []
    if name not in targets:
        return [((*where, "email_target"), f"no push target named '{name}' (targets: "
                 f"{', '.join(targets) or 'none'})")]
    target = digest_target(reports, targets)
    if target is None:
        return [((*where, "email_target"), f"push target '{name}' is not an email target")]
    if digest.detail == "full" and target.security == "none":
        return [((*where, "detail"), f"full patient detail needs an encrypted connection, but "
                 f"email target '{name}' has security: none; set its security to starttls or "
                 "tls, or use detail: minimum")]
    return []
