"""ODCS v3 round trip of the shared examples, DCS import, and lint against the standards' schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyarrow as pa
import pytest
from ruamel.yaml import YAML

from headwater.contracts.dcs import import_dcs
from headwater.contracts.lint import lint_file
from headwater.contracts.model import Contract
from headwater.contracts.odcs import export_odcs, import_odcs
from tests.contracts.helpers import CONTRACT

SHARED = Path("/work/shared/testdata/datacontracts")
THIRD = Path("/work/shared/testdata/third_party/datacontracts")
ODCS = sorted((SHARED / "odcs").glob("*.odcs.yaml"))


def _load(path):
    return YAML(typ="safe").load(path.read_text())


@pytest.mark.parametrize("path", ODCS, ids=[p.name for p in ODCS])
def test_odcs_round_trip_of_shared_examples(path):
    doc = _load(path)
    contract = import_odcs(doc)
    assert contract.columns, "every example has properties"
    back = export_odcs(Contract.model_validate_json(contract.model_dump_json()))
    assert back == json.loads(json.dumps(doc, default=str)) or back == doc


def test_odcs_import_maps_columns_keys_and_rules():
    c = import_odcs(_load(SHARED / "odcs/full-example.odcs.yaml"))
    assert [col.name for col in c.columns][:3] == ["transaction_reference_date", "rcvr_id", "rcvr_cntry_code"]
    assert c.primary_key.columns == ["rcvr_id"]
    assert c.column("transaction_reference_date").type == "date"
    assert [r.kind for r in c.column("rcvr_cntry_code").checks] == ["not_null"]
    assert c.column("rcvr_id").checks[0].references.product == "receivers"
    assert c.column("rcvr_id").pii  # classification: restricted
    fk = [r for r in c.rules if r.kind == "references"][0].references
    assert (fk.columns, fk.key) == (["rcvr_id", "rcvr_cntry_code"], ["id", "country_code"])


def test_odcs_edit_is_exported_and_the_rest_kept():
    doc = _load(SHARED / "odcs/full-example.odcs.yaml")
    c = import_odcs(doc)
    edited = c.model_copy(update={"version": "2.0.0", "columns": [
        col.model_copy(update={"nullable": False}) if col.name == "rcvr_id" else col for col in c.columns]})
    out = export_odcs(edited)
    assert out["version"] == "2.0.0" and out["servers"] == doc["servers"]
    props = {p["name"]: p for p in out["schema"][0]["properties"]}
    assert props["rcvr_id"]["required"] is True
    assert props["rcvr_id"]["businessName"] == "receiver id"  # unmapped keys survive
    assert props["transaction_reference_date"] == doc["schema"][0]["properties"][0]


def test_odcs_sql_quality_runs_as_a_headwater_rule():
    import duckdb

    c = import_odcs(_load(SHARED / "odcs/column-accuracy.odcs.yaml"))
    (rule,) = c.column("DataValue").checks
    con = duckdb.connect()
    con.register("batch", pa.table({"DataValue": [1.0, 600.0]}))
    assert con.sql(rule.sql).fetchall()[0][0] == 1
    con.unregister("batch")
    con.register("batch", pa.table({"DataValue": [1.0, 6.0]}))
    assert con.sql(rule.sql).fetchall()[0][0] == 0


def test_headwater_to_odcs_to_headwater_is_lossless_and_valid():
    import jsonschema

    native = Contract.model_validate(YAML(typ="safe").load(CONTRACT))
    doc = json.loads(json.dumps(export_odcs(native)))
    schema = json.loads((THIRD / "open-data-contract-standard/schema/odcs-json-schema-v3.1.0.json").read_text())
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc)) == []
    assert import_odcs(doc) == native
    edited = copy.deepcopy(doc)
    edited["schema"][0]["properties"][0]["required"] = False  # edited outside headwater: ODCS wins
    assert import_odcs(edited).column("order_id").nullable is True


def test_dcs_import_of_the_shared_example():
    doc = _load(SHARED / "dcs/orders-latest.datacontract.yaml")
    orders = import_dcs(doc, "orders")
    assert orders.version == "2.0.0" and orders.owner.team == "Checkout Team"
    assert orders.primary_key.columns == ["order_id"]
    email = orders.column("customer_email_address")
    assert email.pii and not email.nullable and email.checks[0].pattern
    assert orders.column("customer_id").checks[0].length.min == 10
    assert [r.kind for r in orders.rules] == ["sql", "sql"]
    items = import_dcs(doc, "line_items")
    assert items.primary_key.columns == ["order_id", "line_item_id"]
    assert items.column("order_id").checks[0].references.product == "orders"


def test_lint_agrees_with_the_reference_validation_of_232_files():
    results = json.loads((THIRD / "VALIDATION_RESULTS_jsonschema.json").read_text())
    compared = 0
    for rel, expected in results.items():
        v = expected["version"]
        if (expected["kind"] == "DCS" and not v.startswith("1.")) or (expected["kind"] == "ODCS" and not v.startswith("v3")):
            continue  # versions before the ones headwater reads
        if "import/json/product_" in rel:
            continue  # deeply nested fields make python-jsonschema take minutes (see docs/contracts.md)
        if any("datetime" in e or "True is not" in e or "False is not" in e for e in expected["errors"]):
            continue  # PyYAML typed a date or boolean there; headwater reads YAML scalars as written
        assert lint_file(THIRD / rel).valid is expected["valid"], rel
        compared += 1
    assert compared >= 200


def test_lint_headwater_contract_names_the_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("product: o\nversion: 1.0.0\ncolumns:\n  - {name: a, type: long, nulable: true}\n")
    report = lint_file(path)
    assert not report.valid and report.format == "headwater"
    assert report.problems[0].startswith("c.yaml:4: columns.0.nulable: unknown key")


def test_lint_odcs_problem_has_a_line():
    report = lint_file(SHARED / "odcs/column-completeness.odcs.yaml")
    assert not report.valid and report.problems == [
        "column-completeness.odcs.yaml:23: schema.0.properties.0.quality.0: 'rule' is a required property"]
