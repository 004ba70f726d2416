"""Append each alert as one JSON line to a file (for log shippers and audits)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from headwater.observe.sinks.base import Alert, SinkError


class JsonLinesSink:
    KIND = "jsonl"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def send(self, alert: Alert) -> None:
        line = json.dumps(alert.to_dict(), sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:  # one write: lines never interleave
                fh.write(line)
        except OSError as exc:
            raise SinkError(f"cannot append the alert to {self.path}: {exc.strerror}",
                            fix="check the path and its permissions") from exc
