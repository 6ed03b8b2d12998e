"""The `push:` section of the configuration: where actions go and how hard to try.

Targets are named (`targets: {office-email: {kind: email, ...}}`); an action names its target,
so renaming one leaves its old actions waiting in the outbox (`tc-sync outbox list` shows them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from tc_sync.config.section import Section

AlertEvent = Literal["escalated", "dead_letter", "health"]
ALL_EVENTS: list[AlertEvent] = ["escalated", "dead_letter", "health"]
_TARGET_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")



class OpenDentalApiTarget(Section):
    """Open Dental tasks through the Open Dental API: the API Service on the office's server,
    or Remote mode (https://api.opendental.com/api/v1, through the office's eConnector)."""

    kind: Literal["opendental_api"]
    source: str
    """The Open Dental source whose items become tasks."""
    base_url: str = Field(pattern=r"^https?://")
    """e.g. http://od-server:30223/api/v1 (the API Service) or https://api.opendental.com/api/v1
    (Remote). The Local API (port 30222) answers only on its own workstation, and only while
    Open Dental is open there: not for a service."""
    developer_key: SecretStr
    customer_key: SecretStr
    timeout_seconds: float = Field(20.0, gt=0, le=300)
    pace_seconds: float | None = Field(None, ge=0, le=60)
    """Seconds between two requests; default 1.05 for api.opendental.com (Remote mode allows
    one a second per customer key), none for the API Service (not throttled)."""
    mark_done: Literal["auto", "always", "never"] = "auto"
    """How a resolved item closes its task: `auto` marks it Done where the Open Dental version
    allows it (24.2.10 and later); before that a task staff finished is left Done and an open one
    gets "RESOLVED ..." in front of its text."""


class OpenDentalDirectTarget(Section):
    """Open Dental tasks written straight into its database. Open Dental does not support
    direct writes; use the API where you can. Off unless `acknowledge_unsupported` is true."""

    kind: Literal["opendental_direct"]
    source: str
    acknowledge_unsupported: bool = False
    user: str
    """A MySQL user allowed to INSERT and UPDATE task tables (the sync user stays read-only)."""
    password: SecretStr | None = None

    @model_validator(mode="after")
    def _acknowledged(self) -> OpenDentalDirectTarget:
        if not self.acknowledge_unsupported:
            raise ValueError(
                "direct writes into Open Dental are unsupported by Open Dental: set "
                "acknowledge_unsupported: true to use them anyway, or use kind: opendental_api")
        return self


class EmailTarget(Section):
    """Alerts by email (SMTP with STARTTLS, implicit TLS, or none on a trusted relay)."""

    kind: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    """A CA certificate to trust for the server's TLS (a practice's own mail relay)."""
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    events: list[AlertEvent] = Field(default_factory=lambda: list(ALL_EVENTS))
    timeout_seconds: float = Field(30.0, gt=0, le=300)


class WebhookTarget(Section):
    """Alerts to a chat webhook. Webhooks carry ids, counts and codes only, never PHI."""

    kind: Literal["webhook"]
    url: SecretStr
    """The webhook address (a secret: Slack and Teams addresses carry their token)."""
    flavor: Literal["slack", "teams", "json"] = "json"
    events: list[AlertEvent] = Field(default_factory=lambda: list(ALL_EVENTS))
    timeout_seconds: float = Field(15.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("the webhook url must start with https:// (or http://)")
        return value


Target = Annotated[OpenDentalApiTarget | OpenDentalDirectTarget | EmailTarget | WebhookTarget,
                   Field(discriminator="kind")]
TASK_TARGET_KINDS = ("opendental_api", "opendental_direct")


class PushSettings(Section):
    """How the outbox is drained."""

    enabled: bool = True
    interval_seconds: int = Field(30, ge=5, le=3600)
    batch_size: int = Field(50, ge=1, le=1000)
    lease_seconds: int = Field(300, ge=30, le=86_400)
    """A claimed action not finished in this time is looked up at its target, then retried."""
    max_attempts: int = Field(10, ge=1, le=100)
    """After this many failed attempts an action is a dead letter (and an alert is raised)."""
    first_retry_seconds: int = Field(60, ge=1, le=86_400)
    max_retry_seconds: int = Field(6 * 3600, ge=1, le=7 * 86_400)
    read_back_minutes: int = Field(15, ge=0, le=1440)
    """How often the daemon asks the task targets what staff did with tc-sync's tasks (done,
    deleted, moved); a task done while its item is still owed counts as an attempt. 0: never
    (in Remote mode each open task costs a paced request)."""
    targets: dict[str, Target] = Field(default_factory=dict)

    @field_validator("targets")
    @classmethod
    def _target_ids(cls, value: dict[str, Target]) -> dict[str, Target]:
        for name in value:
            if not _TARGET_ID.match(name):
                raise ValueError(
                    f"target id '{name}' must be lower-case letters, digits, - or _")
        return value
