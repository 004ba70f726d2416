"""Demo stage 'contracts': the planted bad rows of the generated data, found in quarantine."""

from __future__ import annotations

import json

# planted kind -> (product, rule id, id columns in the product, id lists in _planted.json)
PLANTED = {
    "duplicate_orders": ("stg_orders", "primary_key.unique", ("order_id",), ("order_ids",)),
    "malformed_emails": ("stg_customers", "email_format", ("customer_id",), ("customer_ids",)),
    "negative_payments": ("stg_payments", "amount_not_negative", ("payment_id",), ("payment_ids",)),
    "orphan_order_items": ("stg_order_items", "product_exists", ("order_id", "line_no"), ("order_ids", "line_nos")),
    "orphan_returns": ("stg_returns", "order_exists", ("return_id",), ("return_ids",)),
}


def stage(platform, console) -> dict:
    """Compare the quarantine with the generator's ground truth, row by row."""
    from headwater.cli.output import table

    if not any(platform.lakehouse.exists(p) for p, *_ in PLANTED.values()):
        platform.run(trigger="demo")
    truth_path = platform.root / "data" / "_planted.json"
    truth = json.loads(truth_path.read_text())["planted"] if truth_path.exists() else {}
    rows, summary = [], {}
    for kind, (product, rule, cols, keys) in PLANTED.items():
        if kind not in truth or product not in platform.project.products:
            continue
        planted = set(zip(*(truth[kind][k] for k in keys)))
        found: set = set()
        reasons: set = set()
        if platform.lakehouse.exists(f"{product}__quarantine"):
            q = platform.contracts.quarantine_rows(product, rule=rule, limit=None)
            found = set(zip(*(q.column(c).to_pylist() for c in cols)))
            reasons = {r for rs in q.column("_hw_reasons").to_pylist() for r in rs}
        ok = planted <= found
        summary[kind] = {"product": product, "rule": rule, "planted": len(planted),
                         "quarantined": len(found & planted), "all_found": ok, "reasons": sorted(reasons)}
        rows.append([kind, product, rule, len(planted), len(found & planted), "yes" if ok else "NO",
                     "; ".join(sorted(reasons))])
    steps = {s.product: s for s in platform.ledger.steps(status="success", limit=200)}
    balance = {p: steps[p].details.get("conservation") for p, *_ in PLANTED.values()
               if p in steps and steps[p].details}
    summary["conservation"] = {p: c for p, c in balance.items() if c}
    check = platform.contracts.check("stg_orders") if platform.lakehouse.exists("stg_orders") else None
    summary["check_stg_orders"] = {"passed": check.passed, "rules": len(check.results)} if check else None
    if console is not None:
        console.print(table("contracts: planted bad rows vs quarantine",
                            ["planted", "product", "rule", "planted rows", "in quarantine", "all found", "reason"],
                            rows))
        console.print(table("conservation per batch (rows in = written + quarantined + filtered)",
                            ["product", "rows in", "written", "quarantined", "filtered", "balanced"],
                            [[p, c["rows_in"], c["written"], c["quarantined"], c["filtered_by_transform"],
                              c["balanced"]] for p, c in summary["conservation"].items()]))
        if check:
            console.print(f"contract check stg_orders: {len(check.results)} rules on the table, "
                          f"{'all pass' if check.passed else 'FAILURES'} (the duplicates were kept out)")
        console.print("try: headwater quarantine show stg_orders   |   headwater contract check stg_payments")
    return summary
