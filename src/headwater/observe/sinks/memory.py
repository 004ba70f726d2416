"""An in-memory sink that can fail on purpose, for tests and demos (like dlt's dummy destination)."""

from __future__ import annotations

from headwater.observe.sinks.base import Alert, SinkError


class MemorySink:
    KIND = "memory"

    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[Alert] = []
        self.attempts = 0
        self.fail_times = fail_times

    def send(self, alert: Alert) -> None:
        self.attempts += 1
        if self.attempts <= self.fail_times:
            raise SinkError(f"memory sink failing on purpose ({self.attempts}/{self.fail_times})")
        self.sent.append(alert)
