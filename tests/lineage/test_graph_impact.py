"""One graph from headwater's runs and foreign events; symlinks; column lineage; impact."""

from __future__ import annotations

from tests.lineage.helpers import base_event
from tests.projects import MINI_FILES, mini_project


def _external(job: str, inputs, outputs, when="2026-01-02T00:00:00Z", **facets) -> dict:
    event = base_event(when=when)
    event["job"] = {"namespace": "airflow://prod", "name": job, "facets": facets}
    event["inputs"] = [{"namespace": ns, "name": name} for ns, name in inputs]
    event["outputs"] = [{"namespace": ns, "name": name, **extra} for ns, name, *rest in outputs
                        for extra in [rest[0] if rest else {}]]
    return event


def test_headwater_runs_and_declarations_meet_on_one_node_per_table(platform):
    before = platform.lineage.graph()
    declared = {n.id for n in before.nodes.values()}
    platform.run()
    graph = platform.lineage.graph()
    assert {n.id for n in graph.nodes.values()} == declared  # events landed on declared nodes
    table = graph.get("dataset:headwater://mini:daily_revenue")
    assert table.namespace == "file" and table.name.endswith("/mini/daily_revenue")
    assert {"events", "project"} <= table.origins
    assert [f["name"] for f in table.facets["schema"]["fields"]] == ["order_date", "country", "orders", "revenue"]
    upstream = platform.lineage.show("daily_revenue", "upstream")["upstream"]
    names = {(u["type"], u.get("product") or u.get("source")) for u in upstream}
    assert names == {("JOB", "daily_revenue"), ("DATASET", "stg_orders"), ("DATASET", "stg_customers"),
                     ("JOB", "stg_orders"), ("JOB", "stg_customers"), ("DATASET", "raw_orders"),
                     ("DATASET", "raw_customers")}


def test_a_foreign_job_reading_a_product_by_its_symlink_joins_the_graph(platform):
    platform.run()
    result = platform.lineage.ingest([_external(
        "export_revenue", [("headwater://mini", "daily_revenue")], [("s3://exports", "revenue.csv")])])
    assert result.stored == 1
    impact = platform.lineage.impact("stg_orders")
    jobs = {j["name"] for j in impact["jobs"]}
    datasets = {d["name"] for d in impact["datasets"]}
    assert jobs == {"daily_revenue", "export_revenue"}
    assert "revenue.csv" in datasets


def test_a_symlink_seen_later_merges_two_nodes_into_one(platform):
    # first a consumer names the table by a catalog name, later its producer reveals the symlink
    reader = _external("read_hive", [("hive://metastore", "db.orders")], [("s3://out", "x")])
    writer = _external("write_orders", [], [("s3://lake", "warehouse/orders", {"facets": {"symlinks": {
        "_producer": "t", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json",
        "identifiers": [{"namespace": "hive://metastore", "name": "db.orders", "type": "TABLE"}]}}})],
        when="2026-01-03T00:00:00Z")
    platform.lineage.ingest([reader])
    platform.lineage.graph()
    platform.lineage.ingest([writer])
    graph = platform.lineage.graph()
    node = graph.get("dataset:hive://metastore:db.orders")
    assert node.id == "dataset:s3://lake:warehouse/orders"
    assert graph.nodes.get("dataset:hive://metastore:db.orders") is None
    assert platform.lineage.resolve("s3://lake/warehouse/orders") == node.id
    downstream = {n["name"] for n in platform.lineage.show("job:airflow://prod:write_orders",
                                                           "downstream")["downstream"]}
    assert downstream == {"warehouse/orders", "read_hive", "x"}


def test_renaming_a_column_lists_the_jobs_that_break_and_the_declared_consumers(tmp_path):
    from headwater.platform import Platform

    files = dict(MINI_FILES)
    files["products/sales.yaml"] = MINI_FILES["products/sales.yaml"].replace(
        "      partitioning: {column: order_date}\n        \"\"\"", "") + """
          - name: top_customers
            domain: sales
            owner: {team: crm, oncall: crm@example.com, people: [ana]}
            tier: ops
            inputs: [stg_orders]
            transform: {sql: sql/top_customers.sql}
            consumers:
              - {name: crm-dashboard, owner: crm, reads: 1h}
          - name: order_counts
            domain: sales
            owner: {team: sales-data, oncall: sales-oncall@example.com}
            tier: ops
            inputs: [stg_orders]
            transform: {sql: sql/order_counts.sql}
          - name: revenue_report
            domain: finance
            owner: {team: finance-data, oncall: fin@example.com}
            tier: finance
            inputs: [daily_revenue]
            transform: {sql: sql/revenue_report.sql}
            consumers:
              - {name: cfo-weekly, owner: finance, reads: 1d}
        """
    files["products/sales.yaml"] = files["products/sales.yaml"].replace('        """\n', "")
    files["sql/top_customers.sql"] = ("SELECT customer_id, sum(amount) AS spent FROM stg_orders "
                                      "GROUP BY customer_id ORDER BY spent DESC LIMIT 10\n")
    files["sql/order_counts.sql"] = "SELECT order_date, count(*) AS orders FROM stg_orders GROUP BY ALL\n"
    files["sql/revenue_report.sql"] = "SELECT order_date, sum(revenue) AS revenue FROM daily_revenue GROUP BY ALL\n"
    platform = Platform(mini_project(tmp_path / "p", **files))
    platform.run()
    impact = platform.lineage.impact("stg_orders.amount")
    assert impact["column"] == "amount"
    assert {j["product"] for j in impact["broken_jobs"]} == {"daily_revenue", "top_customers"}
    changed = {(c["product"], c["column"]) for c in impact["changed_columns"]}
    assert changed == {("daily_revenue", "revenue"), ("top_customers", "spent"), ("revenue_report", "revenue")}
    stale = {s.get("product") for s in impact["stale"]}
    assert stale == {"daily_revenue", "top_customers", "revenue_report"}
    consumers = {(c["name"], c["owner"], c["via"]) for c in impact["consumers"]}
    assert consumers == {("crm-dashboard", "crm", "top_customers"), ("cfo-weekly", "finance", "revenue_report")}
    owners = {j["product"]: j["oncall"] for j in impact["broken_jobs"]}
    assert owners == {"daily_revenue": "fin@example.com", "top_customers": "crm@example.com"}
    # order_counts reads stg_orders but never the amount column: untouched
    assert "order_counts" not in {j.get("product") for j in impact["broken_jobs"] + impact["stale"]}
    # a column used only in a join breaks its reader without flowing into any output
    join = platform.lineage.impact("stg_customers.customer_id")
    assert {j["product"] for j in join["broken_jobs"]} == {"daily_revenue"}


def test_column_lineage_facet_drives_column_impact_for_foreign_jobs(platform):
    facet = {"_producer": "t", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
             "fields": {"total": {"inputFields": [{"namespace": "pg://db", "name": "public.orders", "field": "amount",
                                                   "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION"}]}]},
                        "n": {"inputFields": [{"namespace": "pg://db", "name": "public.orders", "field": "id"}]}}}
    first = _external("agg", [("pg://db", "public.orders")], [("pg://db", "public.totals", {"facets": {"columnLineage": facet}})])
    second = _external("report", [("pg://db", "public.totals")], [("s3://r", "report", {"facets": {"columnLineage": {
        **facet, "fields": {"grand": {"inputFields": [{"namespace": "pg://db", "name": "public.totals", "field": "total"}]}}}}})])
    platform.lineage.ingest([first, second])
    impact = platform.lineage.impact("dataset:pg://db:public.orders.amount")
    changed = {(c["dataset"], c["column"]) for c in impact["changed_columns"]}
    assert changed == {("pg://db/public.totals", "total"), ("s3://r/report", "grand")}
    assert {j["name"] for j in impact["unknown_use"]} == {"agg"}  # no SQL known: flagged, not guessed


def test_headwater_own_events_are_valid_openlineage(platform):
    from headwater.lineage.validate import problems

    platform.run()
    events = platform.ledger.events()
    assert len(events) == 6  # START and COMPLETE for each of three products
    assert [(e["job"]["name"], problems(e)) for e in events if problems(e)] == []


def test_concurrent_ingest_of_the_same_events_stores_each_once(platform):
    from concurrent.futures import ThreadPoolExecutor

    events = [base_event(when=f"2026-01-01T00:00:{i:02d}Z") for i in range(50)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: platform.lineage.ingest(events), range(4)))
    assert sum(r.stored for r in results) == 50
    assert sum(r.duplicates for r in results) == 150
    assert len(platform.ledger.events()) == 50
