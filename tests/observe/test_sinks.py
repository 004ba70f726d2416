"""Alert sinks: webhook delivery against a real local HTTP server, JSON lines, Prometheus."""

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from headwater.observe.sinks import Alert, SinkError, make_sink
from headwater.observe.sinks.prometheus import render

ALERT = Alert(key="stg_orders:freshness:page", severity="page", title="stg_orders freshness",
              message="freshness burning its error budget (1h 20.0x, 5m 30.0x)",
              at=datetime(2026, 1, 6, 1, 30, tzinfo=timezone.utc), product="stg_orders",
              labels={"sli": "freshness"}, incident_id=7)


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 answering with the queued status codes (then 200)."""
    received: list[dict] = []
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(body), "content_type": self.headers["Content-Type"]})
            code = statuses.pop(0) if statuses else 200
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", received, statuses
    httpd.shutdown()
    httpd.server_close()


def test_webhook_delivers_a_slack_compatible_payload(server):
    url, received, _ = server
    sink = make_sink({"kind": "webhook", "url": url})
    sink.send(ALERT)
    (request,) = received
    assert request["content_type"] == "application/json"
    body = request["body"]
    assert body["text"].startswith(":rotating_light: [PAGE] stg_orders freshness: freshness burning")
    assert body["blocks"][0]["type"] == "header"
    assert body["blocks"][1]["text"]["text"] == ALERT.message
    assert {"type": "mrkdwn", "text": "*incident*\n7"} in body["blocks"][2]["fields"]


def test_webhook_retries_with_exponential_backoff(server):
    url, received, statuses = server
    statuses.extend([503, 500, 429])
    waits: list[float] = []
    sink = make_sink({"kind": "webhook", "url": url, "retries": 4, "backoff": 0.5, "sleep": waits.append})
    sink.send(ALERT)
    assert len(received) == 4 and sink.attempts == 4
    assert waits == [0.5, 1.0, 2.0]  # the 429's Retry-After (2s) is honoured
    assert all(r["body"] == received[0]["body"] for r in received)


def test_webhook_gives_up_and_does_not_retry_a_client_error(server):
    url, received, statuses = server
    statuses.extend([503] * 3)
    waits: list[float] = []
    sink = make_sink({"kind": "webhook", "url": url, "retries": 2, "backoff": 1, "sleep": waits.append})
    with pytest.raises(SinkError, match="after 3 attempts: HTTP 503"):
        sink.send(ALERT)
    assert waits == [1, 2]
    statuses.append(404)
    with pytest.raises(SinkError, match="refused"):
        sink.send(ALERT)
    assert len(received) == 4  # the 404 was tried once


def test_webhook_retries_a_refused_connection():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    waits: list[float] = []
    sink = make_sink({"kind": "webhook", "url": f"http://127.0.0.1:{port}/", "retries": 1,
                      "backoff": 0.1, "sleep": waits.append, "timeout": 2})
    with pytest.raises(SinkError, match="2 attempts"):
        sink.send(ALERT)
    assert waits == [0.1]


def test_jsonl_and_prometheus_textfile(tmp_path):
    jsonl = make_sink({"kind": "jsonl", "path": tmp_path / "a" / "alerts.jsonl"})
    jsonl.send(ALERT)
    jsonl.send(Alert(**{**vars(ALERT), "state": "resolved"}))
    lines = [json.loads(x) for x in (tmp_path / "a" / "alerts.jsonl").read_text().splitlines()]
    assert [x["state"] for x in lines] == ["firing", "resolved"] and lines[0]["at"] == "2026-01-06T01:30:00+00:00"
    prom = make_sink({"kind": "prometheus", "path": tmp_path / "hw.prom"})
    prom.send(ALERT)
    text = (tmp_path / "hw.prom").read_text()
    assert 'headwater_alert_firing{key="stg_orders:freshness:page",product="stg_orders",' \
           'severity="page",source="headwater"} 1' in text
    prom.send(Alert(**{**vars(ALERT), "state": "resolved"}))
    assert text.replace("} 1", "} 0") == (tmp_path / "hw.prom").read_text()


def test_exposition_format_and_escaping():
    text = render([("m_total", {"a": 'x"y\\z\nw'}, 1.5), ("m_total", {}, float("inf")), ("b", {}, 2.0)],
                  {"m_total": "help text"})
    assert text.splitlines() == ["# HELP b b", "# TYPE b gauge", "b 2", "# HELP m_total help text",
                                 "# TYPE m_total gauge", 'm_total{a="x\\"y\\\\z\\nw"} 1.5', "m_total +Inf"]


def test_registry_names_the_kinds():
    with pytest.raises(Exception, match="use one of: console, jsonl, webhook, prometheus, memory"):
        make_sink({"kind": "pager"})


def test_project_sinks_receive_the_alerts_of_an_evaluation(server, tmp_path):
    """alerting.sinks in headwater.yaml: pages to the webhook, everything to a JSON lines file."""
    import datetime as dt
    from datetime import timedelta

    from headwater.clock import FrozenClock
    from headwater.platform import Platform
    from tests.observe.helpers import write_days
    from tests.observe.test_incidents import MON, late_feed_project

    url, received, _ = server
    root = late_feed_project(tmp_path)
    (root / "headwater.yaml").write_text(
        "name: mini\nalerting:\n  sinks:\n"
        f"    - {{kind: webhook, url: '{url}', severities: [page], retries: 0}}\n"
        "    - {kind: jsonl, path: out/alerts.jsonl}\n")
    clock = FrozenClock(MON + timedelta(hours=1))
    hw = Platform(root, clock=clock)
    write_days(root, {dt.date(2026, 1, 4): 4}, landed=MON + timedelta(minutes=30))
    assert hw.run().ok
    clock.set(MON + timedelta(days=1, hours=1))
    assert hw.run().ok
    clock.set(MON + timedelta(days=1, hours=1, minutes=30))
    ev = hw.observe.evaluate()
    assert ev.delivery_errors == [] and len(ev.fired) == 3
    assert sorted(r["body"]["text"].split(":")[2].strip() for r in received) == \
        ["[PAGE] daily_revenue freshness", "[PAGE] stg_orders freshness"]
    lines = [json.loads(x) for x in (root / "out/alerts.jsonl").read_text().splitlines()]
    assert sorted(x["key"] for x in lines) == ["daily_revenue:freshness", "raw_orders:arrival", "stg_orders:freshness"]
