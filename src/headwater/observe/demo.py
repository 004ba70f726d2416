"""Demo stage 'slo': nine simulated days of the shop's daily batch, the last one with planted
trouble, evaluated the way a scheduler would after each run.

The stage copies the demo project into ``<state>/slo-sandbox`` (so later stages see the real
build untouched) and runs its products there on a ``FrozenClock``. Nothing is faked: raw files
land (their mtime is the landing time), products really run partition by partition, and the
SLOs are computed from the ledger that those runs wrote. On the last day:

- the supplier feed is late (raw_suppliers does not land),
- the checkout export has no orders for the day (an empty stg_orders partition),
- one warehouse's stock feed is missing (a volume drop in stg_inventory_snapshots).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

PRODUCTS = ["stg_suppliers", "stg_products", "stg_price_changes", "dim_products", "stg_purchase_orders",
            "supplier_fill_rate", "stg_orders", "stg_inventory_snapshots"]
DAYS = 9
LAND, RUN = time(0, 30), time(2, 0)
# The shop's feeds land once a day: a 15m/60m freshness objective is for continuously fed
# products, so these daily ones declare 26h (the day plus two hours of slack) in the sandbox.
DAILY_FRESHNESS = "26h"


def _sandbox(platform) -> Path:
    box = platform.state_dir / "slo-sandbox"
    if box.exists():
        shutil.rmtree(box)
    state = platform.project.state_dir.resolve()
    shutil.copytree(platform.root, box, ignore=lambda d, names: [n for n in names
                                                                 if (Path(d) / n).resolve() == state])
    from ruamel.yaml import YAML

    yaml = YAML()
    for path in (box / "products").glob("*.yaml"):
        doc = yaml.load(path)
        for product in doc.get("products", []):
            if product["name"] in PRODUCTS:
                product.setdefault("slo", {})["freshness"] = DAILY_FRESHNESS
        yaml.dump(doc, path)
    return box


def _land(box: Path, sources, when: datetime, skip: set[str]) -> None:
    for name, source in sources.items():
        if name in skip:
            continue
        for path in box.glob(source.path):
            os.utime(path, (when.timestamp(), when.timestamp()))


def _plant(box: Path, day: date) -> dict:
    """Rewrite the raw files of ``day``: no orders that day, one warehouse's stock missing."""
    orders = pq.read_table(box / "data/orders.parquet")
    order_day = pc.cast(orders.column("order_ts"), "date32")  # timestamps are UTC
    keep = pc.not_equal(order_day, day)
    removed_orders = orders.num_rows - pc.sum(keep).as_py()
    pq.write_table(orders.filter(keep), box / "data/orders.parquet")
    stock = pq.read_table(box / "data/inventory_snapshots.parquet")
    warehouse = min(set(stock.column("warehouse").to_pylist()))
    drop = pc.and_(pc.equal(pc.cast(stock.column("snapshot_date"), "date32"), day),
                   pc.equal(stock.column("warehouse"), warehouse))
    removed_stock = pc.sum(drop).as_py()
    pq.write_table(stock.filter(pc.invert(drop)), box / "data/inventory_snapshots.parquet")
    return {"orders_removed": removed_orders, "warehouse_missing": warehouse, "stock_rows_removed": removed_stock}


def simulate(platform, console=None) -> dict:
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    box = _sandbox(platform)
    planted_file = box / "data/_planted.json"
    end = date.fromisoformat(json.loads(planted_file.read_text())["generator"]["end_date"]) \
        if planted_file.exists() else platform.clock.now().date() - timedelta(days=1)
    first = end - timedelta(days=DAYS - 1)
    clock = FrozenClock(datetime.combine(first, RUN, tzinfo=timezone.utc))
    hw = Platform(box, clock=clock)
    sent: list = []
    from headwater.observe.sinks.memory import MemorySink

    sink = MemorySink()
    planted = {}
    healthy_alerts = 0
    for i in range(DAYS):
        day = first + timedelta(days=i)
        morning = datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)
        trouble = day == end
        if trouble:
            planted = _plant(box, day)
        _land(box, hw.project.sources, morning.replace(hour=LAND.hour, minute=LAND.minute),
              skip={"raw_suppliers"} if trouble else set())
        clock.set(morning.replace(hour=RUN.hour, minute=RUN.minute))
        daily = [p for p in PRODUCTS if hw.project.products[p].partitioning is None]
        results = [hw.run(daily, trigger="schedule"),
                   hw.run([p for p in PRODUCTS if p not in daily], partition=day.isoformat(), trigger="schedule")]
        ev = hw.observe.evaluate(sinks=[sink])
        if not trouble:
            healthy_alerts += len(ev.fired)
        if console is not None:
            ok = all(r.ok for r in results)
            rows = sum(s.rows_written or 0 for r in results for s in r.steps)
            console.print(f"  {day}: runs {'ok' if ok else '[red]FAILED[/]'}, {rows:,} rows"
                          + (f", [red]{len(ev.fired)} alert(s)[/]" if ev.fired else ""))
    clock.set(datetime.combine(end + timedelta(days=1), time(4), tzinfo=timezone.utc))
    later = hw.observe.evaluate(sinks=[sink])
    sent = sink.sent
    return {"hw": hw, "box": box, "planted": planted, "healthy_alerts": healthy_alerts, "sent": sent,
            "evaluation": later, "days": [first, end]}


def stage(platform, console) -> dict:
    from headwater.cli.output import table

    if console is not None:
        console.print("\n[bold]slo[/]: nine simulated days of the daily batch; the last one goes wrong")
    sim = simulate(platform, console)
    hw = sim["hw"]
    report = hw.observe.report(PRODUCTS)
    incidents = hw.observe.incidents()
    breaches = {r.product: [n for n, s in r.slis.items() if s.status.value in ("breached", "anomalous")]
                for r in report}
    summary = {
        "sandbox": str(sim["box"]), "days": [d.isoformat() for d in sim["days"]],
        "evaluated_at": hw.clock.now().isoformat(), "planted": sim["planted"],
        "alerts_on_healthy_days": sim["healthy_alerts"],
        "breaches": {p: b for p, b in breaches.items() if b},
        "budgets": {r.product: {n: round(s.budget.left, 4) for n, s in r.slis.items()
                                if s.budget is not None and s.budget.left is not None and s.budget.left < 1}
                    for r in report if any(s.budget and s.budget.left is not None and s.budget.left < 1
                                           for s in r.slis.values())},
        "alerts_sent": [f"{a.severity} {a.title} ({a.state})" for a in sim["sent"]],
        "incidents": [{"id": i.incident_id, "root": i.root, "severity": i.severity, "affected": i.affected,
                       "alerts": sorted({f"{a['product']}:{a['sli']}" for a in i.alerts}),
                       "mttd_seconds": i.mttd.total_seconds()} for i in incidents],
    }
    if console is not None:
        rows = []
        for r in report:
            for name, s in r.slis.items():
                if s.status.value in ("breached", "anomalous") or s.firing:
                    rows.append([r.product, name, s.status.value, _fmt(s), s.objective or "",
                                 "" if not s.budget or s.budget.left is None else f"{s.budget.left:.0%}",
                                 ", ".join(sorted({f.severity for f in s.firing}))])
        console.print(table(f"SLO breaches at {summary['evaluated_at']} (planted: {sim['planted']})",
                            ["product", "sli", "status", "value", "objective", "budget left", "alert"], rows))
        for i, info in zip(incidents, summary["incidents"]):
            console.print(f"  incident {i.incident_id} [{i.severity}] root {i.root} ({i.root_kind}), "
                          f"MTTD {i.mttd}: alerts on {', '.join(info['alerts'])}; "
                          f"affected {', '.join(i.affected)}")
        console.print(f"  {len(sim['sent'])} alert notification(s) sent; try: headwater slo --project {sim['box']} "
                      f"--at {summary['evaluated_at']}  /  headwater incidents list --project {sim['box']}")
    return summary


def _fmt(s) -> str:
    if s.value is None:
        return ""
    if s.unit == "seconds":
        return f"{s.value / 3600:.1f}h"
    return f"{s.value:.1%}" if s.unit == "ratio" else f"{s.value:,.0f} {s.unit}"
