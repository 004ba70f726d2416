"""The alert sink interface, the alert it receives, and the registry of sink kinds.

A sink is an object with one method, ``send(alert: Alert) -> None``; it raises ``SinkError``
(a ``HeadwaterError``) when it could not deliver. Add a kind by writing a module with a class
taking its options as keyword arguments and listing it in ``SINKS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from headwater.errors import HeadwaterError


class SinkError(HeadwaterError):
    """An alert could not be delivered (after the sink's own retries)."""


@dataclass
class Alert:
    """What every sink receives. ``key`` identifies the condition (the same key is the same alert)."""

    key: str
    severity: str  # page | ticket | info
    title: str
    message: str
    at: datetime
    product: str | None = None
    source: str = "headwater"  # which capability raised it: observe, cost, ...
    state: str = "firing"  # firing | resolved
    labels: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["at"] = self.at.isoformat()
        return out


class Sink(Protocol):
    KIND: str

    def send(self, alert: Alert) -> None: ...


SINKS: dict[str, str] = {
    "console": "headwater.observe.sinks.console:ConsoleSink",
    "jsonl": "headwater.observe.sinks.jsonl:JsonLinesSink",
    "webhook": "headwater.observe.sinks.webhook:WebhookSink",
    "prometheus": "headwater.observe.sinks.prometheus:PrometheusSink",
    "memory": "headwater.observe.sinks.memory:MemorySink",
}


def make_sink(spec: dict[str, Any]) -> Sink:
    """A sink from ``{"kind": ..., **options}``."""
    options = dict(spec)
    kind = options.pop("kind", None)
    target = SINKS.get(kind)
    if target is None:
        raise HeadwaterError(f"no alert sink kind {kind!r}", fix=f"use one of: {', '.join(SINKS)}")
    module, _, cls = target.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)(**options)
    except TypeError as exc:
        raise HeadwaterError(f"bad options for the {kind} alert sink: {exc}",
                             fix="see docs/slos.md, section 'Alert sinks'") from None
