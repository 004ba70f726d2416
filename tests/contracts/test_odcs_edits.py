"""ODCS import picks the schema object asked for and its team; ODCS export of an edited contract
says what the contract now says (PII, keys, dropped columns) and keeps what the edit did not touch."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from headwater.contracts.interop import import_file
from headwater.contracts.model import Contract
from headwater.contracts.odcs import export_odcs, import_odcs

SHARED = Path("/work/shared/testdata/datacontracts")
FULL = SHARED / "odcs/full-example.odcs.yaml"
ODCS_31 = json.loads((SHARED / "odcs/odcs-json-schema-v3.1.0.json").read_text())


def _doc(path=FULL) -> dict:
    return YAML(typ="safe").load(path.read_text())


def _edit(contract: Contract, **columns) -> Contract:
    """``contract`` with column fields replaced: _edit(c, rcvr_id={"pii": False}, gone=None)."""
    data = contract.model_dump(mode="json", exclude_none=True)
    kept = []
    for col in data["columns"]:
        change = columns.get(col["name"], {})
        if change is not None:
            kept.append({**col, **change})
    data["columns"] = kept
    return Contract.model_validate(data)


def _props(doc: dict, index: int = 0) -> dict[str, dict]:
    return {p["name"]: p for p in doc["schema"][index]["properties"]}


def _valid_odcs(doc: dict) -> None:
    errors = list(jsonschema.Draft202012Validator(ODCS_31).iter_errors(json.loads(json.dumps(doc, default=str))))
    assert errors == [], [e.message for e in errors]


def test_the_requested_schema_object_names_the_product():
    c = import_odcs(_doc(), "receivers")
    assert c.product == "receivers" and [col.name for col in c.columns][:2] == ["id", "country_code"]
    assert c.primary_key.columns == ["id", "country_code"]
    assert import_odcs(_doc(), "tbl").product == "tbl"


def test_a_single_schema_object_is_named_after_the_document():
    assert import_odcs(_doc(SHARED / "odcs/table-column-description.odcs.yaml")).product == "my_quantum"


def test_without_a_choice_the_output_says_which_schema_object_was_taken(tmp_path):
    text = import_file(FULL, "odcs")
    first = text.splitlines()[0]
    assert first.startswith("# imported schema object 'tbl', the first of 2") and "receivers" in first
    assert "--product" in first and "product: tbl" in text
    assert not import_file(FULL, "odcs", "receivers").startswith("#")
    single = import_file(SHARED / "odcs/column-accuracy.odcs.yaml", "odcs")
    assert not single.startswith("#")


def test_the_team_name_is_the_owner():
    assert import_odcs(_doc(), "tbl").owner.team == "my-team"
    doc = _doc()
    del doc["team"]
    assert import_odcs(doc, "tbl").owner is None


def test_an_owner_edit_is_exported_as_the_team_name():
    c = import_odcs(_doc(), "tbl")
    out = export_odcs(c.model_copy(update={"owner": c.owner.model_copy(update={"team": "payments"})}))
    assert out["team"]["name"] == "payments" and out["team"]["members"] == _doc()["team"]["members"]


def test_pii_false_drops_a_restricted_classification():
    c = import_odcs(_doc(), "tbl")
    assert c.column("rcvr_id").pii
    out = export_odcs(_edit(c, rcvr_id={"pii": False}))
    assert "classification" not in _props(out)["rcvr_id"]
    assert import_odcs(out, "tbl").column("rcvr_id").pii is False
    out = export_odcs(_edit(c, rcvr_cntry_code={"pii": True}))  # public -> personal
    assert _props(out)["rcvr_cntry_code"]["classification"] == "restricted"


def test_a_dropped_column_leaves_the_schema_level_foreign_keys():
    c = import_odcs(_doc(), "tbl")
    data = c.model_dump(mode="json", exclude_none=True)
    data["columns"] = [col for col in data["columns"] if col["name"] != "rcvr_cntry_code"]
    data["rules"] = [r for r in data["rules"] if "references" not in r]  # the rule over it goes too
    out = export_odcs(Contract.model_validate(data))
    obj = out["schema"][0]
    assert "rcvr_cntry_code" not in _props(out)
    assert "relationships" not in obj  # the composite key over rcvr_id, rcvr_cntry_code is gone
    assert obj["quality"] == _doc()["schema"][0]["quality"]  # the row-count rule stays as written
    assert _props(out)["rcvr_id"]["relationships"] == _doc()["schema"][0]["properties"][1]["relationships"]
    _valid_odcs(out)


def test_a_foreign_key_over_a_dropped_column_is_dropped_even_if_its_rule_is_left():
    c = import_odcs(_doc(), "tbl")
    edited = c.model_copy(update={"columns": [col for col in c.columns if col.name != "rcvr_cntry_code"]})
    assert "relationships" not in export_odcs(edited)["schema"][0]


def test_primary_key_columns_are_required_in_a_native_export():
    native = Contract.model_validate({"product": "orders", "version": "1.0.0", "primary_key": ["id"],
                                      "columns": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}]})
    out = export_odcs(native)
    props = _props(out)
    assert props["id"]["required"] is True and props["id"]["primaryKey"] is True
    assert props["note"]["required"] is False
    _valid_odcs(out)
    assert import_odcs(out) == native


def test_a_native_composite_reference_becomes_a_schema_level_relationship():
    native = Contract.model_validate({
        "product": "lines", "version": "1.0.0",
        "columns": [{"name": "order_id", "type": "long"}, {"name": "country", "type": "string"}],
        "rules": [{"references": {"product": "orders", "columns": ["order_id", "country"], "key": ["id", "cc"]}}]})
    out = export_odcs(native)
    assert out["schema"][0]["relationships"] == [
        {"type": "foreignKey", "from": ["lines.order_id", "lines.country"], "to": ["orders.id", "orders.cc"]}]
    _valid_odcs(out)
    assert import_odcs(out) == native
    edited = copy.deepcopy(out)
    edited["schema"][0]["properties"][0]["description"] = "changed outside headwater"
    assert import_odcs(edited).rules == native.rules


def test_an_edit_keeps_the_physical_type_while_the_type_is_the_same():
    c = import_odcs(_doc(), "tbl")
    out = export_odcs(_edit(c, rcvr_id={"description": "new text"}))
    assert _props(out)["rcvr_id"]["physicalType"] == "varchar(18)"
    assert _props(out)["rcvr_id"]["description"] == "new text"
    out = export_odcs(_edit(c, rcvr_id={"type": "long"}))
    assert (_props(out)["rcvr_id"]["physicalType"], _props(out)["rcvr_id"]["logicalType"]) == ("long", "integer")


def test_an_edit_keeps_quality_entries_with_their_schedule_and_dimension():
    doc = _doc()
    c = import_odcs(doc, "tbl")
    data = c.model_dump(mode="json", exclude_none=True)
    data["rules"].append({"row_count": {"max": 5000000}, "severity": "warn"})
    for col in data["columns"]:
        if col["name"] == "rcvr_cntry_code":
            col["checks"].append({"accepted_values": ["DE", "FR"]})
    out = export_odcs(Contract.model_validate(data))
    table_quality = out["schema"][0]["quality"]
    assert table_quality[0] == doc["schema"][0]["quality"][0]  # schedule, dimension, method kept
    assert table_quality[1]["mustBeLessOrEqualTo"] == 5000000
    column_quality = _props(out)["rcvr_cntry_code"]["quality"]
    assert column_quality[0] == doc["schema"][0]["properties"][2]["quality"][0]  # customProperties kept
    assert column_quality[1]["arguments"] == {"validValues": ["DE", "FR"]}
    assert out["schema"][0]["relationships"] == doc["schema"][0]["relationships"]


def test_an_edit_keeps_quality_entries_headwater_cannot_run():
    path = SHARED / "odcs/column-custom.odcs.yaml"
    doc = _doc(path)
    c = import_odcs(doc)
    name = c.columns[0].name
    out = export_odcs(_edit(c, **{name: {"description": "edited"}}))
    assert _props(out)[name]["quality"] == doc["schema"][0]["properties"][0]["quality"]


@pytest.mark.parametrize("change,key,value", [
    ({"nullable": True, "unique": False}, "unique", None),
    ({"description": ""}, "description", None),
])
def test_an_edit_that_clears_a_property_key_removes_it(change, key, value):
    c = import_odcs(_doc(), "receivers")
    out = export_odcs(_edit(c, id=change))
    assert _props(out, 1)["id"].get(key) == value


def test_a_column_taken_out_of_the_primary_key_is_no_longer_marked():
    c = import_odcs(_doc(), "receivers")
    edited = c.model_copy(update={"primary_key": c.primary_key.model_copy(update={"columns": ["id"]})})
    props = _props(export_odcs(edited), 1)
    assert props["country_code"]["primaryKey"] is False and "primaryKeyPosition" not in props["country_code"]
    assert props["id"]["primaryKey"] is True and props["id"]["primaryKeyPosition"] == 1


@pytest.mark.parametrize("ext", [{"odcs": "not a document"}, {"odcs": {"schema": [{"name": "t"}]}, "odcs_schema": 3}],
                         ids=["not-a-mapping", "index-out-of-range"])
def test_a_damaged_kept_document_is_an_error_on_export(ext):
    from headwater.errors import HeadwaterError

    c = Contract.model_validate({"product": "t", "version": "1.0.0", "extensions": ext})
    with pytest.raises(HeadwaterError):
        export_odcs(c)
