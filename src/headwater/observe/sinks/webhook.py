"""POST alerts to an HTTP webhook: Slack-compatible payload, retries with exponential backoff.

Retried: connection errors, timeouts, 408, 429 (honouring Retry-After) and 5xx. Not retried:
other 4xx (the request itself is wrong). Only the standard library is used.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from headwater.observe.sinks.base import Alert, SinkError

EMOJI = {"page": ":rotating_light:", "ticket": ":warning:", "info": ":information_source:"}
RETRY_STATUS = {408, 429}


def slack_payload(alert: Alert) -> dict:
    """A message Slack incoming webhooks (and Mattermost, Rocket.Chat...) accept."""
    head = f"{EMOJI.get(alert.severity, '')} [{alert.severity.upper()}] {alert.title}".strip()
    if alert.state != "firing":
        head += f" ({alert.state})"
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in
              [("product", alert.product), ("at", alert.at.isoformat()),
               ("incident", alert.incident_id), *sorted(alert.labels.items())] if v is not None]
    return {"text": f"{head}: {alert.message}",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
                       {"type": "section", "text": {"type": "mrkdwn", "text": alert.message}},
                       *([{"type": "section", "fields": fields[:10]}] if fields else [])]}


class WebhookSink:
    KIND = "webhook"

    def __init__(self, url: str, retries: int = 4, backoff: float = 0.5, max_backoff: float = 30.0,
                 timeout: float = 10.0, format: str = "slack", headers: dict[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if format not in ("slack", "json"):
            raise SinkError(f"webhook format {format!r} is unknown", fix="use format: slack or json")
        self.url, self.retries, self.backoff, self.max_backoff = url, retries, backoff, max_backoff
        self.timeout, self.format, self.headers, self.sleep = timeout, format, headers or {}, sleep
        self.attempts = 0  # of the last send

    def payload(self, alert: Alert) -> dict:
        return slack_payload(alert) if self.format == "slack" else alert.to_dict()

    def send(self, alert: Alert) -> None:
        body = json.dumps(self.payload(alert), default=str).encode()
        last = ""
        for attempt in range(self.retries + 1):
            self.attempts = attempt + 1
            request = urllib.request.Request(self.url, data=body, method="POST",
                                             headers={"Content-Type": "application/json", **self.headers})
            wait = min(self.max_backoff, self.backoff * 2 ** attempt)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if exc.code not in RETRY_STATUS and exc.code < 500:
                    raise SinkError(f"the webhook {self.url} refused the alert: {last}",
                                    fix="check the webhook URL and its token") from exc
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after and retry_after.isdigit():
                    wait = min(self.max_backoff, float(retry_after))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = str(getattr(exc, "reason", exc))
            if attempt < self.retries:
                self.sleep(wait)
        raise SinkError(f"the webhook {self.url} did not take the alert after {self.attempts} attempts: {last}",
                        fix="check that the endpoint is up; the alert is still in 'headwater alerts'")
