"""Canonical records of the practice itself: patients, providers, clinics, users, definitions and
the contact log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tc_sync.records.codes import (
    ContactDirection,
    ContactMethod,
    ContactMode,
    DefinitionCategory,
    PatientStatus,
)


@dataclass(frozen=True, slots=True)
class Patient:
    """A person the practice treats or may treat."""

    pms_id: int
    last_name: str
    first_name: str
    preferred_name: str
    status: PatientStatus
    preferred_contact: ContactMethod
    home_phone: str
    work_phone: str
    mobile_phone: str
    email: str
    birthdate: date | None
    guarantor_id: int | None
    provider_id: int | None
    clinic_id: int | None
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Provider:
    """A dentist or hygienist."""

    pms_id: int
    abbreviation: str
    last_name: str
    first_name: str
    is_hygienist: bool
    hidden: bool
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Clinic:
    """A location of a multi-clinic practice."""

    pms_id: int
    abbreviation: str
    description: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class User:
    """A PMS user: a member of staff (who presents plans, logs contacts)."""

    pms_id: int
    name: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class Definition:
    """An entry of one of the practice's own lists (categories, statuses, tracking)."""

    pms_id: int
    category: DefinitionCategory
    item_order: int
    name: str
    value: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact-log entry: the practice reached (or heard from) a patient."""

    pms_id: int
    patient_id: int
    contacted_at: datetime | None
    contact_type_id: int | None
    mode: ContactMode
    direction: ContactDirection
    changed_at: datetime | None
    automated: bool = False
    """Written by a program (reminders, web scheduling, a link), not by staff."""
    user_id: int | None = None
    """The PMS user who logged it."""
