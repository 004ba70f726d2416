"""Dataset identity: one spelling per dataset (the naming spec's), one name in every output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.lineage.helpers import base_event

SPELLINGS = [  # (namespace, name) as producers write it -> as the naming spec spells it
    ("local file", ("file", "/tmp/x"), ("file", "/tmp/x")),
    ("file with empty authority", ("file://", "/tmp/x"), ("file", "/tmp/x")),
    ("file on localhost", ("file://localhost", "/tmp/x"), ("file", "/tmp/x")),
    ("file uri as name", ("file", "file:///tmp/x"), ("file", "/tmp/x")),
    ("remote file host kept", ("file://nas", "/x"), ("file://nas", "/x")),
    ("warehouse on s3 under file", ("file", "s3://lake/wh/shop/orders"), ("s3://lake", "wh/shop/orders")),
    ("postgresql scheme", ("postgresql://db:5432", "shop.public.orders"), ("postgres://db:5432", "shop.public.orders")),
    ("sqlalchemy driver", ("postgresql+psycopg://db:5432", "d.s.t"), ("postgres://db:5432", "d.s.t")),
    ("default port", ("postgres://db", "d.s.t"), ("postgres://db:5432", "d.s.t")),
    ("host case and credentials", ("postgres://me:pw@DB.Example:5433/", "d.s.t"), ("postgres://db.example:5433", "d.s.t")),
    ("s3a", ("s3a://bucket/", "key"), ("s3://bucket", "key")),
    ("gcs", ("gcs://bucket", "key"), ("gs://bucket", "key")),
    ("project name case kept", ("headwater://MyShop", "orders"), ("headwater://MyShop", "orders")),
    ("abfss container kept", ("abfss://c@svc.dfs.core.windows.net", "p"), ("abfss://c@svc.dfs.core.windows.net", "p")),
    ("catalog path namespace kept", ("file:/tmp/iceberg", "default.t"), ("file:/tmp/iceberg", "default.t")),
    ("bare namespace kept", ("food_delivery", "public.orders"), ("food_delivery", "public.orders")),
]


@pytest.mark.parametrize("written, spec", [s[1:] for s in SPELLINGS], ids=[s[0] for s in SPELLINGS])
def test_every_spelling_normalises_to_the_naming_spec(written, spec):
    from headwater.lineage.naming import normalise

    assert normalise(*written) == spec
    assert normalise(*spec) == spec


URIS = [
    ("file", "/tmp/x", "file:/tmp/x"),  # scheme:path, as the spec combines namespace and name
    ("file://nas", "/x", "file://nas/x"),
    ("postgres://db:5432", "shop.public.orders", "postgres://db:5432/shop.public.orders"),
    ("s3://bucket", "key/part", "s3://bucket/key/part"),
    ("bigquery", "p.d.t", "bigquery:p.d.t"),
    ("headwater://shop", "orders", "headwater://shop/orders"),
]


@pytest.mark.parametrize("namespace, name, expected", URIS, ids=[u[2] for u in URIS])
def test_a_dataset_reads_as_its_naming_spec_uri(namespace, name, expected):
    from headwater.lineage.naming import split_uri, uri

    assert uri(namespace, name) == expected
    assert split_uri(expected) == (namespace, name)


def _event(job: str, inputs=(), outputs=(), when="2026-01-02T00:00:00Z") -> dict:
    event = base_event(when=when)
    event["job"] = {"namespace": "airflow://prod", "name": job, "facets": {}}
    event["inputs"] = [{"namespace": ns, "name": n, **extra} for ns, n, *rest in inputs for extra in [rest[0] if rest else {}]]
    event["outputs"] = [{"namespace": ns, "name": n, **extra} for ns, n, *rest in outputs for extra in [rest[0] if rest else {}]]
    return event


def _symlink(ns: str, name: str) -> dict:
    return {"facets": {"symlinks": {"_producer": "t", "identifiers": [{"namespace": ns, "name": name, "type": "TABLE"}],
                                    "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SymlinksDatasetFacet.json"}}}


def test_one_postgres_table_spelled_three_ways_is_one_node(platform):
    orders = "shop.public.orders"
    platform.lineage.ingest([
        _event("load", outputs=[("postgresql://db.example:5432", orders)]),
        _event("report", inputs=[("postgres://db.example:5432", orders)], outputs=[("s3a://reports/", "o.csv")]),
        _event("audit", inputs=[("postgres://DB.example", orders)]),
    ])
    graph = platform.lineage.graph()
    found = sorted(n.id for n in graph.nodes.values() if n.name == orders)
    assert found == ["dataset:postgres://db.example:5432:shop.public.orders"]
    node = graph.nodes[found[0]]
    assert {graph.nodes[p].name for p in graph.parents[node.id]} == {"load"}
    assert {graph.nodes[c].name for c in graph.children[node.id]} == {"report", "audit"}
    # an id built from an event as written (as diagnosis builds them) finds the same node
    assert graph.canonical(f"dataset:postgresql://db.example:5432:{orders}") == node.id
    assert graph.canonical(f"dataset:postgres://DB.example:{orders}") == node.id
    for spelling in ("postgresql://db.example:5432/shop.public.orders", "postgres://DB.example/shop.public.orders",
                     "dataset:postgresql://db.example:5432:shop.public.orders"):
        assert platform.lineage.resolve(spelling) == node.id
    shown = platform.lineage.show("postgres://db.example:5432/shop.public.orders")
    assert shown["node"]["uri"] == "postgres://db.example:5432/shop.public.orders"
    assert {d["uri"] for d in shown["downstream"] if d["type"] == "DATASET"} == {"s3://reports/o.csv"}


def test_a_symlink_in_another_spelling_merges_and_reads_as_one_uri(platform):
    platform.lineage.ingest([
        _event("read", inputs=[("postgresql://wh:5432", "dw.public.orders")]),
        _event("write", outputs=[("s3://lake", "dw/orders", _symlink("postgres://WH", "dw.public.orders"))],
               when="2026-01-03T00:00:00Z"),
    ])
    graph = platform.lineage.graph()
    assert [n.id for n in graph.nodes.values() if n.name in ("dw.public.orders", "dw/orders")] == \
        ["dataset:s3://lake:dw/orders"]
    node = platform.lineage.show("postgresql://wh/dw.public.orders")["node"]
    assert node["id"] == "dataset:s3://lake:dw/orders"
    assert node["aliases"] == ["postgres://wh:5432/dw.public.orders"]


def test_column_lineage_in_another_spelling_reaches_the_same_columns(platform):
    facet = {"_producer": "t", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
             "fields": {"total": {"inputFields": [
                 {"namespace": "postgresql://db", "name": "s.public.orders", "field": "amount"}]}}}
    platform.lineage.ingest([_event("agg", inputs=[("postgres://db:5432", "s.public.orders")],
                                    outputs=[("postgres://db:5432", "s.public.totals", {"facets": {"columnLineage": facet}})])])
    impact = platform.lineage.impact("postgres://db:5432/s.public.orders.amount")
    assert [(c["dataset"], c["column"]) for c in impact["changed_columns"]] == \
        [("postgres://db:5432/s.public.totals", "total")]


def test_a_local_file_reads_as_file_colon_path_and_resolves_from_any_file_uri(platform, mini):
    path = str((mini / "data" / "orders.parquet").resolve())
    node = platform.lineage.show("raw_orders", "downstream", 1)["node"]
    assert (node["namespace"], node["name"]) == ("file", path)
    assert node["uri"] == f"file:{path}"
    assert node["aliases"] == ["headwater://mini/raw_orders"]
    assert "file//" not in json.dumps(platform.lineage.show("raw_orders"))
    for spelling in (f"file:{path}", f"file://{path}", f"file://localhost{path}", f"file/{path}", path):
        assert platform.lineage.resolve(spelling) == node["id"]


def test_show_and_impact_print_one_name_per_node(platform):
    platform.run()
    platform.lineage.ingest([_event("export", inputs=[("headwater://mini", "daily_revenue")],
                                    outputs=[("file://localhost", "/srv/exports/revenue.csv")])])
    shown = platform.lineage.show("raw_orders", "downstream")
    impact = platform.lineage.impact("raw_orders")
    assert shown["node"]["label"] == impact["target"]["label"] == "raw_orders"
    in_show = {d["id"]: d["label"] for d in shown["downstream"]}
    in_impact = {d["id"]: d["label"] for d in impact["datasets"] + impact["jobs"]}
    assert in_show == in_impact
    assert in_show["dataset:file:/srv/exports/revenue.csv"] == "file:/srv/exports/revenue.csv"
    assert in_show["job:airflow://prod:export"] == "airflow://prod/export"
    labels = {d["label"] for d in shown["downstream"]}
    assert {"stg_orders", "daily_revenue"} <= labels and not any("file//" in x for x in labels)


def _hw(*args: str, cwd) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "headwater.cli", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_cli_json_gives_the_uri_and_label_of_every_node(mini):
    shown = json.loads(_hw("lineage", "show", "raw_orders", "--json", cwd=mini).stdout)
    impact = json.loads(_hw("impact", "raw_orders", "--json", cwd=mini).stdout)
    path = str((mini / "data" / "orders.parquet").resolve())
    assert shown["node"]["uri"] == impact["target"]["uri"] == f"file:{path}"
    assert shown["node"]["label"] == impact["target"]["label"] == "raw_orders"
    assert {d["label"] for d in shown["downstream"]} == {d["label"] for d in impact["datasets"] + impact["jobs"]}


def test_cli_text_prints_file_uris_and_one_name(mini):
    path = str((mini / "data" / "orders.parquet").resolve())
    shown = _hw("lineage", "show", "raw_orders", cwd=mini).stdout
    impact = _hw("impact", "raw_orders", cwd=mini).stdout
    assert "file//" not in shown + impact
    assert f"file:{path}" in shown.replace("\n", "")
    assert "downstream of raw_orders" in impact


@pytest.mark.parametrize(("warehouse", "expected"), [
    ("/tmp/wh", ("file", "/tmp/wh/hw/orders")),
    ("file:///tmp/wh/", ("file", "/tmp/wh/hw/orders")),
    ("s3://lake/wh", ("s3://lake", "wh/hw/orders")),
    ("s3a://lake/wh", ("s3://lake", "wh/hw/orders")),
    ("file://localhost/tmp/wh", ("file", "/tmp/wh/hw/orders")),
])
def test_every_lane_names_a_product_table_in_the_specs_spelling(warehouse, expected):
    from types import SimpleNamespace

    from headwater.lanes.inputs import table_dataset

    ref = table_dataset(SimpleNamespace(warehouse=warehouse, namespace="hw"), "shop", "orders", rows=3)
    assert (ref.namespace, ref.name) == expected
    event = ref.to_event("output")
    assert event["facets"]["symlinks"]["identifiers"] == [{"namespace": "headwater://shop", "name": "orders",
                                                          "type": "TABLE"}]
    assert event["outputFacets"]["outputStatistics"]["rowCount"] == 3


def test_a_captured_postgres_table_is_named_by_host_and_port_without_credentials(tmp_path):
    from headwater.lanes.cdc.lineage import source_dataset
    from tests.cdc.helpers import cdc_project

    platform = cdc_project(tmp_path / "p", kind="postgres", url="postgresql+psycopg://app:secret@DB.Example/shop",
                           table="orders", slot="hw_slot")
    ref = source_dataset(platform.project.product("products_mirror"), "postgres:DB.Example/shop")
    assert (ref.namespace, ref.name) == ("postgres://db.example:5432", "shop.public.orders")
