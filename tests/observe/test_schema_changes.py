"""Schema changes observed between snapshots of a product's table are events."""

from datetime import timedelta


def test_new_missing_and_retyped_columns(sim):
    hw, clock = sim
    sql = hw.root / "sql/stg_customers.sql"

    def run(text, **kw):
        sql.write_text(text)
        hw.__dict__.pop("project", None)  # re-read the changed SQL
        clock.advance(timedelta(hours=1))
        assert hw.run(["stg_customers"], **kw).ok

    run("SELECT customer_id, country FROM raw_customers\n")
    run("SELECT customer_id, country, 'gold' AS segment FROM raw_customers\n")
    changes = hw.observe.schema_changes("stg_customers")
    assert [(c.kind, c.column, c.before, c.after) for c in changes] == [("new", "segment", None, "string")]
    assert changes[0].at == clock.now()  # the commit time from the ledger (simulated clock)
    run("SELECT CAST(customer_id AS VARCHAR) AS customer_id, 'gold' AS segment FROM raw_customers\n",
        full_refresh=True)
    latest = sorted((c.kind, c.column, c.before, c.after) for c in hw.observe.schema_changes("stg_customers")
                    if c.at == clock.now())
    assert latest == [("missing", "country", "string", None), ("retyped", "customer_id", "long", "string")]
    assert hw.observe.schema_changes("daily_revenue") == []  # never built: no events
