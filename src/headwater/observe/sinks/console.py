"""Print alerts to the terminal (stderr by default)."""

from __future__ import annotations

import sys

from headwater.observe.sinks.base import Alert

MARK = {"page": "PAGE", "ticket": "TICKET", "info": "INFO"}


class ConsoleSink:
    KIND = "console"

    def __init__(self, stream=None) -> None:
        self.stream = stream

    def send(self, alert: Alert) -> None:
        out = self.stream or sys.stderr
        state = "" if alert.state == "firing" else f" [{alert.state}]"
        out.write(f"[{MARK.get(alert.severity, alert.severity.upper())}]{state} {alert.at.isoformat()} "
                  f"{alert.title}: {alert.message}\n")
        out.flush()
