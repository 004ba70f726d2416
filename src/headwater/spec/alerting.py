"""The ``alerting:`` section of headwater.yaml: where alerts go and how incidents are grouped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from headwater.spec.types import Duration


class Strict(BaseModel):
    """As ``spec.config.Strict`` (not imported: config.py imports this module)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class AlertSinkSpec(Strict):
    """One destination for alerts; the options used depend on ``kind``."""

    kind: Literal["console", "jsonl", "webhook", "prometheus"] = Field(
        description="console (stderr), jsonl (a file, one alert per line), webhook (HTTP POST, "
                    "Slack-compatible), prometheus (a textfile for the node exporter).")
    path: str | None = Field(default=None, description="File for jsonl / prometheus, relative to the project.")
    url: str | None = Field(default=None, description="Webhook URL.",
                            examples=["https://hooks.slack.com/services/T000/B000/XXXX"])
    format: Literal["slack", "json"] = Field(default="slack", description="Webhook payload shape.")
    retries: int = Field(default=4, ge=0, le=20, description="Webhook retries after the first attempt.")
    backoff: float = Field(default=0.5, ge=0, description="Seconds before the first retry; doubles each time.")
    timeout: float = Field(default=10.0, gt=0, description="Seconds per webhook attempt.")
    severities: list[Literal["page", "ticket", "info"]] = Field(
        default_factory=lambda: ["page", "ticket", "info"], description="Severities this sink receives.")


class AlertingConfig(Strict):
    sinks: list[AlertSinkSpec] = Field(
        default_factory=list,
        description="Where alerts go; default: a JSON lines file <state>/alerts.jsonl.")
    incident_window: Duration = Field(
        default="6h", description="Alerts sharing a root within this long join one incident.")
    anomaly_threshold: float = Field(default=3.5, gt=0, description="Robust z-score beyond which a value is anomalous.")
