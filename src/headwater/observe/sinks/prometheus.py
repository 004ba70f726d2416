"""Prometheus: the exposition format for ``headwater metrics``, and a textfile sink.

``PrometheusSink(path)`` keeps ``headwater_alert_firing{...}`` gauges in a file for the node
exporter's textfile collector; ``render(samples)`` writes any gauges in the text format.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from headwater.observe.sinks.base import Alert, SinkError

Sample = tuple[str, dict[str, str], float]
_LINE = re.compile(r"^(headwater_alert_firing)\{(.*)\} (\S+)$")


def escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def render(samples: list[Sample], help: dict[str, str]) -> str:
    """Gauges in the Prometheus text exposition format (version 0.0.4), grouped by metric."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample[0], []).append(sample)
    lines = []
    for name in sorted(by_name):
        lines.append(f"# HELP {name} {help.get(name, name)}")
        lines.append(f"# TYPE {name} gauge")
        for _, labels, value in by_name[name]:
            lines.append(f"{name}{{{_labels(labels)}}} {_number(value)}" if labels else f"{name} {_number(value)}")
    return "\n".join(lines) + "\n"


class PrometheusSink:
    KIND = "prometheus"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def send(self, alert: Alert) -> None:
        current: dict[str, float] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                match = _LINE.match(line)
                if match:
                    current[match.group(2)] = float(match.group(3))
        labels = _labels({"key": alert.key, "severity": alert.severity, "product": alert.product or "",
                          "source": alert.source})
        current[labels] = 1.0 if alert.state == "firing" else 0.0
        text = ["# HELP headwater_alert_firing 1 while a headwater alert fires, 0 once resolved",
                "# TYPE headwater_alert_firing gauge",
                *(f"headwater_alert_firing{{{k}}} {_number(v)}" for k, v in sorted(current.items()))]
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text("\n".join(text) + "\n")
            os.replace(tmp, self.path)  # atomic: the collector never reads half a file
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc.strerror}", fix="check the path") from exc
