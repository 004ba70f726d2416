"""Send alert changes to the project's sinks (default: <state>/alerts.jsonl)."""

from __future__ import annotations

from headwater.observe.sinks.base import Alert, SinkError, make_sink


def configured_sinks(platform) -> list[tuple[object, set[str]]]:
    specs = platform.project.config.alerting.sinks
    if not specs:
        return [(make_sink({"kind": "jsonl", "path": platform.state_dir / "alerts.jsonl"}),
                 {"page", "ticket", "info"})]
    out = []
    for spec in specs:
        options = spec.model_dump(exclude={"severities"}, exclude_none=True)
        kind = options["kind"]
        keep = {"kind"} | {"jsonl": {"path"}, "prometheus": {"path"}, "console": set(),
                           "webhook": {"url", "format", "retries", "backoff", "timeout"}}[kind]
        options = {k: v for k, v in options.items() if k in keep}
        if "path" in options:
            options["path"] = platform.root / options["path"]
        out.append((make_sink(options), set(spec.severities)))
    return out


def to_alert(row, project_name: str) -> Alert:
    return Alert(key=row.key, severity=row.severity, title=f"{row.product} {row.sli}",
                 message=row.message, at=row.resolved_at if row.state == "resolved" else row.fired_at,
                 product=row.product, source="observe", state=row.state,
                 labels={"project": project_name, "sli": row.sli, "rule": row.rule},
                 values=row.details or {}, incident_id=row.incident_id)


def deliver(platform, rows, sinks=None) -> list[str]:
    """Send each changed alert to every sink taking its severity; returns delivery errors."""
    return send_alerts(platform, [to_alert(row, platform.project.name) for row in rows], sinks)


def send_alerts(platform, alerts, sinks=None) -> list[str]:
    """Send ready-made Alerts (SLO, cost, ...) to every sink taking their severity; returns errors."""
    targets = [(s, {"page", "ticket", "info"}) for s in sinks] if sinks is not None else configured_sinks(platform)
    errors = []
    for alert in alerts:
        for sink, severities in targets:
            if alert.severity in severities:
                try:
                    sink.send(alert)
                except SinkError as exc:
                    errors.append(f"{type(sink).__name__}: {exc.message}")
    return errors
