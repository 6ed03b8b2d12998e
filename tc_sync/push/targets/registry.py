"""Which class delivers to a push target: a table from the target's `kind` to its class.

As APScheduler names its executors, each class is held by reference ("module:Class") and
imported only when a configured target uses it. Every class builds itself from its settings
and the `TargetContext` (`from_settings`); a new target is a new module and a new row here.
"""

from __future__ import annotations

import pkgutil
from typing import Any

from tc_sync.config.push import Target
from tc_sync.push.targets.base import TargetContext

TARGETS: dict[str, str] = {
    "opendental_api": "tc_sync.push.targets.opendental_api:OpenDentalApi",
    "opendental_direct": "tc_sync.push.targets.opendental_direct:OpenDentalDirect",
    "email": "tc_sync.push.targets.email:EmailAlerts",
    "webhook": "tc_sync.push.targets.webhook:WebhookAlerts",
}
"""Every `kind` of push target the configuration accepts, by class."""


def build_target(name: str, target: Target, context: TargetContext) -> Any:
    """The object that delivers to the target configured as `name`."""
    return pkgutil.resolve_name(TARGETS[target.kind]).from_settings(name, target, context)
