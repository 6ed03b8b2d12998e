"""Alerts to chat webhooks: Slack, Microsoft Teams, or plain JSON.

A webhook leaves the practice: it carries ids, kinds, counts and codes only (never a name, a
phone, an amount or free text), whatever the alert held. At least once, like email.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from tc_sync.config.push import WebhookTarget
from tc_sync.push.outbox import Action
from tc_sync.push.targets.base import Permanent, Retryable, TargetContext, UnknownOutcome
from tc_sync.push.text import SAFE_ALERT_KEYS, alert_lines, alert_subject


def safe(payload: dict[str, Any]) -> dict[str, Any]:
    """Only the keys a webhook may carry."""
    return {key: payload[key] for key in SAFE_ALERT_KEYS if key in payload}


class WebhookAlerts:
    """One webhook address."""

    @classmethod
    def from_settings(cls, name: str, target: WebhookTarget,
                      context: TargetContext) -> WebhookAlerts:
        return cls(name, target, context.settings.site_id)

    def __init__(self, name: str, settings: WebhookTarget, site_id: str,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.settings = settings
        self.site_id = site_id
        self.client = httpx.Client(transport=transport, timeout=settings.timeout_seconds,
                                   headers={"User-Agent": "tc-sync"})

    def close(self) -> None:
        self.client.close()

    def body(self, actions: Sequence[Action]) -> dict[str, Any]:
        payloads = [safe(action.payload) for action in actions]
        title = alert_subject(self.site_id, payloads)
        text = "\n".join(alert_lines(payloads, with_amounts=False))
        if self.settings.flavor == "slack":
            return {"text": f"*{title}*\n{text}"}
        if self.settings.flavor == "teams":
            return {"type": "message", "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard", "version": "1.4",
                    "body": [{"type": "TextBlock", "text": title, "weight": "Bolder",
                              "wrap": True},
                             {"type": "TextBlock", "text": text, "wrap": True}]}}]}
        return {"site": self.site_id, "title": title, "alerts": payloads}

    def send_alerts(self, actions: Sequence[Action]) -> str | None:
        try:
            response = self.client.post(self.settings.url.get_secret_value(),
                                        json=self.body(actions))
        except httpx.TimeoutException:
            raise UnknownOutcome("timeout", "the webhook did not answer in time") from None
        except httpx.TransportError as error:
            raise Retryable(type(error).__name__, "cannot reach the webhook",
                            target_down=True) from None
        status = response.status_code
        if status < 300:
            return None
        if status == 429 or status >= 500:
            after = response.headers.get("Retry-After")
            raise Retryable(str(status), "the webhook said try later",
                            retry_after=float(after) if after and after.isdigit() else None,
                            target_down=True)
        raise Permanent(str(status), f"the webhook rejected the message: {response.text[:200]}")
