"""Demo stage 'streaming': clickstream and price/availability events, with planted duplicates and
late events, through the inbox into Iceberg, including a 5-minute availability aggregate."""

from __future__ import annotations

import random
import time
from datetime import timedelta

CLICKS, PDP = "clickstream_live", "pdp_availability"
PAGES = ("home", "search", "product", "cart", "checkout", "purchase")


def events(now, seed: int = 11, clicks: int = 20_000, updates: int = 4_000) -> tuple[dict, dict]:
    """Thirty minutes of events ending at ``now``; returns {product: events} and what was planted."""
    rng = random.Random(seed)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=30)
    span = 30 * 60
    iso = lambda t: t.isoformat().replace("+00:00", "Z")
    click = [{"event_id": f"c{i}", "session_id": f"s{i // 8}", "page": rng.choice(PAGES),
              "product_id": f"P{rng.randrange(200):04d}", "event_time": iso(start + timedelta(seconds=span * i / clicks))}
             for i in range(clicks)]
    pdp = [{"event_id": f"p{i}", "product_id": f"P{rng.randrange(50):04d}", "warehouse": rng.choice("ABC"),
            "price": round(rng.uniform(5, 200), 2), "available": rng.random() > 0.15,
            "event_time": iso(start + timedelta(seconds=span * i / updates))} for i in range(updates)]
    planted, out = {}, {}
    for name, items, late_after in ((CLICKS, click, timedelta(minutes=10)), (PDP, pdp, timedelta(minutes=6))):
        arrival = [(float(i), e) for i, e in enumerate(items)]
        n = len(items)
        dups = [rng.randrange(n) for _ in range(n // 33)]  # resent shortly after the original
        arrival += [(i + rng.uniform(1, 300), dict(items[i])) for i in dups]
        late = [rng.randrange(n // 2, n) for _ in range(n // 100)]  # corrections, ten minutes late
        arrival += [(i + rng.uniform(1, 300), {**items[i], "event_id": f"{items[i]['event_id']}-late{j}",
                                               "event_time": iso(parse(items[i]["event_time"]) - late_after)})
                    for j, i in enumerate(late)]
        arrival.sort(key=lambda pair: pair[0])
        out[name] = [e for _, e in arrival]
        planted[name] = {"events": len(arrival), "duplicates": len(dups), "late": len(late)}
    return out, planted


def parse(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stage(platform, console) -> dict:
    from headwater.cli.output import table

    streaming = platform.streaming
    names = [n for n in (CLICKS, PDP) if n in platform.project.products]
    if not names:
        return {"skipped": "the project declares no streaming demo products"}
    batches, planted = events(platform.clock.now())
    summary: dict = {"products": {}}
    for name in names:
        items = batches[name]
        for i in range(0, len(items), 5_000):  # as producers would post them, batch by batch
            streaming.ingest(name, items[i:i + 5_000])
        started = time.perf_counter()
        result = streaming.run(name, until_idle=0.5, trigger="demo")
        s = result.stats
        summary["products"][name] = {"status": result.status, "planted": planted[name],
                                     "events": s["rows_in"], "written": s["written"],
                                     "duplicates": s["duplicates"], "late": s["late"],
                                     "late_quarantined": s["late_quarantined"],
                                     "late_updated": s["late_updated"], "watermark": s["watermark"],
                                     "events_per_second": s["events_per_second"],
                                     "seconds": round(time.perf_counter() - started, 2),
                                     "error": result.error}
    agg = f"{PDP}__availability_5m"
    top = []
    if PDP in names and platform.lakehouse.exists(agg):
        session = platform.engine.session()
        try:
            session.register_plan("w", platform.lakehouse.plan(agg))
            summary["availability_windows"] = session.query("SELECT count(*) AS n FROM w").column(0)[0].as_py()
            top = session.query("SELECT window_start, product_id, updates, round(available_share, 2) AS available, "
                                "min_price, max_price FROM w ORDER BY window_start DESC, updates DESC "
                                "LIMIT 5").to_pylist()
        finally:
            session.close()
    if console is not None:
        rows = [[n, p["status"], f"{p['planted']['events']:,}", f"{p['written']:,}",
                 f"{p['duplicates']:,} ({p['planted']['duplicates']:,} planted)",
                 f"{p['late']:,} ({p['planted']['late']:,} planted)", f"{p['events_per_second']:,.0f}/s",
                 p["watermark"]] for n, p in summary["products"].items()]
        console.print(table("streaming: events through the inbox into Iceberg, exactly once",
                            ["product", "status", "sent", "written", "duplicates removed", "late",
                             "throughput", "watermark"], rows))
        if top:
            console.print(table(f"{agg}: newest closed 5-minute windows "
                                f"({summary['availability_windows']:,} window rows)",
                                list(top[0]), [list(r.values()) for r in top]))
    return summary
