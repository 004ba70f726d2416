"""Small streaming projects and event generators for the streaming tests."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def stream_project(root: Path, *, source: str = "{kind: inbox}", extra: str = "",
                   dedupe: str = "{key: [event_id], window: 24h}", lateness: str = "1m",
                   late_policy: str = "quarantine", max_batch_rows: int = 1000,
                   max_batch_seconds: float = 0.2, windows: str = "") -> Path:
    """A project with one streaming product ``clicks`` (event_id, user, page, ts)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "headwater.yaml").write_text("name: streamtest\n")
    (root / "products").mkdir(exist_ok=True)
    body = f"""
        products:
          - name: clicks
            domain: web
            owner: {{team: web-data, oncall: web@example.com}}
            tier: ops
            lane: streaming
            stream:
              source: {source}
              event_time: ts
              allowed_lateness: {lateness}
              late_policy: {late_policy}
              dedupe: {dedupe}
              max_batch_rows: {max_batch_rows}
              max_batch_seconds: {max_batch_seconds}
        """
    text = textwrap.dedent(body)
    if windows:
        text += textwrap.indent(textwrap.dedent(windows).lstrip("\n"), "      ")
    (root / "products" / "clicks.yaml").write_text(text + extra)
    return root


def events(n: int, *, start: int = 0, step_seconds: float = 1.0, base: datetime = T0) -> list[dict]:
    return [{"event_id": f"e{i}", "user": f"u{i % 7}", "page": f"/p/{i % 5}",
             "ts": (base + timedelta(seconds=i * step_seconds)).isoformat().replace("+00:00", "Z")}
            for i in range(start, start + n)]


def jsonl(items: list[dict]) -> str:
    return "".join(json.dumps(e) + "\n" for e in items)
