"""dbt artifacts (manifest v1-v12, run_results v1-v6, catalog) into the graph, runs and contracts."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from tests.lineage.helpers import JAFFLE, THIRD_PARTY

DBT = THIRD_PARTY / "dbt"


def _artifacts(pattern: str, kind: str) -> list:
    out = []
    for path in sorted(DBT.rglob(pattern)):
        try:
            url = json.loads(path.read_text()).get("metadata", {}).get("dbt_schema_version", "")
        except (json.JSONDecodeError, AttributeError):
            continue
        if re.search(rf"/{kind}/v\d+\.json", url or ""):
            out.append(path)
    return out


MANIFESTS = _artifacts("manifest*.json", "manifest")
RUN_RESULTS = _artifacts("run_results*.json", "run-results")


def _version(path, kind):
    url = json.loads(path.read_text())["metadata"]["dbt_schema_version"]
    return int(re.search(rf"/{kind}/v(\d+)\.json", url).group(1))


def test_the_collection_covers_every_supported_version():
    assert {_version(p, "manifest") for p in MANIFESTS} == set(range(1, 13))
    assert {_version(p, "run-results") for p in RUN_RESULTS} == set(range(1, 7))


def test_jaffle_shop_imports_into_the_right_graph(platform):
    manifest = json.loads((JAFFLE / "manifest.json").read_text())
    report = platform.lineage.import_dbt(str(JAFFLE / "manifest.json"), str(JAFFLE / "run_results.json"),
                                         str(JAFFLE / "catalog.json"))
    assert report["nodes"] == {"model": 5, "seed": 3, "test": 20}
    graph = platform.lineage.graph()
    relation = {uid: f"dataset:duckdb://{n['database']}:{n['schema']}.{n['alias']}"
                for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    for uid, parents in manifest["parent_map"].items():
        job = graph.get(f"job:dbt://jaffle_shop:{uid}")
        assert job is not None, uid
        read = {p for p in graph.parents[job.id] if p.startswith("dataset:duckdb://")}
        assert read == {relation[p] for p in parents}, uid
        if uid in relation:
            assert graph.children[job.id] == {relation[uid]}
        else:  # a test writes nothing
            assert graph.children[job.id] == set()
    customers = graph.get(relation["model.jaffle_shop.customers"])
    catalog = json.loads((JAFFLE / "catalog.json").read_text())["nodes"]["model.jaffle_shop.customers"]
    assert {f["name"]: f["type"] for f in customers.facets["schema"]["fields"]} == \
        {c["name"]: c["type"] for c in catalog["columns"].values()}
    upstream = platform.lineage.show(relation["model.jaffle_shop.customers"], "upstream")["upstream"]
    assert {n["name"] for n in upstream if n["type"] == "DATASET"} >= {"main.raw_customers", "main.raw_orders",
                                                                      "main.raw_payments"}


def test_node_timings_become_runs(platform):
    platform.lineage.import_dbt(str(JAFFLE / "manifest.json"), str(JAFFLE / "run_results.json"))
    results = json.loads((JAFFLE / "run_results.json").read_text())["results"]
    events = [e for e in platform.ledger.events() if "run" in e]
    by_job: dict[str, dict[str, str]] = {}
    for e in events:
        by_job.setdefault(e["job"]["name"], {})[e["eventType"]] = e["eventTime"]
    assert len(by_job) == len(results)
    for r in results:
        execute = next(t for t in r["timing"] if t["name"] == "execute")
        times = by_job[r["unique_id"]]
        assert times["START"] == execute["started_at"]
        assert times["COMPLETE" if r["status"] in ("success", "pass") else "FAIL"] == execute["completed_at"]
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in events}
    assert len(parents) == 1  # one dbt invocation, the parent of every node run
    seed = next(e for e in events if e["job"]["name"] == "seed.jaffle_shop.raw_payments" and e["eventType"] == "COMPLETE")
    assert seed["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 113


def test_reimport_is_idempotent(platform):
    args = (str(JAFFLE / "manifest.json"), str(JAFFLE / "run_results.json"))
    first = platform.lineage.import_dbt(*args)
    again = platform.lineage.import_dbt(*args)
    assert first["events"]["stored"] > 0
    assert again["events"]["stored"] == 0 and again["events"]["duplicates"] == first["events"]["received"]


@pytest.mark.parametrize("path", MANIFESTS, ids=[str(p.relative_to(DBT)) for p in MANIFESTS])
def test_every_manifest_version_imports(platform, path):
    manifest = json.loads(path.read_text())
    kinds = ("model", "seed", "snapshot", "test")
    expected_jobs = {uid for uid, n in manifest.get("nodes", {}).items()
                     if (n.get("resource_type") or uid.split(".")[0]) in kinds}
    expected_jobs |= set(manifest.get("exposures") or {})
    report = platform.lineage.import_dbt(str(path))
    assert report["manifest_version"] == _version(path, "manifest")
    assert report["events"]["rejected"] == []
    graph = platform.lineage.graph()
    ns = f"dbt://{report['project']}"
    found = {n.name for n in graph.nodes.values() if n.kind == "job" and n.namespace == ns}
    assert found == expected_jobs
    for source in (manifest.get("sources") or {}).values():  # sources are datasets
        relation = ".".join(p for p in (source.get("schema"), source.get("identifier") or source["name"]) if p)
        ds_ns = f"{report['adapter']}://{source.get('database') or report['project']}"
        assert graph.get(f"dataset:{ds_ns}:{relation}") is not None, relation


@pytest.mark.parametrize("path", RUN_RESULTS, ids=[str(p.relative_to(DBT)) for p in RUN_RESULTS])
def test_every_run_results_version_imports(platform, path):
    manifest = path.parent / "manifest.json"
    if not manifest.exists():  # dbt-artifacts-parser keeps results apart: they are jaffle_shop's
        manifest = next(p for p in MANIFESTS if "dbt-artifacts-parser/tests/resources/manifest/v12" in str(p))
    nodes = json.loads(manifest.read_text())["nodes"]
    results = json.loads(path.read_text())["results"]
    timed = [r for r in results if r.get("unique_id") in nodes and any(
        t.get("name") in ("execute", "compile") and t.get("started_at") for t in r.get("timing") or ())]
    report = platform.lineage.import_dbt(str(manifest), str(path))
    assert report["runs"] == len(timed)
    for event in platform.ledger.events():
        if event.get("eventType") in ("COMPLETE", "FAIL"):
            start = next(e for e in platform.ledger.events(run_id=event["run"]["runId"]) if e["eventType"] == "START")
            assert datetime.fromisoformat(start["eventTime"].replace("Z", "+00:00")) <= \
                datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))


def test_an_exposure_is_a_consumer_in_impact(platform):
    path = DBT / "dbt-core/tests/functional/artifacts/data/state/v12/manifest.json"
    platform.lineage.import_dbt(str(path))
    impact = platform.lineage.impact("job:dbt://test:model.test.my_model")
    consumers = {(c["name"], c["owner"], c["kind"]) for c in impact["consumers"]}
    assert ("exposure.test.simple_exposure", "something@example.com", "dbt exposure") in consumers


def test_enforced_model_contracts_become_headwater_contracts(platform, tmp_path):
    from headwater.contracts.loader import load_contract

    manifest = json.loads((JAFFLE / "manifest.json").read_text())
    node = manifest["nodes"]["model.jaffle_shop.customers"]
    node["config"]["contract"] = {"enforced": True, "alias_types": True}
    types = {"customer_id": "integer", "first_name": "varchar", "last_name": "varchar",
             "first_order": "date", "most_recent_order": "date", "number_of_orders": "bigint",
             "customer_lifetime_value": "double"}
    for name, col in node["columns"].items():
        col["data_type"] = types.get(name, "varchar")
    node["columns"]["customer_id"]["constraints"] = [{"type": "not_null"}, {"type": "primary_key"}]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    report = platform.lineage.import_dbt(str(path), contracts_dir=str(tmp_path / "contracts"))
    assert [p.rsplit("/", 1)[-1] for p in report["contracts"]] == ["customers.yaml"]
    contract = load_contract(tmp_path / "contracts" / "customers.yaml")
    assert contract.product == "customers"
    assert contract.primary_key.columns == ["customer_id"]
    cols = {c.name: c for c in contract.columns}
    assert set(cols) == set(node["columns"])
    assert cols["customer_id"].type == "int" and cols["customer_id"].nullable is False
    assert cols["number_of_orders"].type == "long" and cols["first_order"].type == "date"
    # jaffle_shop tests customer_id unique and not null; those tests are not contract constraints
    assert cols["first_name"].nullable is True


def test_a_file_that_is_not_an_artifact_is_named(platform, tmp_path):
    from headwater.errors import HeadwaterError

    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(HeadwaterError, match="not a dbt manifest"):
        platform.lineage.import_dbt(str(bad))


def test_an_edited_contract_is_never_overwritten(platform, tmp_path):
    manifest = json.loads((JAFFLE / "manifest.json").read_text())
    manifest["nodes"]["model.jaffle_shop.orders"]["config"]["contract"] = {"enforced": True}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "orders.yaml").write_text("product: orders\nversion: 2.0.0\n")
    report = platform.lineage.import_dbt(str(path), contracts_dir=str(contracts))
    assert [p.rsplit("/", 1)[-1] for p in report["contracts"]] == ["orders.dbt.yaml"]
    assert (contracts / "orders.yaml").read_text() == "product: orders\nversion: 2.0.0\n"


def test_renaming_a_jaffle_shop_column_names_the_models_and_tests_that_break(platform):
    """From the compiled SQL of each model (through its SELECT * CTEs) and each generic test's column."""
    platform.lineage.import_dbt(str(JAFFLE / "manifest.json"), str(JAFFLE / "run_results.json"),
                                str(JAFFLE / "catalog.json"))

    def broken(column: str) -> set[str]:
        impact = platform.lineage.impact(f"duckdb://jaffle_shop/main.{column}")
        assert impact["unknown_use"] == []  # every reader's use of columns is known
        return {j["name"].split(".")[2] for j in impact["broken_jobs"]}

    # orders passes status through its CTE; customers reads stg_orders but never names status
    assert broken("stg_orders.status") == {
        "orders", "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned"}
    assert broken("stg_orders.order_date") == {"orders", "customers"}
    assert broken("stg_payments.payment_id") == {"not_null_stg_payments_payment_id", "unique_stg_payments_payment_id"}
    changed = {(c["dataset"].rsplit(".", 1)[-1], c["column"]) for c in
               platform.lineage.impact("duckdb://jaffle_shop/main.stg_payments.amount")["changed_columns"]}
    assert changed == {("orders", "amount"), ("orders", "credit_card_amount"), ("orders", "coupon_amount"),
                       ("orders", "bank_transfer_amount"), ("orders", "gift_card_amount"),
                       ("customers", "customer_lifetime_value")}


def test_with_the_warehouses_namespace_dbt_tables_meet_other_tools_events(platform):
    """Given as Airflow's events name the warehouse, dbt's customers table and the one an Airflow
    export reads are one node: the export is downstream of the dbt model in impact."""
    from tests.lineage.helpers import base_event

    report = platform.lineage.import_dbt(str(JAFFLE / "manifest.json"), namespace="postgresql://Warehouse.Example")
    assert report["dataset_namespace"] == "postgres://warehouse.example:5432"
    event = base_event()
    event["job"] = {"namespace": "airflow://prod", "name": "crm_export.upload", "facets": {}}
    event["inputs"] = [{"namespace": "postgres://warehouse.example:5432", "name": "jaffle_shop.main.customers",
                        "facets": {}, "inputFacets": {}}]
    event["outputs"] = []
    assert platform.lineage.ingest([event]).stored == 1
    graph = platform.lineage.graph()
    customers = "dataset:postgres://warehouse.example:5432:jaffle_shop.main.customers"
    assert graph.get(customers) is not None
    assert graph.parents[customers] == {"job:dbt://jaffle_shop:model.jaffle_shop.customers"}
    assert "job:airflow://prod:crm_export.upload" in graph.children[customers]
    impact = platform.lineage.impact("job:dbt://jaffle_shop:model.jaffle_shop.customers")
    assert "crm_export.upload" in json.dumps(impact)


@pytest.mark.parametrize("given", ["", "postgres://", "postgres://host/db", "two words"])
def test_a_namespace_that_is_not_one_is_refused_with_the_fix(platform, given):
    from headwater.errors import HeadwaterError

    with pytest.raises(HeadwaterError, match="not a dataset namespace") as raised:
        platform.lineage.import_dbt(str(JAFFLE / "manifest.json"), namespace=given)
    assert "postgres://db.example:5432" in raised.value.fix
